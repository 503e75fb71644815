// Client: a session with a Synod cluster.
//
// A session has a random 64-bit client id and numbers its requests 1, 2, 3, ...; a retry
// reuses the number, and the cluster's replicated session table answers it with the first
// result, so Execute() runs a command exactly once however many times it has to resend.
// Any node accepts a request (a follower forwards it to its leader); the client prefers the
// leader named in the last answer. A request unanswered for `retry_ms` is resent to the next
// node; after `timeout_ms` it fails with a clear error. Many requests may be in flight
// (Submit/Poll), each retried on its own; the Invokes queued between two Polls travel to a
// node in one frame, and the node answers those it answered in one loop pass in one frame.
//
// One DEALER socket per node (CURVE unless options.security says plaintext); not thread-safe (one
// thread per Client).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "net/cluster_spec.h"
#include "net/security.h"
#include "paxos/message.h"

namespace synod::client {

struct ClientOptions {
  net::ClusterSpec cluster;
  int timeout_ms = 10000;  // Give up on a request after this long.
  int retry_ms = 1000;     // Resend an unanswered request to another node after this long.
  uint64_t client_id = 0;  // 0: random.
  // Shared by many sessions of one process (one I/O thread instead of one each); not owned,
  // must outlive the Client. Null: the Client makes its own.
  zmq::context_t* context = nullptr;
  // CURVE: our key pair and every node's public key (node-<id>.pub in the trust dir); a node
  // that does not trust our key never answers. curve == false: plaintext.
  net::Security security;
};

class Client {
 public:
  static Result<std::unique_ptr<Client>> Connect(ClientOptions options);
  ~Client();

  // Runs one command (a ledger.fbs LedgerCommand) and returns its result bytes.
  Result<std::string> Execute(std::string payload);

  // Pipelining: Submit queues the command and returns the request id; Poll first sends what
  // is queued, one frame per node for all of it (wire.fbs Envelope.more), then waits up to
  // `wait_ms` for answers and appends (request id, result) pairs, returning early once one came; a
  // request that timed out comes back as a non-ok Status from Poll, naming it (it stays in flight),
  // or, when `expired` is given, is dropped and its id appended there (Poll then goes on with the
  // others). InvalidArgument when the payload exceeds limits::kPayloadBytesMax (nothing is sent).
  Result<uint64_t> Submit(std::string payload);
  Status Poll(int wait_ms, std::vector<std::pair<uint64_t, std::string>>* done,
              std::vector<uint64_t>* expired = nullptr);
  size_t in_flight() const { return pending_.size(); }

  // Asks one node directly for its status; fails when it does not answer in `timeout_ms`.
  Result<StatusReportMsg> QueryStatus(NodeId node, bool check, int timeout_ms);
  // Asks one node for a piece of a backup snapshot (node/backup_source.h has the protocol).
  Result<SnapshotChunkMsg> FetchSnapshot(NodeId node, const SnapshotFetchMsg& fetch,
                                         int timeout_ms);
  // Asks one node to hand its leadership to `to` (`synod leader transfer`); the answer says
  // whether it leads and started the transfer, and whom it follows otherwise.
  Result<LeaderTransferMsg> TransferLeader(NodeId node, NodeId to, int timeout_ms);

  uint64_t client_id() const { return options_.client_id; }
  const net::ClusterSpec& cluster() const { return options_.cluster; }

 private:
  struct Pending {
    Command command;
    int64_t first_sent_ms = 0;
    int64_t last_sent_ms = 0;
    size_t target = 0;  // Index into nodes.
  };
  explicit Client(ClientOptions options);
  void SendTo(size_t node, const Envelope& envelope);
  void Resend(Pending& p, int64_t now_ms);  // Queues it in outbox_.
  void FlushOutbox();
  // Waits up to `wait_ms` for frames and appends the envelopes of every frame queued by then.
  void Receive(int wait_ms, std::vector<Envelope>* out);
  size_t IndexOf(NodeId id) const;
  // Sends `question` to `node` and waits up to `timeout_ms` for a frame `is_answer` accepts.
  Result<Envelope> Ask(NodeId node, Body question, int timeout_ms,
                       const std::function<bool(const Body&)>& is_answer);

  ClientOptions options_;
  std::unique_ptr<zmq::context_t> own_context_;
  std::vector<zmq::socket_t> sockets_;         // Parallel to options_.cluster.nodes.
  std::vector<std::vector<Envelope>> outbox_;  // Invokes not sent yet; parallel to sockets_.
  size_t preferred_ = 0;
  uint64_t next_request_ = 1;
  std::map<uint64_t, Pending> pending_;
};

}  // namespace synod::client
