// `synod local up|down|status`: a cluster of `synod node` processes on 127.0.0.1, for trying
// Synod on one machine.
//
// Layout under --data DIR (default $SYNOD_HOME/local, see tools/common.h):
//   DIR/cluster        the cluster spec `up` started (one line)
//   DIR/n<i>/data/       node i's data dir (RocksDB, synod.log); `synod node --data`
//   DIR/n<i>/pid         node i's process id, while `up` believes it runs
//   DIR/n<i>/stdout.log  node i's stdout and stderr
//   DIR/keys/            CURVE keys (unless --insecure): node-<i>.key/.pub, client.key/.pub
// `up` also writes the spec to ClusterFilePath() and links KeysLinkPath() to DIR/keys, which
// client commands read by default.
//
// `down` only ever signals a pid from its own pid files, and only while /proc/PID/cmdline still
// shows `synod node ... --data DIR/n<i>/data` (pids are reused; a stale pid file must never make us
// kill an unrelated process).
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "client/client.h"
#include "tools/commands.h"
#include "tools/common.h"
#include "tools/process.h"

namespace synod::tools {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct LocalFlags {
  uint32_t nodes = 3;
  std::string data;
  uint32_t port = 7101;
  bool json = false;
  bool wipe = false;
  int timeout_ms = 30000;
  std::string log_level = "info";
  uint32_t metrics_port = 0;  // 0: no metrics; else node i serves them on metrics_port+i-1.
  bool insecure = false;
};

std::string DataRoot(const LocalFlags& f) {
  return f.data.empty() ? SynodHome() + "/local" : f.data;
}
std::string NodeDir(const std::string& root, NodeId id) { return root + "/n" + std::to_string(id); }
// The node's own data dir must hold nothing but its database, so pid and log sit beside it.
std::string NodeDataDir(const std::string& root, NodeId id) { return NodeDir(root, id) + "/data"; }
std::string PidFile(const std::string& root, NodeId id) { return NodeDir(root, id) + "/pid"; }
std::string KeyDir(const std::string& root) { return root + "/keys"; }

// Points KeysLinkPath() at `target`, or removes the link when `target` is empty. Only ever
// replaces or removes a symlink, never a real key dir someone put there.
bool LinkKeys(const std::string& target) {
  const fs::path link = KeysLinkPath();
  std::error_code ec;
  if (fs::is_symlink(link, ec)) fs::remove(link, ec);
  if (target.empty()) return true;
  if (fs::exists(link, ec)) return false;
  fs::create_directory_symlink(fs::absolute(target), link, ec);
  return !ec;
}

bool WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!(out << text << "\n")) return false;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  return !ec;
}

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// The argv of a process, or nothing if it is gone (a zombie has an empty cmdline too).
std::vector<std::string> CmdLine(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::vector<std::string> args;
  std::string arg;
  while (std::getline(in, arg, '\0')) args.push_back(arg);
  return args;
}

// True while `pid` is a `synod node` whose --data is `data_dir`.
bool IsOurNode(pid_t pid, const std::string& data_dir) {
  if (pid <= 1) return false;
  std::vector<std::string> args = CmdLine(pid);
  if (args.size() < 2 || args[1] != "node") return false;
  if (fs::path(args[0]).filename().string().find("synod") == std::string::npos) return false;
  for (size_t i = 2; i + 1 < args.size(); ++i) {
    if (args[i] == "--data")
      return fs::weakly_canonical(args[i + 1]) == fs::weakly_canonical(data_dir);
  }
  return false;
}

// The local cluster's node ids: from DIR/cluster, else from the n<i> dirs present.
std::vector<NodeId> LocalNodeIds(const std::string& root, net::ClusterSpec* spec) {
  auto parsed = net::ClusterSpec::Parse(ReadFirstLine(root + "/cluster"));
  if (parsed.ok()) {
    *spec = parsed.value();
    return spec->Ids();
  }
  std::vector<NodeId> ids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() < 2 || name[0] != 'n' || !entry.is_directory()) continue;
    if (name.find_first_not_of("0123456789", 1) != std::string::npos) continue;
    ids.push_back(static_cast<NodeId>(std::stoul(name.substr(1))));
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

