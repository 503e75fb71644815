#include "net/transport.h"

#include <algorithm>
#include <chrono>

#include "net/codec.h"
#include "paxos/check.h"
#include "paxos/limits.h"

namespace synod::net {
namespace {

constexpr int kPeerSendHighWater = 100000;  // Messages queued per peer before dropping.
constexpr int kReconnectMs = 100;
// How often Poll serves the ZAP handler and the handshake monitors (see Poll).
constexpr int64_t kGateServeMs = 5;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string PeerRoutingId(NodeId id) { return "node-" + std::to_string(id); }

Result<std::unique_ptr<Transport>> Transport::Start(NodeId self, const ClusterSpec& spec,
                                                    Security security) {
  const NodeAddress* me = spec.Find(self);
  if (me == nullptr) {
    return Status::InvalidArgument("node " + std::to_string(self) + " is not in the cluster spec");
  }
  std::unique_ptr<Transport> t(new Transport(self, std::move(security)));
  if (Status s = t->Open(spec); !s.ok()) return s;
  return t;
}

Status Transport::Open(const ClusterSpec& spec) {
  const NodeAddress* me = spec.Find(self_);
  if (security_.curve) {
    // The handler must be bound before the CURVE server, or ZeroMQ admits without asking.
    auto zap = ZapHandler::Start(context_, &security_.trusted, &rejections_);
    if (!zap.ok()) return zap.status();
    zap_ = std::move(zap.value());
  }
  try {
    router_.set(zmq::sockopt::linger, 0);
    router_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(limits::kFrameBytesMax));
    router_.set(zmq::sockopt::rcvhwm, 0);
    router_.set(zmq::sockopt::sndhwm, kPeerSendHighWater);
    ConfigureServer(router_, security_);
    router_.bind("tcp://" + me->host + ":" + std::to_string(me->port));
  } catch (const zmq::error_t& e) {
    return Status::IoError("cannot listen on " + me->Endpoint() + ": " + e.what());
  }
  auto router_monitor =
      HandshakeMonitor::Start(context_, router_, "router", "listening on", &rejections_);
  if (!router_monitor.ok()) return router_monitor.status();
  router_monitor_ = std::move(router_monitor.value());
  for (const NodeAddress& a : spec.nodes) {
    if (a.id == self_) continue;
    if (Status s = AddPeer(a); !s.ok()) return s;
  }
  return Status::Ok();
}

Status Transport::AddPeer(const NodeAddress& a) {
  SYNOD_CHECK(a.id != self_);
  auto existing = peers_.find(a.id);
  if (existing != peers_.end()) {
    if (existing->second.address.Endpoint() == a.Endpoint()) return Status::Ok();
    RemovePeer(a.id);  // The peer moved: connect to its new address.
  }
  zmq::socket_t dealer(context_, zmq::socket_type::dealer);
  try {
    dealer.set(zmq::sockopt::linger, 0);
    dealer.set(zmq::sockopt::immediate, 1);
    dealer.set(zmq::sockopt::sndhwm, kPeerSendHighWater);
    dealer.set(zmq::sockopt::reconnect_ivl, kReconnectMs);
    dealer.set(zmq::sockopt::routing_id, PeerRoutingId(self_));
    if (Status s = ConfigureClient(dealer, security_, a.id); !s.ok()) return s;
    dealer.connect(a.Endpoint());
  } catch (const zmq::error_t& e) {
    return Status::IoError("cannot connect to node " + std::to_string(a.id) + " at " +
                           a.Endpoint() + ": " + e.what());
  }
  auto monitor = HandshakeMonitor::Start(
      context_, dealer, "peer-" + std::to_string(a.id) + "-" + std::to_string(++monitors_started_),
      "node " + std::to_string(a.id) + " at", &rejections_);
  if (!monitor.ok()) return monitor.status();
  peers_.emplace(a.id, Peer{a, std::move(dealer), std::move(monitor.value())});
  return Status::Ok();
}

void Transport::RemovePeer(NodeId id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  zmq_socket_monitor(it->second.dealer.handle(), nullptr, 0);  // Stop the events first.
  peers_.erase(it);
}

std::vector<NodeId> Transport::PeerIds() const {
  std::vector<NodeId> ids;
  for (const auto& [id, peer] : peers_) ids.push_back(id);
  return ids;
}

const NodeAddress* Transport::PeerAddress(NodeId id) const {
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : &it->second.address;
}

Status Transport::ReloadTrust() {
  if (!security_.curve) return Status::Ok();
  auto trusted = ReadTrustDir(security_.trust_dir);
  if (!trusted.ok()) return trusted.status();
  security_.trusted = std::move(trusted.value());  // In place: the ZAP handler points at it.
  return Status::Ok();
}

void Transport::Reject(uint64_t* counter, std::string reason) {
  ++*counter;
  ++stats_.frames_invalid;
  last_invalid_ = std::move(reason);
}

bool Transport::Accept(const std::string& routing_id, const zmq::message_t& body,
                       std::vector<Inbound>* out) {
  std::vector<Envelope> envelopes;
  bool accepts_more = false;
  if (Status s = DecodeFrame(body.to_string_view(), &envelopes, &accepts_more); !s.ok()) {
    Reject(&rejections_.frames_malformed, s.ToString());
    return false;
  }
  // A peer's frame must come from that peer's socket and, with CURVE, from that peer's key
  // (the ZAP handler set the connection's user id); a client's only Invoke (checked by the
  // core) and it cannot claim to be a node. One bad envelope turns the whole frame away.
  const char* user = security_.curve ? zmq_msg_gets(body.handle(), "User-Id") : nullptr;
  for (const Envelope& e : envelopes) {
    if (e.from != kClientEndpoint &&
        (routing_id != PeerRoutingId(e.from) ||
         (security_.curve && (user == nullptr || PeerRoutingId(e.from) != user)))) {
      Reject(&rejections_.sender_mismatch, "frame claims to be from node " +
                                               std::to_string(e.from) + " (connection of " +
                                               (user ? std::string(user) : routing_id) + ")");
      return false;
    }
    if (e.to != self_) {
      Reject(&rejections_.wrong_recipient, "frame addressed to node " + std::to_string(e.to));
      return false;
    }
  }
  if (accepts_more && !coalescing_.contains(routing_id)) {
    // Bounded: forgetting every connection only costs them single-envelope replies until
    // their next frame.
    if (coalescing_.size() >= limits::kSessionsMax) coalescing_.clear();
    coalescing_.insert(routing_id);
  }
  for (Envelope& e : envelopes) out->push_back({routing_id, std::move(e)});
  return true;
}

void Transport::ServeGate() {
  if (zap_) zap_->Serve(&notes_);
  if (router_monitor_) router_monitor_->Drain(&notes_);
  for (auto& [id, peer] : peers_) peer.monitor->Drain(&notes_);
  if (notes_.size() > NoteOnce::kNotedMax) notes_.resize(NoteOnce::kNotedMax);
}

// The loop waits on the ROUTER alone. Each socket in a zmq_poll set costs two system calls
// (a look at its command mailbox) before and again after every wait, and every loop pass
// waits once: with the ZAP handler and the monitors in the set a pass made about twenty, the
// largest CPU cost of a one-client request after the fsync and the context switches. The
// gate's sockets are drained every kGateServeMs instead (the wait never runs past that), so a
// CURVE handshake may take up to that much longer; nothing else waits on them.
void Transport::Poll(int timeout_ms, size_t max_frames, std::vector<Inbound>* out, int wake_fd) {
  FlushClients();  // What the last loop pass answered leaves before we wait.
  int64_t now = NowMs();
  if (now >= gate_due_ms_) {
    ServeGate();
    gate_due_ms_ = now + kGateServeMs;
  }
  const int64_t wait_ms = std::clamp<int64_t>(gate_due_ms_ - now, 0, timeout_ms);
  // A plain file descriptor costs no mailbox look (it is only in the poll(2) set).
  zmq::pollitem_t items[2] = {{router_.handle(), 0, ZMQ_POLLIN, 0},
                              {nullptr, wake_fd, ZMQ_POLLIN, 0}};
  try {
    if (zmq::poll(items, wake_fd >= 0 ? 2 : 1, std::chrono::milliseconds(wait_ms)) <= 0) return;
    if ((items[0].revents & ZMQ_POLLIN) == 0) return;  // Only the caller's fd is ready.
  } catch (const zmq::error_t&) {
    return;  // EINTR: a signal (SIGTERM) arrived; the loop checks its stop flag.
  }
  // Bounded in frames and in envelopes (a frame may carry up to kEnvelopesPerFrameMax).
  for (size_t n = 0; n < max_frames && out->size() < max_frames; ++n) {
    zmq::message_t id, body;
    if (!router_.recv(id, zmq::recv_flags::dontwait)) return;
    ++stats_.frames_in;
    // A ROUTER hands over [routing id][frame]; anything else is malformed. Parts of one
    // message arrive together, so the non-blocking reads below cannot come up short.
    size_t parts = 1;
    for (bool more = id.more(); more; more = body.more(), ++parts) {
      if (!router_.recv(body, zmq::recv_flags::dontwait)) break;
    }
    if (parts != 2) {
      Reject(&rejections_.frames_malformed,
             "message of " + std::to_string(parts) + " parts; want [id][frame]");
    } else {
      (void)Accept(id.to_string(), body, out);
    }
  }
}

bool Transport::Coalesced(const Envelope& e, const std::string& routing_id) const {
  return e.to == kClientEndpoint && std::holds_alternative<InvokedMsg>(e.body) &&
         coalescing_.contains(routing_id);
}

void Transport::Send(const Envelope& envelope, const std::string& routing_id) {
  if (Coalesced(envelope, routing_id)) return client_out_[routing_id].push_back(envelope);
  SendFrame(Encode(envelope), envelope.to, routing_id);
}

void Transport::Send(Envelope&& envelope, const std::string& routing_id) {
  if (Coalesced(envelope, routing_id)) {
    return client_out_[routing_id].push_back(std::move(envelope));
  }
  SendFrame(Encode(envelope), envelope.to, routing_id);
}

void Transport::FlushClients() {
  for (auto& [routing_id, replies] : client_out_) {
    for (const std::string& frame : EncodeFrames(replies)) {
      SendFrame(frame, kClientEndpoint, routing_id);
    }
  }
  client_out_.clear();
}

void Transport::SendFrame(const std::string& frame, NodeId to, const std::string& routing_id) {
  try {
    if (to == kClientEndpoint) {
      router_.send(zmq::buffer(routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      if (!router_.send(zmq::buffer(frame), zmq::send_flags::dontwait)) ++stats_.sends_dropped;
      return;
    }
    auto it = peers_.find(to);
    if (it == peers_.end() ||
        !it->second.dealer.send(zmq::buffer(frame), zmq::send_flags::dontwait)) {
      ++stats_.sends_dropped;
    }
  } catch (const zmq::error_t&) {
    ++stats_.sends_dropped;  // EHOSTUNREACH and friends: the client or peer is gone.
  }
}

}  // namespace synod::net
