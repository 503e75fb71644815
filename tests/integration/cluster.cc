#include "tests/integration/cluster.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "tools/process.h"

namespace synod::integration {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr uint16_t kPortFirst = 20000;  // Below the kernel's ephemeral range (32768 up).
constexpr uint16_t kPortLast = 32000;

bool PortFree(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// Child side of fork: die with the parent, then exec. Only async-signal-safe calls. With
// `own_group`, the child leaves the test's process group, so that signals sent to the group
// (Ctrl-C, `timeout`) never reach it: a node is only ever signalled by its pid.
[[noreturn]] void ExecChild(const std::vector<char*>& argv, const std::vector<char*>& envp,
                            int in_fd, int out_fd, int err_fd, bool own_group = false,
                            unsigned uid = 0) {
  if (own_group) ::setpgid(0, 0);
  if (uid != 0 && (::setgid(uid) != 0 || ::setuid(uid) != 0)) _exit(126);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  ::dup2(in_fd, 0);
  ::dup2(out_fd, 1);
  ::dup2(err_fd, 2);
  ::execve(argv[0], argv.data(), envp.data());
  _exit(127);
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// A temp dir removed at exit (for state shared by every CLI run of the process).
struct TempDir {
  explicit TempDir(const std::string& prefix) {
    path = fs::temp_directory_path().string() + "/" + prefix + "-XXXXXX";
    SYNOD_CHECK(::mkdtemp(path.data()) != nullptr);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string path;
};

}  // namespace

// ---- CliResult ------------------------------------------------------------------------------

std::vector<json> CliResult::Json() const {
  std::vector<json> out;
  std::istringstream in(this->out);
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

json CliResult::First() const {
  std::vector<json> all = Json();
  return all.empty() ? json() : all.front();
}

std::string CliResult::Describe() const {
  return "exit " + std::to_string(exit_code) + " after " + std::to_string(seconds) +
         " s\n  stdout: " + out + "\n  stderr: " + err;
}

CliResult RunSynod(const std::vector<std::string>& args, int kill_after_ms,
                   const std::vector<std::string>& env) {
  std::vector<std::string> argv_s = {SYNOD_BIN};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  // A clean environment: no SYNOD_CLUSTER of the developer, no cluster file of `local up`.
  static const TempDir home_dir("synod-integ-home");
  const std::string& home = home_dir.path;
  std::vector<std::string> env_s = {"PATH=/usr/bin:/bin", "HOME=" + home, "SYNOD_HOME=" + home};
  for (const std::string& e : env) {  // NAME=VALUE replaces a default of the same name.
    const std::string name = e.substr(0, e.find('=') + 1);
    std::erase_if(env_s, [&](const std::string& d) { return d.rfind(name, 0) == 0; });
    env_s.push_back(e);
  }
  std::vector<char*> argv = CStrings(argv_s), envp = CStrings(env_s);
  int out_pipe[2], err_pipe[2];
  SYNOD_CHECK(::pipe2(out_pipe, O_CLOEXEC) == 0 && ::pipe2(err_pipe, O_CLOEXEC) == 0);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const auto start = Clock::now();
  const pid_t pid = ::fork();
  SYNOD_CHECK(pid >= 0);
  if (pid == 0) ExecChild(argv, envp, null_fd, out_pipe[1], err_pipe[1]);
  ::close(null_fd);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  CliResult r;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  bool killed = false;
  while (open_fds > 0) {
    const int left = kill_after_ms - static_cast<int>(MsSince(start));
    if (left <= 0 && !killed) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
    if (::poll(fds, 2, std::max(left, 100)) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[65536];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.seconds = MsSince(start) / 1000.0;
  r.exit_code = (!killed && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  return r;
}

// ---- PortLease ------------------------------------------------------------------------------

// Reserves `port` against the other test processes of this suite by binding an abstract Unix
// socket named after it: no file is left behind, and the kernel releases it with the process.
int ReservePort(uint16_t port) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string name = "synod-integ-port-" + std::to_string(port);
  std::memcpy(addr.sun_path + 1, name.data(), name.size());  // sun_path[0] == 0: abstract.
  const socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || !PortFree(port)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

PortLease::PortLease(size_t count, bool consecutive) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pick(kPortFirst, kPortLast - static_cast<int>(count));
  for (int attempt = 0; ports_.size() < count && attempt < 10000; ++attempt) {
    const uint16_t port =
        consecutive && !ports_.empty() ? ports_.back() + 1 : static_cast<uint16_t>(pick(rng));
    bool taken = false;
    for (uint16_t p : ports_) taken |= p == port;
    const int fd = taken ? -1 : ReservePort(port);
    if (fd < 0) {
      if (consecutive) {  // Start over elsewhere.
        for (int held : lock_fds_) ::close(held);
        lock_fds_.clear();
        ports_.clear();
      }
      continue;
    }
    ports_.push_back(port);
    lock_fds_.push_back(fd);
  }
  SYNOD_CHECK(ports_.size() == count);
}

PortLease::~PortLease() {
  for (int fd : lock_fds_) ::close(fd);
}

// ---- TestCluster ----------------------------------------------------------------------------

TestCluster::TestCluster(ClusterOptions options)
    : options_(options), ports_(options.nodes * (options.metrics ? 2 : 1)) {
  std::string t = fs::temp_directory_path().string() + "/synod-integ-XXXXXX";
  SYNOD_CHECK(::mkdtemp(t.data()) != nullptr);
  dir_ = t;
  for (size_t i = 0; i < options_.nodes; ++i) {
    const std::string host = options_.host_base == 0
                                 ? "127.0.0.1"
                                 : "127.0.0." + std::to_string(options_.host_base + i + 1);
    spec_text_ +=
        (i ? "," : "") + std::to_string(i + 1) + "=" + host + ":" + std::to_string(ports_.port(i));
  }
  spec_ = net::ClusterSpec::Parse(spec_text_).value();
  if (!options_.insecure) {
    std::vector<std::string> names = {"client"};
    for (NodeId id : spec_.Ids()) names.push_back(net::NodeKeyName(id));
    SYNOD_CHECK(net::EnsureKeyPairs(KeyDir(), names).ok());
    auto security = net::LoadSecurity(false, KeyDir() + "/client.key", KeyDir());
    SYNOD_CHECK(security.ok());
    client_security_ = std::move(security.value());
  }
  client::ClientOptions co;
  co.cluster = spec_;
  co.security = client_security_;
  status_client_ = std::move(client::Client::Connect(co).value());
}

TestCluster::~TestCluster() {
  for (auto& [id, pid] : pids_) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  const bool failed = ::testing::Test::HasFailure();
  if (failed) {
    for (NodeId id : ids()) {
      std::fprintf(stderr, "--- node %u log tail (%s):\n%s", id, LogPath(id).c_str(),
                   tools::FileTail(LogPath(id), 15, "    ").c_str());
    }
  }
  status_client_.reset();
  std::error_code ec;
  if (std::getenv("SYNOD_INTEG_KEEP") == nullptr) fs::remove_all(dir_, ec);
}

std::string TestCluster::SpecOf(const std::vector<NodeId>& ids) const {
  std::string out;
  for (NodeId id : ids) {
    const net::NodeAddress* a = spec_.Find(id);
    out += (out.empty() ? "" : ",") + std::to_string(id) + "=" + a->host + ":" +
           std::to_string(a->port);
  }
  return out;
}

std::string TestCluster::DataDir(NodeId id) const {
  return dir_ + "/n" + std::to_string(id) + "/data";
}

uint16_t TestCluster::MetricsPort(NodeId id) const {
  SYNOD_CHECK(options_.metrics && id >= 1 && id <= options_.nodes);
  return ports_.port(options_.nodes + id - 1);
}

std::string TestCluster::LogPath(NodeId id) const {
  return dir_ + "/n" + std::to_string(id) + "/stdout.log";
}

void TestCluster::StartAll() {
  for (NodeId id : ids()) Start(id);
}

// A node that runs as its own uid cannot read the shared key dir (0700, ours): it gets a copy
// of its secret key and the public keys in its own dir.
std::string TestCluster::NodeKeyDir(NodeId id) const {
  if (options_.uid_base == 0) return KeyDir();
  return dir_ + "/n" + std::to_string(id) + "/keys";
}

std::vector<std::string> TestCluster::NodeSecurityArgs(NodeId id) const {
  if (options_.insecure) return {"--insecure"};
  return {"--key", NodeKeyDir(id) + "/" + net::NodeKeyName(id) + ".key", "--trust", NodeKeyDir(id)};
}

std::vector<std::string> TestCluster::ClientSecurityArgs() const {
  if (options_.insecure) return {"--insecure"};
  return {"--key", KeyDir() + "/client.key", "--trust", KeyDir()};
}

void TestCluster::Start(NodeId id) { StartWith(id, NodeSecurityArgs(id)); }

void TestCluster::StartWith(NodeId id, const std::vector<std::string>& security_args) {
  SYNOD_CHECK(pids_.count(id) == 0);
  fs::create_directories(dir_ + "/n" + std::to_string(id));
  std::vector<NodeId> members = members_;
  if (!members.empty() && std::find(members.begin(), members.end(), id) == members.end()) {
    members.push_back(id);
    std::sort(members.begin(), members.end());
  }
  std::vector<std::string> argv_s = {SYNOD_BIN,
                                     "node",
                                     "--id",
                                     std::to_string(id),
                                     "--cluster",
                                     members.empty() ? spec_text_ : SpecOf(members),
                                     "--data",
                                     DataDir(id),
                                     "--tick-ms",
                                     std::to_string(options_.tick_ms),
                                     "--log-level",
                                     options_.log_level,
                                     "--snapshot-every",
                                     std::to_string(options_.snapshot_every)};
  if (options_.metrics) {
    argv_s.push_back("--metrics-addr");
    argv_s.push_back("127.0.0.1:" + std::to_string(MetricsPort(id)));
  }
  argv_s.insert(argv_s.end(), security_args.begin(), security_args.end());
  std::vector<std::string> env_s = {"PATH=/usr/bin:/bin", "HOME=" + dir_};
  env_s.insert(env_s.end(), options_.env.begin(), options_.env.end());
  const unsigned uid = options_.uid_base == 0 ? 0 : options_.uid_base + id;
  if (uid != 0) {
    SYNOD_CHECK(::chmod(dir_.c_str(), 0711) == 0);  // Others may pass through, not list.
    fs::create_directories(DataDir(id));
    if (!options_.insecure) {
      fs::create_directories(NodeKeyDir(id));
      fs::permissions(NodeKeyDir(id), fs::perms::owner_all, fs::perm_options::replace);
      for (const auto& e : fs::directory_iterator(KeyDir())) {
        const std::string name = e.path().filename().string();
        if (e.path().extension() == ".pub" || name == net::NodeKeyName(id) + ".key") {
          fs::copy_file(e.path(), NodeKeyDir(id) + "/" + name,
                        fs::copy_options::overwrite_existing);
        }
      }
    }
    for (const auto& e : fs::recursive_directory_iterator(dir_ + "/n" + std::to_string(id))) {
      SYNOD_CHECK(::chown(e.path().c_str(), uid, uid) == 0);
    }
    SYNOD_CHECK(::chown((dir_ + "/n" + std::to_string(id)).c_str(), uid, uid) == 0);
  }
  std::vector<char*> argv = CStrings(argv_s), envp = CStrings(env_s);
  int log_fd = ::open(LogPath(id).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  SYNOD_CHECK(log_fd >= 0 && null_fd >= 0);
  const pid_t pid = ::fork();
  SYNOD_CHECK(pid >= 0);
  if (pid == 0) ExecChild(argv, envp, null_fd, log_fd, log_fd, /*own_group=*/true, uid);
  ::close(log_fd);
  ::close(null_fd);
  pids_[id] = pid;
}

void TestCluster::Kill(NodeId id, int signal) {
  auto it = pids_.find(id);
  if (it == pids_.end()) return;
  ::kill(it->second, signal);
  const auto start = Clock::now();
  while (::waitpid(it->second, nullptr, WNOHANG) == 0) {
    if (MsSince(start) > 10000) {
      ::kill(it->second, SIGKILL);
      ::waitpid(it->second, nullptr, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pids_.erase(it);
}

void TestCluster::Wipe(NodeId id) {
  SYNOD_CHECK(pids_.count(id) == 0);
  fs::remove_all(DataDir(id));
}

bool TestCluster::Running(NodeId id) {
  auto it = pids_.find(id);
  if (it == pids_.end()) return false;
  int status = 0;
  if (::waitpid(it->second, &status, WNOHANG) == it->second) {
    pids_.erase(it);  // It exited on its own (crashed or refused to start).
    return false;
  }
  return true;
}

pid_t TestCluster::Pid(NodeId id) const {
  auto it = pids_.find(id);
  return it == pids_.end() ? 0 : it->second;
}

std::vector<NodeId> TestCluster::RunningIds() {
  std::vector<NodeId> out;
  for (NodeId id : ids()) {
    if (Running(id)) out.push_back(id);
  }
  return out;
}

std::optional<StatusReportMsg> TestCluster::Status(NodeId id, int timeout_ms) {
  auto r = status_client_->QueryStatus(id, false, timeout_ms);
  if (!r.ok()) return std::nullopt;
  return std::move(r.value());
}

NodeId TestCluster::WaitForLeader(int timeout_ms, std::vector<NodeId> ids) {
  const auto start = Clock::now();
  while (MsSince(start) < timeout_ms) {
    std::vector<NodeId> want = ids.empty() ? RunningIds() : ids;
    NodeId leader = 0;
    bool agree = !want.empty();
    for (NodeId id : want) {
      auto s = Status(id, 300);
      if (!s) {
        agree = false;
        break;
      }
      if (s->role == "leader") leader = id;
      if (s->leader == 0 || (leader != 0 && s->leader != leader)) agree = false;
    }
    if (agree && leader != 0) {
      // Everyone must name the node that says it leads.
      bool same = true;
      for (NodeId id : want) {
        auto s = Status(id, 300);
        same &= s && s->leader == leader;
      }
      if (same) return leader;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return 0;
}

bool TestCluster::WaitForConvergence(int timeout_ms, std::vector<NodeId> ids) {
  const auto start = Clock::now();
  while (MsSince(start) < timeout_ms) {
    std::vector<NodeId> want = ids.empty() ? RunningIds() : ids;
    std::optional<StatusReportMsg> first;
    bool same = !want.empty();
    for (NodeId id : want) {
      auto s = Status(id, 300);
      if (!s || s->applied_slot < s->decided_slot) {
        same = false;
        break;
      }
      if (!first) first = s;
      same &= s->applied_slot == first->applied_slot && s->state_hash == first->state_hash;
    }
    if (same) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string TestCluster::DescribeStatus(std::vector<NodeId> ids) {
  std::string out;
  for (NodeId id : ids.empty() ? this->ids() : ids) {
    auto s = Status(id, 300);
    if (!s) {
      out += "  node " + std::to_string(id) + ": no answer\n";
      continue;
    }
    out += "  node " + std::to_string(id) + ": " + s->role + " leader " +
           std::to_string(s->leader) + " decided " + std::to_string(s->decided_slot) + " applied " +
           std::to_string(s->applied_slot) + " snapshot " + std::to_string(s->snapshot_slot) +
           " hash " + s->state_hash + "\n";
  }
  return out;
}

std::unique_ptr<client::Client> TestCluster::NewClient(int timeout_ms, int retry_ms,
                                                       std::vector<NodeId> ids) {
  client::ClientOptions co;
  co.cluster = ids.empty() ? spec_ : net::ClusterSpec::Parse(SpecOf(ids)).value();
  co.timeout_ms = timeout_ms;
  co.retry_ms = retry_ms;
  co.security = client_security_;
  return std::move(client::Client::Connect(co).value());
}

CliResult TestCluster::Cli(std::vector<std::string> args, int kill_after_ms) {
  args.push_back("--cluster");
  args.push_back(MemberSpec());
  for (const std::string& a : ClientSecurityArgs()) args.push_back(a);
  return RunSynod(args, kill_after_ms);
}

}  // namespace synod::integration
