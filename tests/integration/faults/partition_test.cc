// Network partitions under recorded load, each run ending with the same checks as the other
// fault tests (harness.h).
//
// The host's network is never touched: the test process moves itself into a new network
// namespace (unshare(CLONE_NEWNET), as root) before it starts anything, so the nodes, the
// clients and every iptables rule live there and vanish with the process. Inside, node i
// listens on 127.0.0.(10 + i) and runs as uid 61000 + i; a nat rule gives each node's
// outgoing connections its own source address (SNAT by owner uid), so that a rule
// "drop 127.0.0.11 -> 127.0.0.12" cuts exactly the link between nodes 1 and 2. Clients stay
// on 127.0.0.1 and reach every node (as in Jepsen: clients see both sides of a partition).
//
// Needs root, unshare and iptables (tools/common.sh installs the Debian package; both the
// legacy and the nft backend work in a namespace here, legacy is tried first). Without them
// every test here is skipped with the reason, never passed silently.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "tests/integration/faults/harness.h"

namespace synod::integration::faults {
namespace {

constexpr int kHostBase = 10;
constexpr unsigned kUidBase = 61000;

int Sh(const std::string& command) {
  const int status = std::system((command + " >/dev/null 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Host(NodeId id) { return "127.0.0." + std::to_string(kHostBase + int(id)); }

// A private network namespace with loopback up and one source address per node. Sets *skip
// to the reason when that is not possible here.
class Namespace {
 public:
  explicit Namespace(std::string* skip) {
    if (::geteuid() != 0) {
      *skip = "partition tests need root (unshare -n and iptables)";
      return;
    }
    if (::unshare(CLONE_NEWNET) != 0) {
      *skip = std::string("cannot create a network namespace: ") + std::strerror(errno);
      return;
    }
    if (Sh("ip link set lo up") != 0) {
      *skip = "cannot bring up loopback in the namespace (is iproute2 installed?)";
      return;
    }
    for (const char* candidate : {"iptables-legacy", "iptables-nft", "iptables"}) {
      for (const char* dir : {"/usr/sbin/", "/sbin/"}) {
        const std::string path = std::string(dir) + candidate;
        if (iptables_.empty() && std::filesystem::exists(path) && Sh(path + " -S") == 0) {
          iptables_ = path;
        }
      }
    }
    if (iptables_.empty()) {
      *skip = "no working iptables in the namespace (install the iptables package)";
      return;
    }
    for (NodeId id = 1; id <= 3; ++id) {
      if (Rule("-t nat -A POSTROUTING -m owner --uid-owner " + std::to_string(kUidBase + id) +
               " -j SNAT --to-source " + Host(id)) != 0) {
        *skip = iptables_ + " cannot SNAT by owner uid in the namespace";
        return;
      }
    }
  }

  int Rule(const std::string& args) { return Sh(iptables_ + " " + args); }

  // Drops every packet between `a` and `b`, both ways.
  void Cut(NodeId a, NodeId b) {
    ASSERT_EQ(Rule("-A INPUT -s " + Host(a) + " -d " + Host(b) + " -j DROP"), 0);
    ASSERT_EQ(Rule("-A INPUT -s " + Host(b) + " -d " + Host(a) + " -j DROP"), 0);
  }
  void Heal() { ASSERT_EQ(Rule("-F INPUT"), 0); }

 private:
  std::string iptables_;
};

std::string TestName() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(info->test_suite_name()) + "." + info->name();
}

// Cuts `isolated` from every other node for a while under load, heals, checks.
void RunIsolation(bool isolate_leader) {
  std::string skip;
  Namespace ns(&skip);
  if (!skip.empty()) GTEST_SKIP() << skip;
  const uint64_t seed = FaultSeed();
  std::printf("fault seed %llu; reproduce: SYNOD_FAULT_SEED=%llu %s --gtest_filter=%s\n",
              (unsigned long long)seed, (unsigned long long)seed,
              "build/bin/integration_fault_tests", TestName().c_str());
  ClusterOptions o;
  o.host_base = kHostBase;
  o.uid_base = kUidBase;
  TestCluster cluster(o);
  cluster.StartAll();
  const NodeId leader = cluster.WaitForLeader(20000);
  ASSERT_NE(leader, 0u) << cluster.DescribeStatus();
  Workload workload(&cluster, seed);
  ASSERT_EQ(workload.Setup(), "");
  Schedule schedule(seed);
  RunStats stats;
  workload.Start();
  schedule.SleepBetween(500, 1000);
  for (int round = 0; round < 2; ++round) {
    const NodeId current = cluster.WaitForLeader(10000);
    ASSERT_NE(current, 0u) << cluster.DescribeStatus();
    std::vector<NodeId> followers = cluster.ids();
    std::erase(followers, current);
    const NodeId isolated = isolate_leader ? current : followers[schedule.Next() % 2];
    for (NodeId other : cluster.ids()) {
      if (other != isolated) ns.Cut(isolated, other);
    }
    ++stats.faults;
    schedule.SleepBetween(1500, 3000);  // Several leader timeouts (500 ms).
    // The cut is real: the majority side has a leader of its own and moves on without the
    // isolated node.
    std::vector<NodeId> majority = cluster.ids();
    std::erase(majority, isolated);
    const NodeId majority_leader = cluster.WaitForLeader(5000, majority);
    EXPECT_NE(majority_leader, 0u) << "no leader on the majority side\n"
                                   << cluster.DescribeStatus();
    auto behind = cluster.Status(isolated);
    auto ahead = cluster.Status(majority_leader == 0 ? majority[0] : majority_leader);
    ASSERT_TRUE(behind && ahead);
    EXPECT_LT(behind->decided_slot, ahead->decided_slot) << cluster.DescribeStatus();
    std::printf(
        "round %d: node %u cut off; majority leader %u at decided slot %llu, node %u "
        "at %llu\n",
        round, isolated, majority_leader, (unsigned long long)ahead->decided_slot, isolated,
        (unsigned long long)behind->decided_slot);
    ns.Heal();
    schedule.SleepBetween(1000, 1500);
  }
  workload.Stop();
  const std::string failures = CheckRun(cluster, workload, &stats);
  PrintSummary(TestName(), seed, stats, failures.empty());
  EXPECT_EQ(failures, "") << "seed " << seed;
  EXPECT_GT(stats.kv_acked, 0u);
  EXPECT_GT(stats.transfers_acked, 0u);
}

TEST(Partitions, MinorityFollowerIsolatedUnderLoad) { RunIsolation(/*isolate_leader=*/false); }

TEST(Partitions, LeaderIsolatedUnderLoad) { RunIsolation(/*isolate_leader=*/true); }

}  // namespace
}  // namespace synod::integration::faults
