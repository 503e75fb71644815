#include "client/client.h"

#include <chrono>
#include <limits>
#include <random>

#include "net/codec.h"
#include "paxos/limits.h"

namespace synod::client {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Client::Client(ClientOptions options) : options_(std::move(options)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Connect(ClientOptions options) {
  if (options.cluster.nodes.empty()) return Status::InvalidArgument("empty cluster spec");
  if (options.client_id == 0) {
    std::random_device rd;
    options.client_id = (uint64_t(rd()) << 32 | rd()) | 1;
  }
  std::unique_ptr<Client> c(new Client(std::move(options)));
  if (c->options_.context == nullptr) {
    c->own_context_ = std::make_unique<zmq::context_t>();
    c->options_.context = c->own_context_.get();
  }
  try {
    for (const net::NodeAddress& a : c->options_.cluster.nodes) {
      zmq::socket_t s(*c->options_.context, zmq::socket_type::dealer);
      s.set(zmq::sockopt::linger, 0);
      s.set(zmq::sockopt::reconnect_ivl, 100);
      if (Status st = net::ConfigureClient(s, c->options_.security, a.id); !st.ok()) return st;
      s.connect(a.Endpoint());
      c->sockets_.push_back(std::move(s));
      c->outbox_.emplace_back();
    }
  } catch (const zmq::error_t& e) {
    return Status::InvalidArgument(std::string("cannot connect: ") + e.what());
  }
  c->preferred_ = c->options_.client_id % c->sockets_.size();
  return c;
}

size_t Client::IndexOf(NodeId id) const {
  for (size_t i = 0; i < options_.cluster.nodes.size(); ++i) {
    if (options_.cluster.nodes[i].id == id) return i;
  }
  return options_.cluster.nodes.size();
}

void Client::SendTo(size_t node, const Envelope& envelope) {
  std::string frame = net::Encode(envelope);
  // Never blocks: a node that is not reachable just does not get it; the retry moves on.
  (void)sockets_[node].send(zmq::buffer(frame), zmq::send_flags::dontwait);
}

void Client::Resend(Pending& p, int64_t now_ms) {
  p.last_sent_ms = now_ms;
  outbox_[p.target].push_back(
      {kClientEndpoint, options_.cluster.nodes[p.target].id, InvokeMsg{p.command}});
}

void Client::FlushOutbox() {
  for (size_t node = 0; node < outbox_.size(); ++node) {
    if (outbox_[node].empty()) continue;
    for (const std::string& frame : net::EncodeFrames(outbox_[node], /*accepts_more=*/true)) {
      // Never blocks: a node that is not reachable just does not get it; the retry moves on.
      (void)sockets_[node].send(zmq::buffer(frame), zmq::send_flags::dontwait);
    }
    outbox_[node].clear();
  }
}

Result<uint64_t> Client::Submit(std::string payload) {
  if (payload.size() > limits::kPayloadBytesMax) {
    return Status::InvalidArgument("command of " + std::to_string(payload.size()) +
                                   " bytes exceeds the limit of " +
                                   std::to_string(limits::kPayloadBytesMax));
  }
  const uint64_t id = next_request_++;
  Pending& p = pending_[id];
  p.command = Command{options_.client_id, id, std::move(payload)};
  p.first_sent_ms = NowMs();
  p.target = preferred_;
  Resend(p, p.first_sent_ms);
  return id;
}

void Client::Receive(int wait_ms, std::vector<Envelope>* out) {
  std::vector<zmq::pollitem_t> items;
  for (auto& s : sockets_) items.push_back({s.handle(), 0, ZMQ_POLLIN, 0});
  try {
    if (zmq::poll(items.data(), items.size(), std::chrono::milliseconds(wait_ms)) <= 0) return;
  } catch (const zmq::error_t&) {
    return;  // EINTR.
  }
  // Everything already queued, a bounded number of frames per socket.
  constexpr int kFramesPerReceiveMax = 64;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!(items[i].revents & ZMQ_POLLIN)) continue;
    for (int n = 0; n < kFramesPerReceiveMax; ++n) {
      zmq::message_t msg;
      if (!sockets_[i].recv(msg, zmq::recv_flags::dontwait)) break;
      // Garbage from a node is ignored; the request is retried.
      (void)net::DecodeFrame(msg.to_string_view(), out);
    }
  }
}

