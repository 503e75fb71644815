// Gate: the security checks at a node's sockets, outside the message path.
//
// ZapHandler answers ZeroMQ's authentication requests (ZAP, RFC 27) for a node's CURVE server
// socket: a client public key in the trust dir is admitted with the user id "node-<id>" or
// "client:<name>" (which the transport then compares with the sender a frame claims to be);
// any other key is refused, so its connection never carries a message and gets no answer.
// HandshakeMonitor watches a socket for failed handshakes (a plaintext peer meeting a CURVE
// node, or the reverse: the mechanisms differ and nothing is exchanged).
//
// Both log nothing themselves: they count, and hand out one note per new key or endpoint
// (bounded), which the node logs. That keeps an attacker who retries every 100 ms from
// filling the log. Owned by the node's loop thread, as is the Transport; not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "net/rejections.h"
#include "net/security.h"

namespace synod::net {

// Remembers up to kNotedMax distinct items; says whether one is new.
class NoteOnce {
 public:
  static constexpr size_t kNotedMax = 256;
  bool First(const std::string& item);

 private:
  std::set<std::string> seen_;
};

class ZapHandler {
 public:
  // Binds "inproc://zeromq.zap.01" in `context`. REQUIRES: before any CURVE server socket of
  // that context binds; `trusted` and `rejections` outlive the handler.
  static Result<std::unique_ptr<ZapHandler>> Start(zmq::context_t& context,
                                                   const TrustedKeys* trusted,
                                                   Rejections* rejections);
  zmq::socket_t& socket() { return socket_; }
  // Answers every request queued on the socket; never blocks.
  void Serve(std::vector<std::string>* notes);

 private:
  ZapHandler(zmq::context_t& context, const TrustedKeys* trusted, Rejections* rejections)
      : socket_(context, zmq::socket_type::rep), trusted_(trusted), rejections_(rejections) {}
  void Answer(const std::vector<zmq::message_t>& request, std::vector<std::string>* notes);

  zmq::socket_t socket_;
  const TrustedKeys* trusted_;
  Rejections* rejections_;
  NoteOnce noted_;
};

class HandshakeMonitor {
 public:
  // Watches `watched` (named `what` in notes) through an inproc PAIR socket; `name` must be
  // unique in the context.
  static Result<std::unique_ptr<HandshakeMonitor>> Start(zmq::context_t& context,
                                                         zmq::socket_t& watched,
                                                         const std::string& name,
                                                         const std::string& what,
                                                         Rejections* rejections);
  zmq::socket_t& socket() { return socket_; }
  void Drain(std::vector<std::string>* notes);

 private:
  HandshakeMonitor(zmq::context_t& context, std::string what, Rejections* rejections)
      : socket_(context, zmq::socket_type::pair), what_(std::move(what)), rejections_(rejections) {}

  zmq::socket_t socket_;
  std::string what_;
  Rejections* rejections_;
  NoteOnce noted_;
};

}  // namespace synod::net
