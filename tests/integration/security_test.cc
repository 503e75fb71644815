// CURVE between real processes: a node admits only the keys in its trust dir, so a client or
// a peer with any other key (or speaking plaintext) gets no answer and changes nothing, and
// it is logged once however often it retries; a known key is served. A TCP proxy between a
// client and a node records every byte of a session: with CURVE neither the key nor the value
// written appears in them, and with --insecure both do (so the check can fail).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "ledger/client.h"
#include "tests/integration/cluster.h"
#include "tests/integration/json_util.h"

namespace synod::integration {
namespace {

namespace fs = std::filesystem;

// Listens on a free port and forwards every connection to `target_port`, recording the bytes
// of both directions. Stops (and closes every socket) when destroyed.
class RecordingProxy {
 public:
  explicit RecordingProxy(uint16_t target_port) : ports_(1), target_port_(target_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    SYNOD_CHECK(listen_fd_ >= 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr = Loopback(ports_.port(0));
    SYNOD_CHECK(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    SYNOD_CHECK(::listen(listen_fd_, 16) == 0);
    thread_ = std::thread([this] { Run(); });
  }
  ~RecordingProxy() {
    stop_ = true;
    thread_.join();
    for (int fd : fds_) ::close(fd);
    ::close(listen_fd_);
  }
  uint16_t port() const { return ports_.port(0); }
  std::string Recorded() {
    std::lock_guard<std::mutex> lock(mu_);
    return recorded_;
  }

 private:
  static sockaddr_in Loopback(uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
  }
  // fds_ holds pairs: [2k] the accepted side, [2k+1] the side connected to the target.
  void Run() {
    while (!stop_) {
      std::vector<pollfd> items = {{listen_fd_, POLLIN, 0}};
      for (int fd : fds_) items.push_back({fd, POLLIN, 0});
      if (::poll(items.data(), items.size(), 50) <= 0) continue;
      if (items[0].revents & POLLIN) Accept();
      for (size_t i = 1; i < items.size(); ++i) {
        if (!(items[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const size_t k = i - 1;
        const int from = fds_[k], to = fds_[k ^ 1];
        char buf[65536];
        const ssize_t n = ::read(from, buf, sizeof buf);
        if (n <= 0) {
          ::shutdown(to, SHUT_WR);
          continue;
        }
        {
          std::lock_guard<std::mutex> lock(mu_);
          recorded_.append(buf, n);
        }
        for (ssize_t sent = 0; sent < n;) {
          const ssize_t w = ::write(to, buf + sent, n - sent);
          if (w <= 0) break;
          sent += w;
        }
      }
    }
  }
  void Accept() {
    const int in = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (in < 0) return;
    const int out = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = Loopback(target_port_);
    if (out < 0 || ::connect(out, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(in);
      if (out >= 0) ::close(out);
      return;
    }
    fds_.push_back(in);
    fds_.push_back(out);
  }

  PortLease ports_;
  uint16_t target_port_;
  int listen_fd_ = -1;
  std::vector<int> fds_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::string recorded_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A key pair nobody trusts, named `name`, in `dir`, whose trust dir is a copy of `trust_from`
// (the cluster's public keys): it knows the cluster, the cluster does not know it.
net::Security Stranger(const std::string& dir, const std::string& name,
                       const std::string& trust_from) {
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(trust_from)) {
    if (e.path().extension() == ".pub" && e.path().stem() != name) {
      fs::copy_file(e.path(), dir + "/" + e.path().filename().string());
    }
  }
  SYNOD_CHECK(net::EnsureKeyPairs(dir, {name}).ok());
  auto s = net::LoadSecurity(false, dir + "/" + name + ".key", dir);
  SYNOD_CHECK(s.ok());
  return s.value();
}

std::unique_ptr<client::Client> ClientWith(const TestCluster& cluster, net::Security security,
                                           int timeout_ms) {
  client::ClientOptions co;
  co.cluster = cluster.cluster();
  co.security = std::move(security);
  co.timeout_ms = timeout_ms;
  co.retry_ms = 200;
  return std::move(client::Client::Connect(co).value());
}

// Node `id`'s status through a new session: TestCluster::Status may read a late answer to an
// earlier query.
std::optional<StatusReportMsg> FreshStatus(TestCluster& cluster, NodeId id) {
  auto r = cluster.NewClient()->QueryStatus(id, false, 2000);
  if (!r.ok()) return std::nullopt;
  return r.value();
}

TEST(Security, UnknownClientKeyGetsNoAnswerAndChangesNothing) {
  TestCluster cluster;
  cluster.StartAll();
  ASSERT_NE(cluster.WaitForLeader(20000), 0u) << cluster.DescribeStatus();
  auto known = cluster.NewClient();
  ASSERT_TRUE(known->Execute(ledger::EncodeKvPut("known", "1")).ok());
  ASSERT_TRUE(cluster.WaitForConvergence(10000)) << cluster.DescribeStatus();
  const auto before = FreshStatus(cluster, 1);
  ASSERT_TRUE(before.has_value());

  // A stranger's key: no answer (not even a refusal), through the library and the CLI.
  const std::string dir = cluster.dir() + "/stranger";
  net::Security stranger = Stranger(dir, "mallory", cluster.KeyDir());
  auto rogue = ClientWith(cluster, stranger, 2000);
  auto put = rogue->Execute(ledger::EncodeKvPut("rogue", "written by a stranger"));
  EXPECT_FALSE(put.ok()) << "a node answered an unknown key";
  CliResult cli = RunSynod({"kv", "put", "rogue-cli", "x", "--cluster", cluster.spec(), "--key",
                            dir + "/mallory.key", "--trust", dir, "--timeout-ms", "2000"});
  EXPECT_EQ(cli.exit_code, kFailure) << cli.Describe();
  // Plaintext against CURVE nodes: nothing either.
  CliResult plain = RunSynod({"kv", "put", "rogue-plain", "x", "--cluster", cluster.spec(),
                              "--insecure", "--timeout-ms", "2000"});
  EXPECT_EQ(plain.exit_code, kFailure) << plain.Describe();

  // Nothing was applied anywhere: no new slot, and the keys are absent.
  auto after = FreshStatus(cluster, 1);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->applied_slot, before->applied_slot) << cluster.DescribeStatus();
  for (const char* key : {"rogue", "rogue-cli", "rogue-plain"}) {
    auto get = known->Execute(ledger::EncodeKvGet(key));
    ASSERT_TRUE(get.ok()) << get.status().ToString();
    auto r = ledger::DecodeResult(get.value());
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.value().items.empty()) << key << " was written";
  }
  // The known key is still served, and each node logged the stranger's key once however many
  // times it retried (every 100 ms for seconds), and the plaintext attempt once.
  EXPECT_TRUE(known->Execute(ledger::EncodeKvPut("known", "2")).ok());
  size_t noted = 0;
  for (NodeId id : cluster.ids()) {
    const std::string log = ReadAll(cluster.LogPath(id));
    const size_t n = Count(log, stranger.own.public_key);
    EXPECT_LE(n, 1u) << "node " << id << " logged the unknown key " << n << " times";
    noted += n;
    EXPECT_LE(Count(log, "the other plaintext"), 1u) << "node " << id;
  }
  EXPECT_GE(noted, 1u) << "no node logged the unknown key";
  CliResult status = cluster.Cli({"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.Describe();
  uint64_t unknown_keys = 0, handshakes_failed = 0;
  for (const json& node : status.Json()) {
    unknown_keys += node["rejected"]["unknown_keys"].get<uint64_t>();
    handshakes_failed += node["rejected"]["handshakes_failed"].get<uint64_t>();
  }
  EXPECT_GE(unknown_keys, 2u) << status.out;
  EXPECT_GE(handshakes_failed, 1u) << status.out;
}

// Forms the cluster with every node (a new cluster waits for all of them), then restarts node
// 3 with `security_args`.
void StartWithNode3As(TestCluster& cluster, const std::vector<std::string>& security_args) {
  cluster.StartAll();
  ASSERT_NE(cluster.WaitForLeader(20000), 0u) << cluster.DescribeStatus();
  cluster.Kill(3);
  cluster.StartWith(3, security_args);
}

// Node 3 comes back with a key its peers do not know: nodes 1 and 2 carry on as a majority,
// node 3 learns nothing; restarted with its real key it catches up.
TEST(Security, PeerWithUnknownKeyIsNotAdmittedUntilItUsesItsOwn) {
  TestCluster cluster;
  // Node 3's stand-in: a fresh key under node 3's name, trusting the cluster's keys.
  const std::string dir = cluster.dir() + "/impostor";
  net::Security impostor = Stranger(dir, net::NodeKeyName(3), cluster.KeyDir());
  StartWithNode3As(cluster, {"--key", dir + "/node-3.key", "--trust", dir});
  ASSERT_NE(cluster.WaitForLeader(20000, {1, 2}), 0u) << cluster.DescribeStatus({1, 2});
  auto client = cluster.NewClient(10000, 200, {1, 2});
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(client->Execute(ledger::EncodeKvPut("k/" + std::to_string(i), "v")).ok());
  }
  // Ask node 3 with a client that trusts its impostor key: it applied nothing.
  net::Security asks_impostor = cluster.client_security();
  asks_impostor.trusted.nodes[3] = impostor.own.public_key;
  auto probe = ClientWith(cluster, asks_impostor, 2000);
  auto s3 = probe->QueryStatus(3, false, 2000);
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();
  auto s1 = FreshStatus(cluster, 1);
  ASSERT_TRUE(s1.has_value());
  EXPECT_LE(s3.value().applied_slot + 20, s1->applied_slot) << "node 3 learned the writes";
  for (NodeId id : {1u, 2u}) {
    EXPECT_EQ(Count(ReadAll(cluster.LogPath(id)), impostor.own.public_key), 1u)
        << "node " << id << " should log the impostor's key exactly once";
  }
  cluster.Kill(3);
  cluster.Start(3);  // With the key nodes 1 and 2 trust.
  EXPECT_TRUE(cluster.WaitForConvergence(20000)) << cluster.DescribeStatus();
}

// A node restarted in plaintext never talks to the CURVE nodes (each says so once per socket).
TEST(Security, PlaintextPeerNeverTalksToSecureNodes) {
  TestCluster cluster;
  StartWithNode3As(cluster, {"--insecure"});
  ASSERT_NE(cluster.WaitForLeader(20000, {1, 2}), 0u) << cluster.DescribeStatus({1, 2});
  auto client = cluster.NewClient(10000, 200, {1, 2});
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(client->Execute(ledger::EncodeKvPut("k/" + std::to_string(i), "v")).ok());
  }
  client::ClientOptions co;
  co.cluster = cluster.cluster();
  auto plain = client::Client::Connect(co);  // Plaintext, like node 3.
  ASSERT_TRUE(plain.ok());
  auto s3 = plain.value()->QueryStatus(3, false, 2000);
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();
  auto s1 = FreshStatus(cluster, 1);
  ASSERT_TRUE(s1.has_value());
  EXPECT_LE(s3.value().applied_slot + 20, s1->applied_slot) << "node 3 learned the writes";
  // Each secure node says so at most once per socket and kind (its listening socket, its
  // socket to node 3), however often node 3 retries (every 100 ms).
  std::this_thread::sleep_for(std::chrono::seconds(1));  // Both sockets have met node 3.
  // ZeroMQ reports the mismatch as such, or as a handshake failure without detail.
  auto notes = [&](NodeId id) {
    const std::string log = ReadAll(cluster.LogPath(id));
    return Count(log, "the other plaintext") + Count(log, "a handshake failed");
  };
  std::map<NodeId, size_t> noted;
  for (NodeId id : {1u, 2u}) noted[id] = notes(id);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  for (NodeId id : {1u, 2u}) {
    const size_t n = notes(id);
    EXPECT_GE(n, 1u) << "node " << id << " never logged the plaintext peer";
    EXPECT_LE(n, 4u) << "node " << id;
    EXPECT_GE(n, noted[id]);  // At most 2 sockets x 2 kinds of note, after ~30 retries.
  }
  EXPECT_GE(notes(3), 1u);
}

// Records a session through a proxy: the key and value must not appear with CURVE, and must
// appear in plaintext (proof that the recording sees the traffic at all).
void RecordSession(bool insecure, bool* key_seen, bool* value_seen) {
  ClusterOptions o;
  o.insecure = insecure;
  TestCluster cluster(o);
  cluster.StartAll();
  ASSERT_NE(cluster.WaitForLeader(20000), 0u) << cluster.DescribeStatus();
  RecordingProxy proxy(cluster.cluster().Find(1)->port);
  std::mt19937_64 rng(std::random_device{}());
  const std::string key = "balance-of-alice-" + std::to_string(rng());
  const std::string value = "one-million-dollars-" + std::to_string(rng());
  const std::string via_proxy = "1=127.0.0.1:" + std::to_string(proxy.port());
  std::vector<std::string> security = cluster.ClientSecurityArgs();
  std::vector<std::string> put = {"kv", "put", key, value, "--cluster", via_proxy};
  std::vector<std::string> get = {"kv", "get", key, "--json", "--cluster", via_proxy};
  put.insert(put.end(), security.begin(), security.end());
  get.insert(get.end(), security.begin(), security.end());
  CliResult p = RunSynod(put);
  ASSERT_EQ(p.exit_code, 0) << p.Describe();
  CliResult g = RunSynod(get);
  ASSERT_EQ(g.exit_code, 0) << g.Describe();
  ASSERT_EQ(g.First()["value"], value) << g.Describe();
  const std::string bytes = proxy.Recorded();
  EXPECT_GT(bytes.size(), 2 * value.size());
  *key_seen = bytes.find(key) != std::string::npos;
  *value_seen = bytes.find(value) != std::string::npos;
}

TEST(Security, RecordedCurveSessionHoldsNoPlaintext) {
  bool key_seen = true, value_seen = true;
  RecordSession(/*insecure=*/false, &key_seen, &value_seen);
  EXPECT_FALSE(key_seen) << "the key crossed the wire in plaintext";
  EXPECT_FALSE(value_seen) << "the value crossed the wire in plaintext";
}

TEST(Security, RecordedInsecureSessionShowsThePlaintext) {
  bool key_seen = false, value_seen = false;
  RecordSession(/*insecure=*/true, &key_seen, &value_seen);
  EXPECT_TRUE(key_seen) << "the recording missed the plaintext key: the check cannot fail";
  EXPECT_TRUE(value_seen) << "the recording missed the plaintext value";
}

}  // namespace
}  // namespace synod::integration