struct NodeProcess {
  NodeId id = 0;
  pid_t pid = 0;  // 0: no pid file.
  bool running = false;
};

std::vector<NodeProcess> ReadPids(const std::string& root, const std::vector<NodeId>& ids) {
  std::vector<NodeProcess> out;
  for (NodeId id : ids) {
    NodeProcess p{id};
    const std::string text = ReadFirstLine(PidFile(root, id));
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos &&
        text.size() < 10) {
      p.pid = static_cast<pid_t>(std::stol(text));
      p.running = IsOurNode(p.pid, NodeDataDir(root, id));
    }
    out.push_back(p);
  }
  return out;
}

// Fails when some port is taken, naming it, so `up` never starts half a cluster.
std::optional<std::string> TakenPort(const net::ClusterSpec& spec) {
  for (const net::NodeAddress& a : spec.nodes) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(a.port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool taken = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0;
    ::close(fd);
    if (taken) return a.host + ":" + std::to_string(a.port);
  }
  return std::nullopt;
}

// Starts `synod node` for one member in its own session, output appended to stdout.log.
Result<pid_t> SpawnNode(const std::string& root, const std::string& spec, NodeId id,
                        const LocalFlags& f) {
  const std::string dir = NodeDir(root, id);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create " + dir + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  std::vector<std::string> args = {"node",     "--id",   std::to_string(id),    "--cluster",
                                   spec,       "--data", NodeDataDir(root, id), "--log-level",
                                   f.log_level};
  if (f.metrics_port != 0) {
    args.push_back("--metrics-addr");
    args.push_back("127.0.0.1:" + std::to_string(f.metrics_port + id - 1));
  }
  if (f.insecure) {
    args.push_back("--insecure");
  } else {
    for (std::string& a : NodeSecurityArgs(KeyDir(root), id)) args.push_back(std::move(a));
  }
  auto pid = SpawnSelf(args, dir + "/stdout.log", ChildLife::kDetached);
  if (!pid.ok()) return pid.status();
  if (!WriteFileAtomically(PidFile(root, id), std::to_string(pid.value()))) {
    return Status::IoError("cannot write " + PidFile(root, id));
  }
  return pid;
}

