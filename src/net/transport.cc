#include "net/transport.h"

#include "net/codec.h"
#include "paxos/limits.h"

namespace synod::net {
namespace {

constexpr int kPeerSendHighWater = 100000;  // Messages queued per peer before dropping.
constexpr int kReconnectMs = 100;

}  // namespace

std::string PeerRoutingId(NodeId id) { return "node-" + std::to_string(id); }

Result<std::unique_ptr<Transport>> Transport::Start(NodeId self, const ClusterSpec& spec) {
  const NodeAddress* me = spec.Find(self);
  if (me == nullptr) {
    return Status::InvalidArgument("node " + std::to_string(self) + " is not in the cluster spec");
  }
  std::unique_ptr<Transport> t(new Transport(self));
  try {
    t->router_.set(zmq::sockopt::linger, 0);
    t->router_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(limits::kFrameBytesMax));
    t->router_.set(zmq::sockopt::rcvhwm, 0);
    t->router_.set(zmq::sockopt::sndhwm, kPeerSendHighWater);
    t->router_.bind("tcp://" + me->host + ":" + std::to_string(me->port));
    for (const NodeAddress& a : spec.nodes) {
      if (a.id == self) continue;
      zmq::socket_t dealer(t->context_, zmq::socket_type::dealer);
      dealer.set(zmq::sockopt::linger, 0);
      dealer.set(zmq::sockopt::immediate, 1);
      dealer.set(zmq::sockopt::sndhwm, kPeerSendHighWater);
      dealer.set(zmq::sockopt::reconnect_ivl, kReconnectMs);
      dealer.set(zmq::sockopt::routing_id, PeerRoutingId(self));
      dealer.connect(a.Endpoint());
      t->peers_.emplace(a.id, std::move(dealer));
    }
  } catch (const zmq::error_t& e) {
    return Status::IoError("cannot listen on " + me->Endpoint() + ": " + e.what());
  }
  return t;
}

bool Transport::Accept(const std::string& routing_id, std::string_view frame, Inbound* in) {
  auto decoded = Decode(frame);
  if (!decoded.ok()) {
    last_invalid_ = decoded.status().ToString();
    return false;
  }
  const Envelope& e = decoded.value();
  // A peer's frame must come from that peer's socket; a client's only Invoke (checked by the
  // core) and it cannot claim to be a node.
  if (e.from != kClientEndpoint && routing_id != PeerRoutingId(e.from)) {
    last_invalid_ = "frame claims to be from node " + std::to_string(e.from);
    return false;
  }
  if (e.to != self_) {
    last_invalid_ = "frame addressed to node " + std::to_string(e.to);
    return false;
  }
  in->routing_id = routing_id;
  in->envelope = std::move(decoded.value());
  return true;
}

void Transport::Poll(int timeout_ms, size_t max_frames, std::vector<Inbound>* out) {
  zmq::pollitem_t item{router_.handle(), 0, ZMQ_POLLIN, 0};
  try {
    if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) <= 0) return;
  } catch (const zmq::error_t&) {
    return;  // EINTR: a signal (SIGTERM) arrived; the loop checks its stop flag.
  }
  for (size_t n = 0; n < max_frames; ++n) {
    zmq::message_t id, body;
    if (!router_.recv(id, zmq::recv_flags::dontwait)) return;
    ++stats_.frames_in;
    // A ROUTER hands over [routing id][frame]; anything else is malformed. Parts of one
    // message arrive together, so the non-blocking reads below cannot come up short.
    size_t parts = 1;
    for (bool more = id.more(); more; more = body.more(), ++parts) {
      if (!router_.recv(body, zmq::recv_flags::dontwait)) break;
    }
    Inbound in;
    if (parts != 2) {
      ++stats_.frames_invalid;
      last_invalid_ = "message of " + std::to_string(parts) + " parts; want [id][frame]";
    } else if (!Accept(id.to_string(), body.to_string_view(), &in)) {
      ++stats_.frames_invalid;
    } else {
      out->push_back(std::move(in));
    }
  }
}

void Transport::Send(const Envelope& envelope, const std::string& routing_id) {
  std::string frame = Encode(envelope);
  try {
    if (envelope.to == kClientEndpoint) {
      router_.send(zmq::buffer(routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      if (!router_.send(zmq::buffer(frame), zmq::send_flags::dontwait)) ++stats_.sends_dropped;
      return;
    }
    auto it = peers_.find(envelope.to);
    if (it == peers_.end() || !it->second.send(zmq::buffer(frame), zmq::send_flags::dontwait)) {
      ++stats_.sends_dropped;
    }
  } catch (const zmq::error_t&) {
    ++stats_.sends_dropped;  // EHOSTUNREACH and friends: the client or peer is gone.
  }
}

}  // namespace synod::net
