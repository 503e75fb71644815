// MetricsServer: serves `GET /metrics` (Prometheus text format) over plain HTTP with
// cpp-httplib, on a thread of its own, so that a scrape never runs on (or waits for) the
// node's loop. The body comes from a callback that must be safe to call from that thread
// (NodeMetrics::Render). Any other path answers 404.
//
// Start binds the address before returning, so a taken port or a bad host is reported at once.
// The destructor stops the server and joins its thread. Not copyable; one owner.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "paxos/status.h"

namespace httplib {
class Server;
}

namespace synod::node {

// HOST:PORT as `--metrics-addr` takes it: a host name or IPv4 address and a port 1..65535.
// InvalidArgument naming what is wrong.
struct HostPort {
  std::string host;
  uint16_t port = 0;
};
Result<HostPort> ParseHostPort(std::string_view text);

class MetricsServer {
 public:
  static Result<std::unique_ptr<MetricsServer>> Start(const HostPort& address,
                                                      std::function<std::string()> render);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

 private:
  MetricsServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace synod::node
