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
// Secure (the default, net/security.h): every socket speaks CURVE. The ROUTER is a CURVE
// server whose ZAP handler (net/gate.h) admits only trusted keys and tags each connection with
// the key's identity, and a frame that claims to be from node N must come from node N's key.
// Each peer DEALER encrypts to that peer's public key. Plaintext only with Security::curve
// false, and then on every node: the two never exchange a message.
//
// Owned by the node's loop thread; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "net/cluster_spec.h"
#include "net/gate.h"
#include "net/security.h"
#include "paxos/message.h"

namespace synod::net {

struct TransportStats {
  uint64_t frames_in = 0;
  uint64_t frames_invalid = 0;  // Wrong frame count, failed verification, or spoofed sender.
                                // By reason: Transport::rejections().
  uint64_t sends_dropped = 0;   // Peer queue full or peer not connected.
};

class Transport {
 public:
  struct Inbound {
    std::string routing_id;  // Of the sender's socket; needed to answer a client.
    Envelope envelope;
  };

  // Binds the node's address and connects to every peer.
  static Result<std::unique_ptr<Transport>> Start(NodeId self, const ClusterSpec& spec,
                                                  Security security);

  // The set of peers follows the cluster's configuration (Core, "Membership"). AddPeer
  // connects a DEALER to `address` (a new peer, or a peer that moved); with CURVE the trust dir
  // must hold node-<id>.pub (InvalidArgument otherwise; ReloadTrust first when keys may have
  // been added). RemovePeer closes the peer's socket (its queued messages are dropped).
  Status AddPeer(const NodeAddress& address);
  void RemovePeer(NodeId id);
  // Peers connected now, ascending.
  std::vector<NodeId> PeerIds() const;
  // The address a peer is connected to, or null.
  const NodeAddress* PeerAddress(NodeId id) const;
  // Rereads the trust dir (Security::trust_dir): keys the operator added since are admitted
  // from now on, keys removed are refused. No-op in plaintext. On error the old keys stay.
  Status ReloadTrust();

  // Waits at most `timeout_ms` for the first frame (less when the ZAP handler and handshake
  // monitors are due, see transport.cc), then takes every frame already queued, up to
  // `max_frames`, and stops once `out` holds `max_frames` envelopes (a frame may carry
  // several). Invalid frames are dropped and
  // counted. Sends the queued client replies first (FlushClients). The wait also ends when
  // `wake_fd` (a file descriptor of the caller's, e.g. an eventfd; -1 for none) is readable;
  // Poll does not read it.
  void Poll(int timeout_ms, size_t max_frames, std::vector<Inbound>* out, int wake_fd = -1);
  // To a peer node (envelope.to) or, when envelope.to == kClientEndpoint, to `routing_id`.
  // A reply (Invoked) to a client that said accepts_more waits for FlushClients, which the
  // next Poll calls first: every reply of one loop pass to one connection leaves in one frame
  // (Envelope.more). Other clients get one envelope per frame, at once.
  void Send(const Envelope& envelope, const std::string& routing_id = "");
  void Send(Envelope&& envelope, const std::string& routing_id = "");
  // Sends the client replies queued since the last call, one frame per connection (more when
  // they exceed limits::kEnvelopesPerFrameMax or kCoalescedBytesMax).
  void FlushClients();

  const TransportStats& stats() const { return stats_; }
  const std::string& last_invalid_reason() const { return last_invalid_; }
  // What was turned away, by reason; the node adds the reasons it checks itself.
  Rejections& rejections() { return rejections_; }
  const Rejections& rejections() const { return rejections_; }
  // Security events worth one log line each (the first refusal of each unknown key, the first
  // plaintext/CURVE mismatch per endpoint), taken since the last call.
  std::vector<std::string> TakeSecurityNotes() { return std::move(notes_); }

 private:
  Transport(NodeId self, Security security)
      : self_(self), security_(std::move(security)), router_(context_, zmq::socket_type::router) {}
  Status Open(const ClusterSpec& spec);
  // Decodes a frame and checks each envelope's sender and recipient; appends them all to
  // `out`, or none (and counts the frame as rejected).
  bool Accept(const std::string& routing_id, const zmq::message_t& body, std::vector<Inbound>* out);
  void SendFrame(const std::string& frame, NodeId to, const std::string& routing_id);
  bool Coalesced(const Envelope& envelope, const std::string& routing_id) const;
  void Reject(uint64_t* counter, std::string reason);
  void ServeGate();

  NodeId self_;
  Security security_;
  zmq::context_t context_;
  Rejections rejections_;
  std::vector<std::string> notes_;
  // Sockets after the context: they close before it is destroyed.
  std::unique_ptr<ZapHandler> zap_;  // Secure only; bound before the ROUTER.
  zmq::socket_t router_;
  struct Peer {
    NodeAddress address;
    zmq::socket_t dealer;
    std::unique_ptr<HandshakeMonitor> monitor;  // Destroyed before the socket it watches.
  };
  std::map<NodeId, Peer> peers_;
  std::unique_ptr<HandshakeMonitor> router_monitor_;
  uint64_t monitors_started_ = 0;  // Names each monitor's inproc endpoint uniquely.
  int64_t gate_due_ms_ = 0;        // Steady-clock ms when Poll next serves the gate (see Poll).
  TransportStats stats_;
  std::string last_invalid_;
  // Client replies not sent yet, by routing id. Bounded by what one loop pass answers (the
  // node's waiting and read lists, limits::kPendingRequestsMax each).
  std::map<std::string, std::vector<Envelope>> client_out_;
  // Client connections whose frames said accepts_more. At most limits::kSessionsMax.
  std::set<std::string> coalescing_;
};

// The routing id a node's peer socket uses.
std::string PeerRoutingId(NodeId id);

}  // namespace synod::net