// Sends `signal` to every running node, then waits up to `wait_ms` for them to exit.
// Returns the nodes still running.
std::vector<NodeProcess> SignalAndWait(const std::string& root, std::vector<NodeProcess> nodes,
                                       int signal, int wait_ms) {
  for (const NodeProcess& p : nodes) {
    if (p.running) ::kill(p.pid, signal);
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(wait_ms);
  while (true) {
    std::vector<NodeProcess> left;
    for (NodeProcess p : nodes) {
      // A node we started from this process is our child: reap it so it stops showing up.
      if (p.running) ::waitpid(p.pid, nullptr, WNOHANG);
      if (p.running && IsOurNode(p.pid, NodeDataDir(root, p.id))) left.push_back(p);
    }
    if (left.empty() || Clock::now() >= deadline) return left;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Stops `nodes` (SIGTERM, then SIGKILL after 10 s) and removes their pid files.
// Returns false if some node survived even SIGKILL.
bool StopNodes(const std::string& root, const std::vector<NodeProcess>& nodes) {
  std::vector<NodeProcess> left = SignalAndWait(root, nodes, SIGTERM, 10000);
  if (!left.empty()) left = SignalAndWait(root, left, SIGKILL, 5000);
  for (const NodeProcess& p : nodes) {
    bool survived = false;
    for (const NodeProcess& l : left) survived |= l.id == p.id;
    if (!survived) fs::remove(PidFile(root, p.id));
  }
  return left.empty();
}

// Waits until every node answers a StatusQuery and all of them follow one leader that says it
// leads. Returns the leader, or a status naming what was missing at the deadline. Fails early
// when a node process exited.
Result<NodeId> WaitForCluster(const std::string& root, const net::ClusterSpec& spec,
                              const net::Security& security, const std::vector<NodeProcess>& procs,
                              int timeout_ms) {
  client::ClientOptions co;
  co.cluster = spec;
  co.security = security;
  auto c = client::Client::Connect(co);
  if (!c.ok()) return c.status();
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string missing = "no node answered";
  while (Clock::now() < deadline) {
    for (const NodeProcess& p : procs) {
      int wstatus = 0;
      if (::waitpid(p.pid, &wstatus, WNOHANG) == p.pid) {
        return Status::IoError("node " + std::to_string(p.id) + " exited; its log " +
                               NodeDir(root, p.id) + "/stdout.log ends with:\n" +
                               FileTail(NodeDir(root, p.id) + "/stdout.log", 5, "  "));
      }
    }
    NodeId leader = 0;
    bool all = true;
    for (NodeId id : spec.Ids()) {
      auto r = c.value()->QueryStatus(id, false, 300);
      if (!r.ok()) {
        missing = "node " + std::to_string(id) + " does not answer";
        all = false;
        break;
      }
      if (r.value().role == "leader") leader = id;
      if (r.value().leader == 0 || (leader != 0 && r.value().leader != leader)) {
        missing = "node " + std::to_string(id) + " follows no agreed leader yet";
        all = false;
      }
    }
    if (all && leader != 0) return leader;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Status::IoError("the cluster did not form within " + std::to_string(timeout_ms) +
                         " ms: " + missing);
}

int LocalUp(const LocalFlags& f) {
  if (f.port + f.nodes - 1 > 65535) {
    return Fail(kExitUsage, "--port " + std::to_string(f.port) + " leaves no room for " +
                                std::to_string(f.nodes) + " nodes (ports up to 65535)");
  }
  const uint32_t m = f.metrics_port;
  if (m != 0 && (m + f.nodes - 1 > 65535 || (m < f.port + f.nodes && f.port < m + f.nodes))) {
    return Fail(kExitUsage, "--metrics-port " + std::to_string(m) + " must leave room for " +
                                std::to_string(f.nodes) +
                                " ports up to 65535, apart from the nodes' ports");
  }
  const std::string root = DataRoot(f);
  net::ClusterSpec old;
  for (const NodeProcess& p : ReadPids(root, LocalNodeIds(root, &old))) {
    if (p.running) {
      return Fail(kExitFailure, "a local cluster is already running in " + root + " (node " +
                                    std::to_string(p.id) + ", pid " + std::to_string(p.pid) +
                                    "); run `synod local down` first");
    }
  }
  std::string text;
  for (uint32_t i = 1; i <= f.nodes; ++i) {
    text += (i > 1 ? "," : "") + std::to_string(i) + "=127.0.0.1:" + std::to_string(f.port + i - 1);
  }
  net::ClusterSpec spec = net::ClusterSpec::Parse(text).value();
  if (auto taken = TakenPort(spec)) {
    return Fail(kExitFailure, "port " + *taken + " is in use; choose another --port");
  }
  if (m != 0) {
    std::string metrics;
    for (uint32_t i = 1; i <= f.nodes; ++i) {
      metrics += (i > 1 ? "," : "") + std::to_string(i) + "=127.0.0.1:" + std::to_string(m + i - 1);
    }
    if (auto taken = TakenPort(net::ClusterSpec::Parse(metrics).value())) {
      return Fail(kExitFailure, "port " + *taken + " is in use; choose another --metrics-port");
    }
  }
  std::error_code ec;
  if (fs::create_directories(root, ec)) {
    fs::permissions(root, fs::perms::owner_all, fs::perm_options::replace, ec);
  }
  fs::create_directories(SynodHome(), ec);
  if (!WriteFileAtomically(root + "/cluster", spec.ToString())) {
    return Fail(kExitFailure, "cannot write " + root + "/cluster");
  }
  // Secure by default: keys made once and kept with the data (a restart reuses them).
  SecurityFlags sf;
  sf.insecure = f.insecure;
  if (!f.insecure) {
    if (Status s = EnsureLocalKeys(KeyDir(root), spec.Ids()); !s.ok()) {
      return Fail(kExitFailure, "cannot make keys: " + s.ToString());
    }
    sf.key = KeyDir(root) + "/" + kClientKeyName + net::kSecretKeySuffix;
    sf.trust = KeyDir(root);
  }
  net::Security security;
  if (!ResolveSecurity(sf, false, &security)) return kExitFailure;
  std::vector<NodeProcess> procs;
  for (NodeId id : spec.Ids()) {
    auto pid = SpawnNode(root, spec.ToString(), id, f);
    if (!pid.ok()) {
      StopNodes(root, procs);
      return Fail(kExitFailure, pid.status().message());
    }
    procs.push_back({id, pid.value(), true});
  }
  auto leader = WaitForCluster(root, spec, security, procs, f.timeout_ms);
  if (!leader.ok()) {
    StopNodes(root, procs);
    return Fail(kExitFailure, leader.status().message() + "\nlogs: " + root + "/n*/stdout.log");
  }
  if (!WriteFileAtomically(ClusterFilePath(), spec.ToString())) {
    StopNodes(root, procs);
    return Fail(kExitFailure, "cannot write the cluster file " + ClusterFilePath());
  }
  if (!LinkKeys(f.insecure ? "" : KeyDir(root))) {
    StopNodes(root, procs);
    return Fail(kExitFailure, "cannot link " + KeysLinkPath() + " to " + KeyDir(root) +
                                  " (is it a real directory?)");
  }
  json out = {{"cluster", spec.ToString()},
              {"cluster_file", ClusterFilePath()},
              {"data", root},
              {"keys", f.insecure ? "" : KeyDir(root)},
              {"leader", leader.value()},
              {"nodes", json::array()}};
  for (size_t i = 0; i < procs.size(); ++i) {
    const net::NodeAddress& a = spec.nodes[i];
    out["nodes"].push_back({{"id", a.id},
                            {"pid", procs[i].pid},
                            {"address", a.host + ":" + std::to_string(a.port)},
                            {"data", NodeDataDir(root, a.id)},
                            {"log", NodeDir(root, a.id) + "/stdout.log"}});
    if (m != 0) {
      out["nodes"].back()["metrics"] =
          "http://127.0.0.1:" + std::to_string(m + a.id - 1) + "/metrics";
    }
  }
  if (f.json) {
    std::printf("%s\n", out.dump().c_str());
    return kExitOk;
  }
  for (const json& n : out["nodes"]) {
    std::printf(
        "node %u  pid %d  %s  data %s%s\n", n["id"].get<unsigned>(), n["pid"].get<int>(),
        n["address"].get<std::string>().c_str(), n["data"].get<std::string>().c_str(),
        n.contains("metrics") ? ("  metrics " + n["metrics"].get<std::string>()).c_str() : "");
  }
  std::printf("leader: node %u\ncluster: %s (written to %s)\nlogs: %s/n*/stdout.log\n",
              leader.value(), spec.ToString().c_str(), ClusterFilePath().c_str(), root.c_str());
  return kExitOk;
}

int LocalDown(const LocalFlags& f) {
  const std::string root = DataRoot(f);
  net::ClusterSpec spec;
  std::vector<NodeId> ids = LocalNodeIds(root, &spec);
  std::vector<NodeProcess> procs = ReadPids(root, ids);
  size_t running = 0;
  for (const NodeProcess& p : procs) running += p.running;
  if (!StopNodes(root, procs)) {
    return Fail(kExitFailure, "some nodes survived SIGKILL; pid files left in " + root);
  }
  // The client default points at this cluster only while it runs: forget it if it is ours.
  const std::string ours = ReadFirstLine(root + "/cluster");
  if (!ours.empty() && ReadFirstLine(ClusterFilePath()) == ours) fs::remove(ClusterFilePath());
  std::error_code link_ec;
  if (fs::is_symlink(KeysLinkPath(), link_ec) &&
      fs::read_symlink(KeysLinkPath(), link_ec) == fs::absolute(KeyDir(root))) {
    LinkKeys("");
  }
  if (f.wipe) {
    fs::remove_all(KeyDir(root));
    for (NodeId id : ids) fs::remove_all(NodeDir(root, id));
    fs::remove(root + "/cluster");
    std::error_code ec;
    if (fs::is_empty(root, ec)) fs::remove(root, ec);
  }
  if (f.json) {
    std::printf("%s\n",
                json({{"stopped", running}, {"data", root}, {"wiped", f.wipe}}).dump().c_str());
  } else {
    std::printf(
        "stopped %zu node%s%s\n", running, running == 1 ? "" : "s",
        f.wipe ? ("; removed the data in " + root).c_str() : ("; data kept in " + root).c_str());
  }
  return kExitOk;
}

// Exit 0 when every node of the local cluster runs, 1 otherwise (none started, or some down).
int LocalStatus(const LocalFlags& f) {
  const std::string root = DataRoot(f);
  net::ClusterSpec spec;
  std::vector<NodeProcess> procs = ReadPids(root, LocalNodeIds(root, &spec));
  size_t running = 0;
  json nodes = json::array();
  for (const NodeProcess& p : procs) {
    running += p.running;
    const net::NodeAddress* a = spec.Find(p.id);
    nodes.push_back({{"id", p.id},
                     {"pid", p.pid},
                     {"running", p.running},
                     {"address", a ? a->host + ":" + std::to_string(a->port) : ""},
                     {"data", NodeDataDir(root, p.id)}});
  }
  if (f.json) {
    std::printf("%s\n", json({{"data", root}, {"nodes", nodes}}).dump().c_str());
  } else if (procs.empty()) {
    std::printf("no local cluster in %s\n", root.c_str());
  } else {
    for (const json& n : nodes) {
      std::printf(
          "node %u  %s  %s\n", n["id"].get<unsigned>(), n["address"].get<std::string>().c_str(),
          n["running"].get<bool>() ? ("running, pid " + std::to_string(n["pid"].get<int>())).c_str()
                                   : "not running");
    }
  }
  return !procs.empty() && running == procs.size() ? kExitOk : kExitFailure;
}

}  // namespace

void AddLocalCommand(CLI::App& app, int* rc) {
  auto f = std::make_shared<LocalFlags>();
  CLI::App* local = app.add_subcommand("local", "Run a cluster of local nodes in the background");
  local->require_subcommand(1);
  const std::string data_help = "Data directory (default: $SYNOD_HOME/local, or ~/.synod/local)";

  CLI::App* up = local->add_subcommand("up", "Start the nodes and wait until they form a cluster");
  up->add_option("--nodes", f->nodes, "Number of nodes")->check(CLI::Range(1, 7));
  up->add_option("--data", f->data, data_help)->check(NonEmpty());
  up->add_option("--port", f->port, "Port of node 1; node i listens on port+i-1")
      ->check(CLI::Range(1, 65535));
  up->add_option("--timeout-ms", f->timeout_ms, "Give up if no cluster forms within this long")
      ->check(CLI::Range(100, 600000));
  up->add_option("--log-level", f->log_level, "The nodes' log level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  up->add_option("--metrics-port", f->metrics_port,
                 "Serve /metrics: node i on 127.0.0.1:(metrics-port+i-1); 0 (default): off")
      ->check(CLI::Range(0, 65535));
  up->add_flag("--json", f->json, "Print one JSON object");
  up->add_flag("--insecure", f->insecure, "Plaintext nodes (default: CURVE, keys in DIR/keys)");
  up->callback([f, rc] { *rc = LocalUp(*f); });

  CLI::App* down = local->add_subcommand("down", "Stop the nodes that `local up` started");
  down->add_option("--data", f->data, data_help)->check(NonEmpty());
  down->add_flag("--wipe", f->wipe, "Also remove the nodes' data");
  down->add_flag("--json", f->json, "Print one JSON object");
  down->callback([f, rc] { *rc = LocalDown(*f); });

  CLI::App* status = local->add_subcommand("status", "Show which local nodes run");
  status->add_option("--data", f->data, data_help)->check(NonEmpty());
  status->add_flag("--json", f->json, "Print one JSON object");
  status->callback([f, rc] { *rc = LocalStatus(*f); });
}

}  // namespace synod::tools
