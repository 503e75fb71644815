#include "node/metrics_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "net/cluster_spec.h"

namespace synod::node {

Result<HostPort> ParseHostPort(std::string_view text) {
  // The cluster spec's address rules, for one entry.
  auto spec = net::ClusterSpec::Parse("1=" + std::string(text));
  if (!spec.ok() || text.find(',') != std::string_view::npos) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not HOST:PORT (for example 127.0.0.1:9101)");
  }
  return HostPort{spec.value().nodes[0].host, spec.value().nodes[0].port};
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const HostPort& address,
                                                            std::function<std::string()> render) {
  std::unique_ptr<MetricsServer> m(new MetricsServer());
  m->server_ = std::make_unique<httplib::Server>();
  // One worker: scrapes are rare and must not compete with the node for the CPU.
  m->server_->new_task_queue = [] { return new httplib::ThreadPool(1); };
  // SO_REUSEADDR only: httplib's default also sets SO_REUSEPORT, which would let a second
  // node bind the same port silently instead of failing.
  m->server_->set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  m->server_->Get("/metrics",
                  [render = std::move(render)](const httplib::Request&, httplib::Response& res) {
                    res.set_content(render(), "text/plain; version=0.0.4; charset=utf-8");
                  });
  errno = 0;
  if (!m->server_->bind_to_port(address.host, address.port)) {
    const int err = errno;
    return Status::IoError("cannot serve metrics on " + address.host + ":" +
                           std::to_string(address.port) + ": " +
                           (err ? std::strerror(err) : "bind failed"));
  }
  httplib::Server* server = m->server_.get();
  m->thread_ = std::thread([server] { server->listen_after_bind(); });
  // stop() is a no-op until the listen loop runs; wait for it so the destructor cannot hang.
  while (!server->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  spdlog::info("serving metrics on http://{}:{}/metrics", address.host, address.port);
  return m;
}

MetricsServer::~MetricsServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace synod::node
