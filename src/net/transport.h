// Transport: a node's ZeroMQ sockets.
//
// One ROUTER socket bound at the node's address receives everything: frames from peers and
// from clients. Each peer gets a DEALER socket that connects to the peer's ROUTER (ZeroMQ
// reconnects by itself); a peer DEALER announces itself with the routing id "node-<id>" so
// the receiver can check the envelope's `from`. Clients talk to the ROUTER with a DEALER of
// their own; replies go back through the ROUTER to the client's routing id.
//
// Nothing here blocks the node's loop: sends use ZMQ_DONTWAIT with a bounded high-water mark
// and ZMQ_IMMEDIATE (no queueing for a peer that is not connected), so a dead or slow peer
// costs dropped messages, counted, never a stall. Every inbound frame is size-limited
// (ZMQ_MAXMSGSIZE) and decoded by the verifying codec; a bad frame is dropped and counted.
//
// Owned by the node's loop thread; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "net/cluster_spec.h"
#include "paxos/message.h"

namespace synod::net {

struct TransportStats {
  uint64_t frames_in = 0;
  uint64_t frames_invalid = 0;  // Wrong frame count, failed verification, or spoofed sender.
  uint64_t sends_dropped = 0;   // Peer queue full or peer not connected.
};

class Transport {
 public:
  struct Inbound {
    std::string routing_id;  // Of the sender's socket; needed to answer a client.
    Envelope envelope;
  };

  // Binds the node's address and connects to every peer.
  static Result<std::unique_ptr<Transport>> Start(NodeId self, const ClusterSpec& spec);

  // Waits at most `timeout_ms` for the first frame, then takes every frame already queued, up
  // to `max_frames`. Invalid frames are dropped and counted.
  void Poll(int timeout_ms, size_t max_frames, std::vector<Inbound>* out);
  // To a peer node (envelope.to) or, when envelope.to == kClientEndpoint, to `routing_id`.
  void Send(const Envelope& envelope, const std::string& routing_id = "");

  const TransportStats& stats() const { return stats_; }
  const std::string& last_invalid_reason() const { return last_invalid_; }

 private:
  Transport(NodeId self) : self_(self), router_(context_, zmq::socket_type::router) {}
  bool Accept(const std::string& routing_id, std::string_view frame, Inbound* in);

  NodeId self_;
  zmq::context_t context_;
  zmq::socket_t router_;
  std::map<NodeId, zmq::socket_t> peers_;
  TransportStats stats_;
  std::string last_invalid_;
};

// The routing id a node's peer socket uses.
std::string PeerRoutingId(NodeId id);

}  // namespace synod::net
