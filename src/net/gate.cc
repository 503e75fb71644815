#include "net/gate.h"

#include <cstring>

namespace synod::net {
namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
constexpr size_t kZapRequestParts = 7;  // RFC 27 with CURVE: ... mechanism, client key.

// Reads every part of one message without blocking; false when nothing is queued.
bool RecvAll(zmq::socket_t& socket, std::vector<zmq::message_t>* parts) {
  parts->clear();
  zmq::message_t part;
  if (!socket.recv(part, zmq::recv_flags::dontwait)) return false;
  bool more = part.more();
  parts->push_back(std::move(part));
  while (more && parts->size() < 64) {  // Parts of one message arrive together.
    zmq::message_t next;
    if (!socket.recv(next, zmq::recv_flags::dontwait)) break;
    more = next.more();
    parts->push_back(std::move(next));
  }
  return true;
}

}  // namespace

bool NoteOnce::First(const std::string& item) {
  if (seen_.size() >= kNotedMax || seen_.count(item)) return false;
  seen_.insert(item);
  return true;
}

Result<std::unique_ptr<ZapHandler>> ZapHandler::Start(zmq::context_t& context,
                                                      const TrustedKeys* trusted,
                                                      Rejections* rejections) {
  std::unique_ptr<ZapHandler> h(new ZapHandler(context, trusted, rejections));
  try {
    h->socket_.set(zmq::sockopt::linger, 0);
    h->socket_.bind(kZapEndpoint);
  } catch (const zmq::error_t& e) {
    return Status::IoError(std::string("cannot start the ZAP handler: ") + e.what());
  }
  return h;
}

void ZapHandler::Serve(std::vector<std::string>* notes) {
  std::vector<zmq::message_t> request;
  while (RecvAll(socket_, &request)) Answer(request, notes);
}

// RFC 27: [version "1.0"][request id][domain][address][routing id][mechanism][credentials...]
// -> [version][request id][status code][status text][user id][metadata].
void ZapHandler::Answer(const std::vector<zmq::message_t>& request,
                        std::vector<std::string>* notes) {
  std::string request_id, user_id, code = "400", text = "unknown key";
  if (request.size() >= 2) request_id = request[1].to_string();
  const bool well_formed = request.size() == kZapRequestParts &&
                           request[0].to_string_view() == "1.0" &&
                           request[5].to_string_view() == "CURVE" && request[6].size() == 32;
  if (well_formed) {
    char z85[kZ85KeyChars + 1];
    SYNOD_CHECK(zmq_z85_encode(z85, static_cast<const uint8_t*>(request[6].data()), 32));
    user_id = trusted_->IdentityOf(z85);
    if (!user_id.empty()) {
      code = "200";
      text = "OK";
    } else {
      ++rejections_->unknown_keys;
      if (noted_.First(z85)) {
        notes->push_back("refused a connection from " + request[3].to_string() +
                         " with the unknown CURVE key " + z85 +
                         " (each key is reported once; the count is in `synod status`)");
      }
    }
  } else {
    ++rejections_->unknown_keys;
    if (noted_.First("malformed")) notes->push_back("refused a malformed ZAP request");
  }
  try {
    const std::string reply[] = {"1.0", request_id, code, text, user_id, ""};
    for (size_t i = 0; i < 6; ++i) {
      socket_.send(zmq::buffer(reply[i]), i < 5 ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
  } catch (const zmq::error_t&) {
    // The REP socket is in a bad state only if we broke the protocol; nothing else to do.
  }
}

Result<std::unique_ptr<HandshakeMonitor>> HandshakeMonitor::Start(zmq::context_t& context,
                                                                  zmq::socket_t& watched,
                                                                  const std::string& name,
                                                                  const std::string& what,
                                                                  Rejections* rejections) {
  std::unique_ptr<HandshakeMonitor> m(new HandshakeMonitor(context, what, rejections));
  const std::string endpoint = "inproc://synod-monitor-" + name;
  const int events = ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
  if (zmq_socket_monitor(watched.handle(), endpoint.c_str(), events) != 0) {
    return Status::IoError("cannot monitor " + what + ": " + zmq_strerror(zmq_errno()));
  }
  try {
    m->socket_.set(zmq::sockopt::linger, 0);
    m->socket_.connect(endpoint);
  } catch (const zmq::error_t& e) {
    return Status::IoError("cannot monitor " + what + ": " + e.what());
  }
  return m;
}

// An event is [uint16 event, uint32 value][endpoint].
void HandshakeMonitor::Drain(std::vector<std::string>* notes) {
  std::vector<zmq::message_t> event;
  while (RecvAll(socket_, &event)) {
    if (event.size() != 2 || event[0].size() != 6) continue;
    uint16_t id = 0;
    uint32_t value = 0;
    std::memcpy(&id, event[0].data(), 2);
    std::memcpy(&value, static_cast<const char*>(event[0].data()) + 2, 4);
    ++rejections_->handshakes_failed;
    const bool mismatch = id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL &&
                          value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH;
    const std::string where = what_ + " " + event[1].to_string();
    if (noted_.First(where + (mismatch ? " mismatch" : " other"))) {
      notes->push_back(mismatch ? "no traffic with a peer or client at " + where +
                                      ": one side uses CURVE, the other plaintext (--insecure)"
                                : "a handshake failed at " + where);
    }
  }
}

}  // namespace synod::net
