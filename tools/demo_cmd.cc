// `synod demo`: the main job on an embedded local cluster. Starts 3 nodes in a temp dir,
// creates and funds accounts, moves money with concurrent clients plus some KV traffic, kills
// the leader with SIGKILL part way and restarts it, runs the check, prints a short summary and
// stops everything it started.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <thread>

#include "client/client.h"
#include "ledger/client.h"
#include "tools/commands.h"
#include "tools/common.h"
#include "tools/load_gen.h"
#include "tools/process.h"

namespace synod::tools {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct DemoFlags {
  uint64_t accounts = 1000;
  double seconds = 6;
  uint32_t clients = 4;
  uint32_t batch = 100;
  bool keep = false;
  bool insecure = false;
};

class DemoCluster {
 public:
  ~DemoCluster() {
    for (pid_t p : pids_) StopChild(p, 3000);
    if (!keep_ && !dir_.empty()) fs::remove_all(dir_);
  }
  // Secure unless `insecure`: keys for every node and the client in DIR/keys.
  Status Start(size_t n, bool keep, bool insecure) {
    keep_ = keep;
    char tmpl[] = "/tmp/synod-demo-XXXXXX";
    if (!::mkdtemp(tmpl)) return Status::IoError("cannot make a temp dir");
    dir_ = tmpl;
    if (insecure) {
      security_flags_.insecure = true;
    } else {
      std::vector<NodeId> ids;
      for (NodeId id = 1; id <= n; ++id) ids.push_back(id);
      if (Status s = EnsureLocalKeys(keys_dir(), ids); !s.ok()) return s;
      security_flags_.key = keys_dir() + "/" + kClientKeyName + net::kSecretKeySuffix;
      security_flags_.trust = keys_dir();
    }
    auto security =
        net::LoadSecurity(security_flags_.insecure, security_flags_.key, security_flags_.trust);
    if (!security.ok()) return security.status();
    security_ = std::move(security.value());
    auto ports = FreePorts(n);
    if (!ports.ok()) return ports.status();
    std::string text;
    for (size_t i = 0; i < n; ++i) {
      text +=
          (i ? "," : "") + std::to_string(i + 1) + "=127.0.0.1:" + std::to_string(ports.value()[i]);
    }
    spec_ = net::ClusterSpec::Parse(text).value();
    pids_.assign(n, 0);
    for (NodeId id = 1; id <= n; ++id) {
      if (Status s = StartNode(id); !s.ok()) return s;
    }
    return Status::Ok();
  }
  Status StartNode(NodeId id) {
    const std::string data = dir_ + "/n" + std::to_string(id);
    std::vector<std::string> args = {"node",      "--id",           std::to_string(id),
                                     "--cluster", spec_.ToString(), "--data",
                                     data,        "--log-level",    "warn"};
    if (security_.curve) {
      for (std::string& a : NodeSecurityArgs(keys_dir(), id)) args.push_back(std::move(a));
    } else {
      args.push_back("--insecure");
    }
    auto pid = SpawnSelf(args, dir_ + "/n" + std::to_string(id) + ".log");
    if (!pid.ok()) return pid.status();
    pids_[id - 1] = pid.value();
    return Status::Ok();
  }
  void Kill(NodeId id) {
    KillChild(pids_[id - 1]);
    pids_[id - 1] = 0;
  }
  // The node every reachable node names as leader, or 0 while they do not agree.
  NodeId Leader(client::Client& c) {
    NodeId leader = 0;
    for (const auto& a : spec_.nodes) {
      auto r = c.QueryStatus(a.id, false, 300);
      if (r.ok() && r.value().role == "leader") leader = a.id;
    }
    return leader;
  }
  NodeId WaitForLeader(client::Client& c, double seconds, NodeId not_this = 0) {
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < end) {
      NodeId l = Leader(c);
      if (l != 0 && l != not_this) return l;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return 0;
  }
  void WaitForConvergence(client::Client& c, double seconds) {
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < end) {
      std::set<Slot> applied;
      size_t up = 0;
      for (const auto& a : spec_.nodes) {
        auto r = c.QueryStatus(a.id, false, 300);
        if (r.ok()) ++up, applied.insert(r.value().applied_slot);
      }
      if (up == spec_.nodes.size() && applied.size() == 1) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  const net::ClusterSpec& spec() const { return spec_; }
  const std::string& dir() const { return dir_; }
  std::string keys_dir() const { return dir_ + "/keys"; }
  const net::Security& security() const { return security_; }
  const SecurityFlags& security_flags() const { return security_flags_; }

 private:
  std::string dir_;
  SecurityFlags security_flags_;
  net::Security security_;
  net::ClusterSpec spec_;
  std::vector<pid_t> pids_;
  bool keep_ = false;
};

int KvTraffic(client::Client& c, int n) {
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    const std::string key = "demo/" + std::to_string(i);
    auto put = c.Execute(ledger::EncodeKvPut(key, "value-" + std::to_string(i)));
    auto get = c.Execute(ledger::EncodeKvGet(key));
    if (!put.ok() || !get.ok()) continue;
    auto r = ledger::DecodeResult(get.value());
    ok += r.ok() && !r.value().items.empty() &&
          r.value().items[0].value == "value-" + std::to_string(i);
  }
  return ok;
}

int RunDemo(const DemoFlags& f) {
  std::printf("synod demo: starting a 3-node cluster on 127.0.0.1\n");
  DemoCluster cluster;
  if (Status s = cluster.Start(3, f.keep, f.insecure); !s.ok()) {
    return Fail(kExitFailure, s.ToString());
  }
  client::ClientOptions co;
  co.cluster = cluster.spec();
  co.security = cluster.security();
  auto c = std::move(client::Client::Connect(co).value());
  const NodeId first = cluster.WaitForLeader(*c, 15);
  if (first == 0) return Fail(kExitFailure, "no leader within 15 s; logs in " + cluster.dir());
  std::printf("  cluster %s, leader node %u, data in %s, %s\n", cluster.spec().ToString().c_str(),
              first, cluster.dir().c_str(),
              f.insecure ? "PLAINTEXT (--insecure)" : "CURVE-encrypted, keys in DIR/keys");

  LoadOptions lo;
  lo.cluster = cluster.spec();
  lo.security = cluster.security();
  lo.accounts = f.accounts;
  lo.duration_s = f.seconds;
  lo.clients = f.clients;
  lo.batch = f.batch;
  lo.id_base = 1;
  if (Status s = PrepareAccounts(lo); !s.ok()) return Fail(kExitFailure, "setup: " + s.ToString());
  std::printf("  created and funded %llu accounts\n", (unsigned long long)f.accounts);

  // Kill the leader a third of the way through the load, restart it a second later.
  NodeId killed = 0, second = 0;
  std::atomic<bool> demo_done{false};
  double failover_s = 0;
  std::thread chaos([&] {
    std::this_thread::sleep_for(std::chrono::duration<double>(f.seconds / 3));
    client::ClientOptions ko;
    ko.cluster = cluster.spec();
    ko.security = cluster.security();
    auto k = std::move(client::Client::Connect(ko).value());
    killed = cluster.Leader(*k);
    if (killed == 0) return;
    const auto t0 = Clock::now();
    cluster.Kill(killed);
    second = cluster.WaitForLeader(*k, 10, killed);
    failover_s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    (void)cluster.StartNode(killed);
    // The node's parent-death signal follows this thread: stay until the demo ends.
    while (!demo_done.load()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  });
  struct Joiner {
    std::atomic<bool>& done;
    std::thread& t;
    ~Joiner() {
      done = true;
      t.join();
    }
  } joiner{demo_done, chaos};
  auto report = RunLoad(lo);
  if (!report.ok()) return Fail(kExitFailure, "load: " + report.status().ToString());
  const LoadReport& r = report.value();
  std::printf(
      "  moved money: %llu transfers in %.1f s (%.0f transfers/s, %u clients, %u per "
      "request), %llu ok, p50 %.1f ms, p99 %.1f ms per request\n",
      (unsigned long long)r.operations, r.seconds, r.tps(), f.clients, f.batch,
      (unsigned long long)r.ok, r.p50_ms, r.p99_ms);
  for (const auto& [code, n] : r.failed)
    std::printf("    %s: %llu\n", code.c_str(), (unsigned long long)n);
  if (killed != 0) {
    std::printf(
        "  killed leader node %u with SIGKILL; node %u led %.2f s later; node %u "
        "restarted\n",
        killed, second, failover_s, killed);
  }
  const int kv_ok = KvTraffic(*c, 200);
  std::printf("  key-value: 200 puts and 200 linearizable gets, %d read back their write\n", kv_ok);

  // Let the restarted node catch up before comparing: every node at one applied slot.
  cluster.WaitForConvergence(*c, 15);
  ClientFlags cf;
  cf.cluster = cluster.spec().ToString();
  cf.timeout_ms = 15000;
  cf.security = cluster.security_flags();
  nlohmann::json check;
  const int rc = CheckCluster(cf, &check);
  std::printf("  check: %s (ledger balanced: %s; state hashes agree on %zu nodes at slot %llu)\n",
              rc == kExitOk ? "ok" : "FAILED", check.value("ok", false) ? "yes" : "no",
              check.value("nodes_checked", size_t{0}),
              (unsigned long long)check.value("applied_slot", uint64_t{0}));
  if (rc != kExitOk) std::printf("  %s\n", check.dump().c_str());
  const bool ok = rc == kExitOk && kv_ok == 200 && r.errors == 0;
  std::printf("synod demo: %s; stopping the cluster\n", ok ? "all good" : "FAILED");
  return ok ? kExitOk : kExitFailure;
}

}  // namespace

void AddDemoCommand(CLI::App& app, int* rc) {
  auto f = std::make_shared<DemoFlags>();
  CLI::App* cmd = app.add_subcommand("demo", "Run the main job on an embedded local cluster");
  cmd->add_option("--accounts", f->accounts, "Accounts")
      ->check(CLI::Range(uint64_t{2}, uint64_t{1000000}));
  cmd->add_option("--seconds", f->seconds, "Length of the transfer load")
      ->check(CLI::Range(1.0, 3600.0));
  cmd->add_option("--clients", f->clients, "Concurrent sessions")->check(CLI::Range(1u, 256u));
  cmd->add_option("--batch", f->batch, "Transfers per request")->check(CLI::Range(1u, 8190u));
  cmd->add_flag("--keep", f->keep, "Keep the temp dir (data and logs)");
  cmd->add_flag("--insecure", f->insecure, "Plaintext traffic (default: CURVE with fresh keys)");
  cmd->callback([f, rc] { *rc = RunDemo(*f); });
}

}  // namespace synod::tools
