// Majorities: a 5-node cluster keeps serving writes with 2 nodes down (the leader among
// them); a node without a majority (2 of 5 up, or 1 of 3) refuses writes: the write times out
// with exit 1 and is never acknowledged, and nothing is decided meanwhile.
#include <gtest/gtest.h>

#include "ledger/client.h"
#include "tests/integration/cluster.h"
#include "tests/integration/json_util.h"

namespace synod::integration {
namespace {

using Clock = std::chrono::steady_clock;

bool Acknowledged(const CliResult& r) {
  return r.exit_code == 0 || r.out.find("\"ok\": true") != std::string::npos ||
         r.out.find("\"ok\":true") != std::string::npos;
}

// With only `alive` up (a minority), a write through them is refused: the client library
// times out, the CLI exits 1 within its timeout, and no node of `alive` decides anything.
void ExpectMinorityRefusesWrites(TestCluster& cluster, const std::vector<NodeId>& alive) {
  std::map<NodeId, Slot> decided_before;
  for (NodeId id : alive) {
    auto s = cluster.Status(id, 1000);
    ASSERT_TRUE(s.has_value()) << "node " << id << " does not answer";
    decided_before[id] = s->decided_slot;
  }
  auto client = cluster.NewClient(/*timeout_ms=*/1500, /*retry_ms=*/300, alive);
  auto r = client->Execute(ledger::EncodeKvPut("minority", "lost"));
  EXPECT_FALSE(r.ok()) << "a minority acknowledged a write\n" << cluster.DescribeStatus(alive);

  std::vector<std::string> args = {"kv",     "put",       "minority-cli",        "lost",
                                   "--json", "--cluster", cluster.SpecOf(alive), "--timeout-ms",
                                   "2000"};
  for (const std::string& a : cluster.ClientSecurityArgs()) args.push_back(a);
  CliResult cli = RunSynod(args, 20000);
  EXPECT_EQ(cli.exit_code, kFailure) << cli.Describe();
  EXPECT_FALSE(Acknowledged(cli)) << cli.Describe();
  EXPECT_LT(cli.seconds, 5.0) << cli.Describe();
  EXPECT_FALSE(cli.err.empty()) << cli.Describe();
  for (NodeId id : alive) {
    auto s = cluster.Status(id, 1000);
    ASSERT_TRUE(s.has_value()) << "node " << id << " stopped answering";
    EXPECT_EQ(s->decided_slot, decided_before[id]) << "node " << id << " decided without a "
                                                   << "majority\n"
                                                   << cluster.DescribeStatus(alive);
  }
}

TEST(Quorum, FiveNodesServeWritesWithTwoDownAndRefuseWithThreeDown) {
  ClusterOptions o;
  o.nodes = 5;
  TestCluster cluster(o);
  cluster.StartAll();
  const NodeId leader = cluster.WaitForLeader(20000);
  ASSERT_NE(leader, 0u) << cluster.DescribeStatus();
  auto client = cluster.NewClient(10000, 200);
  ASSERT_TRUE(client->Execute(ledger::EncodeKvPut("five", "0")).ok());

  // Down: the leader and one follower.
  const NodeId follower = leader == 5 ? 4 : 5;
  cluster.Kill(leader);
  cluster.Kill(follower);
  const auto start = Clock::now();
  for (int i = 1; i <= 50; ++i) {
    auto r = client->Execute(ledger::EncodeKvPut("five", std::to_string(i)));
    ASSERT_TRUE(r.ok()) << "write " << i << " with 3 of 5 up: " << r.status().ToString() << "\n"
                        << cluster.DescribeStatus();
  }
  std::printf("50 writes with nodes %u and %u down took %.0f ms\n", leader, follower,
              MsSince(start));
  CliResult put = cluster.Cli({"kv", "put", "five-cli", "yes", "--json"});
  EXPECT_EQ(put.exit_code, 0) << put.Describe();
  ASSERT_TRUE(cluster.WaitForConvergence(10000)) << cluster.DescribeStatus();

  // A third node down: 2 of 5 are a minority.
  std::vector<NodeId> alive;
  for (NodeId id : cluster.ids()) {
    if (cluster.Running(id)) alive.push_back(id);
  }
  ASSERT_EQ(alive.size(), 3u);
  cluster.Kill(alive.back());
  alive.pop_back();
  ExpectMinorityRefusesWrites(cluster, alive);
}

TEST(Quorum, OneOfThreeRefusesWrites) {
  TestCluster cluster;
  cluster.StartAll();
  ASSERT_NE(cluster.WaitForLeader(20000), 0u) << cluster.DescribeStatus();
  ASSERT_TRUE(cluster.NewClient()->Execute(ledger::EncodeKvPut("three", "1")).ok());
  ASSERT_TRUE(cluster.WaitForConvergence(10000)) << cluster.DescribeStatus();
  cluster.Kill(1);
  cluster.Kill(2);
  ExpectMinorityRefusesWrites(cluster, {3});
}

}  // namespace
}  // namespace synod::integration
