// TestCluster: real `synod node` processes on 127.0.0.1 for the integration tests.
//
// It picks free ports below 32768 (bind-tested, and reserved against the other test processes
// of this suite by binding the abstract Unix socket "synod-integ-port-<port>"), makes one temp dir
// with a data dir per node, starts nodes with fork/exec of the synod binary (SYNOD_BIN, set by
// CMake), and can SIGKILL, SIGTERM, restart and wipe each of them. It also runs `synod` CLI
// commands, capturing stdout, stderr, the exit code and the wall time.
//
// Cleanup is by pid and unconditional: the destructor SIGKILLs and reaps every node it started
// and removes the temp dir, also when a test assertion failed. Every child also has
// PR_SET_PDEATHSIG = SIGKILL, so a test process that dies (ctest timeout) takes its nodes along.
// On failure the destructor prints the tail of every node's log.
//
// Secure by default: the constructor makes CURVE keys for every node and for one client in
// dir()/keys (net/security.h), starts nodes with --key/--trust, and gives its clients and CLI
// runs the client key; ClusterOptions::insecure runs everything with --insecure instead.
//
// Not thread-safe; one per test.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "client/client.h"
#include "net/cluster_spec.h"
#include "net/security.h"
#include "paxos/message.h"

namespace synod::integration {

using json = nlohmann::json;

// The outcome of one `synod ...` run.
struct CliResult {
  int exit_code = -1;  // -1: killed at the harness timeout.
  std::string out;
  std::string err;
  double seconds = 0;
  // stdout parsed as one JSON object per line (lines that are not JSON are skipped).
  std::vector<json> Json() const;
  json First() const;            // The first JSON line, or null.
  std::string Describe() const;  // For assertion messages.
};

// Runs the synod binary with `args` (no implicit flags), killing it after `kill_after_ms`.
// `env` entries are NAME=VALUE added to a clean environment (PATH, HOME=temp, SYNOD_HOME=temp).
CliResult RunSynod(const std::vector<std::string>& args, int kill_after_ms = 60000,
                   const std::vector<std::string>& env = {});

// Free TCP ports on 127.0.0.1 below 32768, held until the PortLease is destroyed.
class PortLease {
 public:
  // `consecutive`: port(i) == port(0) + i (for `synod local up --port`).
  explicit PortLease(size_t count, bool consecutive = false);
  ~PortLease();
  PortLease(const PortLease&) = delete;
  PortLease& operator=(const PortLease&) = delete;
  uint16_t port(size_t i) const { return ports_[i]; }
  size_t size() const { return ports_.size(); }

 private:
  std::vector<uint16_t> ports_;
  std::vector<int> lock_fds_;
};

struct ClusterOptions {
  size_t nodes = 3;
  int tick_ms = 5;
  uint64_t snapshot_every = 2000;
  std::string log_level = "info";
  bool metrics = false;   // Each node also serves /metrics (--metrics-addr) on a leased port.
  bool insecure = false;  // Plaintext everywhere (--insecure) instead of CURVE.
  // NAME=VALUE entries added to every node's environment (e.g. SYNOD_TEST_PLANT).
  std::vector<std::string> env;
  // 0: every node listens on 127.0.0.1. Else node i on 127.0.0.(host_base + i), for tests
  // that tell nodes apart by address (partitions, inside a network namespace).
  int host_base = 0;
  // 0: nodes run as the test's user. Else node i runs as uid (uid_base + i) and owns its dir
  // (REQUIRES root), so that iptables' owner match can tell its packets apart.
  unsigned uid_base = 0;
};

class TestCluster {
 public:
  explicit TestCluster(ClusterOptions options = {});
  ~TestCluster();
  TestCluster(const TestCluster&) = delete;
  TestCluster& operator=(const TestCluster&) = delete;

  const std::string& spec() const { return spec_text_; }
  const net::ClusterSpec& cluster() const { return spec_; }
  std::vector<NodeId> ids() const { return spec_.Ids(); }
  // A spec of only some of the members (for a client that may talk to only them).
  std::string SpecOf(const std::vector<NodeId>& ids) const;
  std::string dir() const { return dir_; }
  std::string DataDir(NodeId id) const;
  std::string LogPath(NodeId id) const;  // The node's stdout + stderr.
  // The node's --metrics-addr port. REQUIRES: options.metrics.
  uint16_t MetricsPort(NodeId id) const;

  // The members nodes are told of from now on (membership tests): a node starts with
  // `--cluster` = these plus itself, and Cli() passes these. Default (empty): every node.
  void UseMembers(std::vector<NodeId> ids) { members_ = std::move(ids); }
  // The spec of the members in use (UseMembers), or of every node.
  std::string MemberSpec() const { return members_.empty() ? spec_text_ : SpecOf(members_); }

  void StartAll();
  void Start(NodeId id);
  // Starts node `id` with `security_args` in place of its usual --key/--trust (or --insecure).
  void StartWith(NodeId id, const std::vector<std::string>& security_args);
  // The key dir: node-<id>.key/.pub and client.key/.pub (empty when insecure).
  std::string KeyDir() const { return options_.insecure ? "" : dir_ + "/keys"; }
  // The key dir node `id` reads (its own copy when it runs as its own uid).
  std::string NodeKeyDir(NodeId id) const;
  // The security flags of node `id`, and of a client (for RunSynod).
  std::vector<std::string> NodeSecurityArgs(NodeId id) const;
  std::vector<std::string> ClientSecurityArgs() const;
  const net::Security& client_security() const { return client_security_; }
  // Sends `signal` and reaps the process (SIGTERM: waits up to 10 s, then SIGKILL).
  void Kill(NodeId id, int signal = SIGKILL);
  void Stop(NodeId id) { Kill(id, SIGTERM); }
  void Wipe(NodeId id);  // REQUIRES: node stopped.
  bool Running(NodeId id);
  pid_t Pid(NodeId id) const;

  // Asks one node for its status over the client protocol.
  std::optional<StatusReportMsg> Status(NodeId id, int timeout_ms = 500);
  // Waits until every node of `ids` (default: all running) names the same leader, which itself
  // reports role "leader". Returns 0 at the deadline.
  NodeId WaitForLeader(int timeout_ms, std::vector<NodeId> ids = {});
  // Waits until every node of `ids` reports the same applied slot and state hash, with nothing
  // decided left to apply. Returns false at the deadline.
  bool WaitForConvergence(int timeout_ms, std::vector<NodeId> ids = {});
  std::string DescribeStatus(std::vector<NodeId> ids = {});

  // A client library session with this cluster (or with `ids` only).
  std::unique_ptr<client::Client> NewClient(int timeout_ms = 10000, int retry_ms = 300,
                                            std::vector<NodeId> ids = {});
  // `synod ARGS --cluster SPEC` (MemberSpec()) with the client's security flags,
  // killed after `kill_after_ms`.
  CliResult Cli(std::vector<std::string> args, int kill_after_ms = 60000);

 private:
  std::vector<NodeId> RunningIds();

  ClusterOptions options_;
  PortLease ports_;
  std::string dir_;
  net::ClusterSpec spec_;
  std::string spec_text_;
  std::map<NodeId, pid_t> pids_;
  std::vector<NodeId> members_;  // UseMembers; empty: every node.
  net::Security client_security_;
  std::unique_ptr<client::Client> status_client_;
};

// Milliseconds since `start`.
inline double MsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace synod::integration
