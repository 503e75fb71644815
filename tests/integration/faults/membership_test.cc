// Membership changes through the log (src/paxos/membership.h) on real clusters under recorded
// load: grow 3 -> 5, replace a node, remove the leader, and kill -9 nodes in the middle of a
// change. Every run ends with the fault suite's checks (harness.h) over the final members:
// one applied slot and state hash, `synod check` ok, the KV history linearizable, and every
// acknowledged transfer present on every member's disk.
//
// The clusters have node slots for every member a test will ever have; TestCluster::UseMembers
// decides what --cluster each node starts with and what the CLI is told. Each run prints its
// seed and a reproducer (SYNOD_FAULT_SEED=S).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "tests/integration/faults/harness.h"
#include "tests/integration/json_util.h"

namespace synod::integration::faults {
namespace {

using Clock = std::chrono::steady_clock;

std::string AddressOf(const TestCluster& cluster, NodeId id) {
  const net::NodeAddress* a = cluster.cluster().Find(id);
  return std::to_string(id) + "=" + a->host + ":" + std::to_string(a->port);
}

// Waits until every node of `ask` reports `voters` as the voters and no learner. "" or why not.
std::string WaitForVoters(TestCluster& cluster, const std::vector<NodeId>& voters,
                          const std::vector<NodeId>& ask, int timeout_ms) {
  const auto start = Clock::now();
  std::string last;
  while (MsSince(start) < timeout_ms) {
    bool all = true;
    last.clear();
    for (NodeId id : ask) {
      auto s = cluster.Status(id, 300);
      if (!s || s->members != voters || !s->learners.empty()) {
        all = false;
        last += "node " + std::to_string(id) + (s ? " reports voters" : " does not answer");
        if (s) {
          for (NodeId v : s->members) last += " " + std::to_string(v);
          last += ", learners";
          for (NodeId l : s->learners) last += " " + std::to_string(l);
        }
        last += "; ";
      }
    }
    if (all) return "";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return "voters did not settle within " + std::to_string(timeout_ms) + " ms: " + last + "\n" +
         cluster.DescribeStatus();
}

// `synod member ...` against the members in use; "" or what went wrong. *answer: its JSON.
std::string Member(TestCluster& cluster, std::vector<std::string> args, json* answer = nullptr) {
  args.insert(args.begin(), "member");
  args.push_back("--json");
  CliResult r = cluster.Cli(args, 60000);
  if (r.exit_code != 0 || !r.First().is_object() || r.First()["ok"] != true) {
    return "synod member " + args[1] + " " + args[2] + " failed: " + r.Describe() + "\n";
  }
  if (answer != nullptr) *answer = r.First();
  return "";
}

// Adds `id` (started after the change is decided, with --cluster = the members + itself) and
// waits until it votes. "" or what went wrong.
std::string Grow(TestCluster& cluster, std::vector<NodeId>* members, NodeId id) {
  json answer;
  if (std::string e = Member(cluster, {"add", AddressOf(cluster, id)}, &answer); !e.empty()) {
    return e;
  }
  if (answer["op"] != "add" || U64(answer["id"]) != id || U64(answer["effective_slot"]) == 0) {
    return "member add answered " + answer.dump() + "\n";
  }
  cluster.Start(id);
  members->push_back(id);
  cluster.UseMembers(*members);
  return WaitForVoters(cluster, *members, *members, 30000);
}

struct ChangeRun {
  explicit ChangeRun(size_t slots, std::vector<NodeId> initial, std::vector<NodeId> client_ids)
      : cluster(Options(slots)), members(std::move(initial)) {
    cluster.UseMembers(members);
    options.client_ids = std::move(client_ids);
  }
  static ClusterOptions Options(size_t slots) {
    ClusterOptions o;
    o.nodes = slots;
    return o;
  }
  // Starts the initial members and the load. "" or what went wrong.
  std::string Start(uint64_t seed) {
    PrintReproducer(seed);
    for (NodeId id : members) cluster.Start(id);
    if (cluster.WaitForLeader(20000, members) == 0) {
      return "no leader at start\n" + cluster.DescribeStatus(members);
    }
    if (options.client_ids.empty()) options.client_ids = members;
    workload = std::make_unique<Workload>(&cluster, seed, options);
    if (std::string e = workload->Setup(); !e.empty()) return e;
    workload->Start();
    return "";
  }
  // Stops the load and runs every check over the members. Returns the failures.
  std::string Finish(uint64_t seed, Schedule& schedule) {
    schedule.SleepBetween(800, 1200);  // Load under the final configuration.
    workload->Stop();
    std::string failures = CheckRun(cluster, *workload, &stats, members);
    PrintSummary(CurrentTestName(), seed, stats, failures.empty());
    EXPECT_GT(stats.transfers_acked, 0u);
    EXPECT_GT(stats.kv_acked, 0u);
    return failures;
  }

  TestCluster cluster;
  std::vector<NodeId> members;
  WorkloadOptions options;
  std::unique_ptr<Workload> workload;
  RunStats stats;
};

// The flags of status: voters and learners as the contract's JSON shows them.
json StatusLine(TestCluster& cluster, NodeId id) {
  CliResult r = cluster.Cli({"status", "--json"}, 20000);
  for (const json& j : r.Json()) {
    if (j.is_object() && U64(j["id"]) == id) return j;
  }
  return json();
}

TEST(Membership, GrowThreeToFiveUnderLoad) {
  const uint64_t seed = FaultSeed();
  Schedule schedule(seed);
  ChangeRun run(5, {1, 2, 3}, {1, 2, 3});
  ASSERT_EQ(run.Start(seed), "");
  schedule.SleepBetween(300, 800);
  ASSERT_EQ(Grow(run.cluster, &run.members, 4), "");
  ASSERT_EQ(Grow(run.cluster, &run.members, 5), "");
  run.stats.faults = 2;
  const json line = StatusLine(run.cluster, 5);
  EXPECT_EQ(line["voters"], json({1, 2, 3, 4, 5})) << line.dump();
  EXPECT_EQ(line["learners"], json::array()) << line.dump();
  // A member restarted with the --cluster it was created with (3 members) opens its data dir,
  // uses the configuration on disk and says that the flag differs; with the new spec it does
  // not.
  run.cluster.UseMembers({1, 2, 3});
  run.cluster.Stop(2);
  run.cluster.Start(2);
  run.cluster.UseMembers(run.members);
  ASSERT_EQ(WaitForVoters(run.cluster, run.members, {2}, 20000), "");
  EXPECT_EQ(StatusLine(run.cluster, 2)["cluster_flag_mismatch"], true);
  run.cluster.Stop(2);
  run.cluster.Start(2);
  ASSERT_EQ(WaitForVoters(run.cluster, run.members, {2}, 20000), "");
  EXPECT_EQ(StatusLine(run.cluster, 2)["cluster_flag_mismatch"], false);
  EXPECT_EQ(run.Finish(seed, schedule), "") << "seed " << seed;
}

// Node 4's public key reaches the trust dir only just before `member add` (as an operator
// copies it): the members read their trust dirs at start without it, and must reread them
// when the configuration changes to admit node 4.
TEST(Membership, ReplaceANodeUnderLoad) {
  const uint64_t seed = FaultSeed();
  Schedule schedule(seed);
  ChangeRun run(4, {1, 2, 3}, {1, 2});
  const std::string key = run.cluster.KeyDir() + "/node-4.pub";
  std::filesystem::rename(key, key + ".later");
  ASSERT_EQ(run.Start(seed), "");
  schedule.SleepBetween(300, 800);
  std::filesystem::rename(key + ".later", key);
  ASSERT_EQ(Grow(run.cluster, &run.members, 4), "");
  json answer;
  ASSERT_EQ(Member(run.cluster, {"remove", "3"}, &answer), "");
  EXPECT_EQ(answer["op"], "remove") << answer.dump();
  run.members = {1, 2, 4};
  ASSERT_EQ(WaitForVoters(run.cluster, run.members, run.members, 30000), "");
  run.stats.faults = 2;
  // The removed node stays up, idle, and says so; nobody asks it any more.
  auto removed = run.cluster.Status(3, 1000);
  ASSERT_TRUE(removed.has_value());
  EXPECT_TRUE(removed->removed);
  run.cluster.UseMembers(run.members);
  run.cluster.Stop(3);
  EXPECT_EQ(run.Finish(seed, schedule), "") << "seed " << seed;
}

// The clients talk to every node, the one removed too: they find the new leader by themselves.
TEST(Membership, RemoveTheLeaderUnderLoad) {
  const uint64_t seed = FaultSeed();
  Schedule schedule(seed);
  ChangeRun run(3, {1, 2, 3}, {});
  ASSERT_EQ(run.Start(seed), "");
  const NodeId now_leading = run.cluster.WaitForLeader(10000);
  ASSERT_NE(now_leading, 0u);
  std::vector<NodeId> stay;
  for (NodeId id : run.members) {
    if (id != now_leading) stay.push_back(id);
  }
  schedule.SleepBetween(300, 800);
  json answer;
  ASSERT_EQ(Member(run.cluster, {"remove", std::to_string(now_leading)}, &answer), "");
  EXPECT_NE(U64(answer["leader_moved_to"]), uint64_t{now_leading}) << answer.dump();
  EXPECT_TRUE(std::find(stay.begin(), stay.end(), U64(answer["leader_moved_to"])) != stay.end())
      << answer.dump();
  ASSERT_EQ(WaitForVoters(run.cluster, stay, stay, 30000), "");
  run.stats.faults = 1;
  auto removed = run.cluster.Status(now_leading, 1000);
  ASSERT_TRUE(removed.has_value());
  EXPECT_TRUE(removed->removed);
  EXPECT_NE(removed->role, "leader");
  run.members = stay;
  run.cluster.UseMembers(stay);
  run.cluster.Stop(now_leading);
  EXPECT_EQ(run.Finish(seed, schedule), "") << "seed " << seed;
}

// kill -9 while a change is on its way: the leader right after the add is sent (the client
// retries; the change happens once), then the new member right after it was promoted. Both
// come back from their data dirs with the configuration they persisted.
TEST(Membership, Kill9InTheMiddleOfAChangeThenRestart) {
  const uint64_t seed = FaultSeed();
  Schedule schedule(seed);
  ChangeRun run(4, {1, 2, 3}, {1, 2, 3});
  ASSERT_EQ(run.Start(seed), "");
  schedule.SleepBetween(300, 800);
  const NodeId leader = run.cluster.WaitForLeader(10000);
  ASSERT_NE(leader, 0u);
  std::vector<std::string> args = {"member", "add",       AddressOf(run.cluster, 4),
                                   "--json", "--cluster", run.cluster.MemberSpec()};
  for (const std::string& a : run.cluster.ClientSecurityArgs()) args.push_back(a);
  auto add = std::async(std::launch::async, [args] { return RunSynod(args, 60000); });
  schedule.SleepBetween(0, 150);
  run.cluster.Kill(leader, SIGKILL);
  ++run.stats.faults;
  schedule.SleepBetween(1100, 1800);  // Longer than the leader timeout (1 s).
  run.cluster.UseMembers({1, 2, 3, 4});
  run.cluster.Start(leader);  // With the new spec: its data dir was made with the old one.
  const CliResult added = add.get();
  ASSERT_EQ(added.exit_code, 0) << added.Describe();
  ASSERT_EQ(added.First()["ok"], true) << added.Describe();
  run.cluster.Start(4);
  run.members = {1, 2, 3, 4};
  ASSERT_EQ(WaitForVoters(run.cluster, run.members, run.members, 30000), "");
  run.cluster.Kill(4, SIGKILL);
  ++run.stats.faults;
  schedule.SleepBetween(300, 800);
  run.cluster.Start(4);
  ASSERT_EQ(WaitForVoters(run.cluster, run.members, {4}, 20000), "");
  EXPECT_EQ(run.Finish(seed, schedule), "") << "seed " << seed;
}

}  // namespace
}  // namespace synod::integration::faults