Status Client::Poll(int wait_ms, std::vector<std::pair<uint64_t, std::string>>* done,
                    std::vector<uint64_t>* expired) {
  const int64_t deadline = NowMs() + wait_ms;
  const size_t done_before = done->size(), expired_before = expired ? expired->size() : 0;
  std::vector<Envelope> received;
  do {
    FlushOutbox();
    const int64_t now = NowMs();
    received.clear();
    Receive(static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(deadline - now, 20))),
            &received);
    for (Envelope& e : received) {
      auto* r = std::get_if<InvokedMsg>(&e.body);
      auto it = r ? pending_.find(r->request_id) : pending_.end();
      if (it != pending_.end() && r->client_id == options_.client_id) {
        if (r->leader_hint != 0 && IndexOf(r->leader_hint) < sockets_.size()) {
          preferred_ = IndexOf(r->leader_hint);
        }
        if (r->ok) {
          done->push_back({r->request_id, std::move(r->result)});
          pending_.erase(it);
        } else {
          it->second.target = preferred_;  // Not taken there: go where the hint says.
        }
      }
    }
    for (auto it = pending_.begin(); it != pending_.end();) {
      auto& [id, p] = *it;
      const int64_t t = NowMs();
      if (t - p.first_sent_ms > options_.timeout_ms) {
        if (expired == nullptr) {
          return Status::IoError("no answer from the cluster for request " + std::to_string(id) +
                                 " within " + std::to_string(options_.timeout_ms) + " ms");
        }
        expired->push_back(id);
        it = pending_.erase(it);
        continue;
      }
      if (t - p.last_sent_ms > options_.retry_ms) {
        p.target = (p.target + 1) % sockets_.size();
        Resend(p, t);
      }
      ++it;
    }
    // Back to the caller once something finished: a pipelining caller refills at once.
  } while (!pending_.empty() && NowMs() < deadline && done->size() == done_before &&
           (expired == nullptr || expired->size() == expired_before));
  FlushOutbox();  // Retries queued in the last pass.
  return Status::Ok();
}

Result<std::string> Client::Execute(std::string payload) {
  auto submitted = Submit(std::move(payload));
  if (!submitted.ok()) return submitted.status();
  const uint64_t id = submitted.value();
  std::vector<std::pair<uint64_t, std::string>> done;
  while (true) {
    if (Status s = Poll(100, &done); !s.ok()) {
      pending_.erase(id);
      return s;
    }
    for (auto& [rid, result] : done) {
      if (rid == id) return std::move(result);
    }
  }
}

Result<Envelope> Client::Ask(NodeId node, Body question, int timeout_ms,
                             const std::function<bool(const Body&)>& is_answer) {
  const size_t i = IndexOf(node);
  if (i >= sockets_.size()) return Status::InvalidArgument("no node " + std::to_string(node));
  // A late answer to an earlier question that timed out must not answer this one (a status
  // query has no id to match its reply by): drop whatever already waits on the socket.
  try {
    for (zmq::message_t stale; sockets_[i].recv(stale, zmq::recv_flags::dontwait);) {
    }
  } catch (const zmq::error_t&) {
  }
  SendTo(i, {kClientEndpoint, node, std::move(question)});
  const int64_t deadline = NowMs() + timeout_ms;
  zmq::pollitem_t item{sockets_[i].handle(), 0, ZMQ_POLLIN, 0};
  while (NowMs() < deadline) {
    try {
      if (zmq::poll(&item, 1, std::chrono::milliseconds(deadline - NowMs())) <= 0) break;
    } catch (const zmq::error_t&) {
      continue;  // EINTR.
    }
    zmq::message_t msg;
    if (!sockets_[i].recv(msg, zmq::recv_flags::dontwait)) continue;
    std::vector<Envelope> decoded;
    if (!net::DecodeFrame(msg.to_string_view(), &decoded).ok()) continue;
    for (Envelope& e : decoded) {
      if (is_answer(e.body)) return std::move(e);
    }
  }
  return Status::IoError("node " + std::to_string(node) + " at " +
                         options_.cluster.nodes[i].Endpoint() + " did not answer within " +
                         std::to_string(timeout_ms) + " ms");
}

Result<StatusReportMsg> Client::QueryStatus(NodeId node, bool check, int timeout_ms) {
  auto answer = Ask(node, StatusQueryMsg{check}, timeout_ms,
                    [](const Body& b) { return std::holds_alternative<StatusReportMsg>(b); });
  if (!answer.ok()) return answer.status();
  return std::get<StatusReportMsg>(std::move(answer.value().body));
}

Result<SnapshotChunkMsg> Client::FetchSnapshot(NodeId node, const SnapshotFetchMsg& fetch,
                                               int timeout_ms) {
  // A late answer to an earlier fetch has another (slot, offset): skipped.
  auto answer = Ask(node, fetch, timeout_ms, [&fetch](const Body& b) {
    const auto* c = std::get_if<SnapshotChunkMsg>(&b);
    // A request for the latest backup (offset = minimum slot) is answered at offset 0.
    const bool latest = fetch.slot == std::numeric_limits<Slot>::max();
    return c && c->offset == (latest ? 0 : fetch.offset) && (latest || c->slot == fetch.slot);
  });
  if (!answer.ok()) return answer.status();
  return std::get<SnapshotChunkMsg>(std::move(answer.value().body));
}

Result<LeaderTransferMsg> Client::TransferLeader(NodeId node, NodeId to, int timeout_ms) {
  auto answer = Ask(node, LeaderTransferMsg{to, false, 0}, timeout_ms,
                    [](const Body& b) { return std::holds_alternative<LeaderTransferMsg>(b); });
  if (!answer.ok()) return answer.status();
  return std::get<LeaderTransferMsg>(std::move(answer.value().body));
}

}  // namespace synod::client
