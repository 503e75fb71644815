// A node whose data dir was wiped rejoins (Join -> Welcome) and reaches the same state hash:
// first with a small state, then with 100,000 accounts created beforehand, whose snapshot of
// several megabytes is fetched in chunks after the Welcome. It votes again only once it has
// recovered (src/paxos/core.h, "Rejoining"), and a wiped majority waits instead of forming a
// new, empty cluster.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "ledger/client.h"
#include "ledger/ledger_limits.h"
#include "net/codec.h"
#include "node/node.h"
#include "paxos/limits.h"
#include "storage/rocks_log_store.h"
#include "tests/integration/cluster.h"

namespace synod::integration {
namespace {

using Clock = std::chrono::steady_clock;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Creates accounts [first, first + count) on `ledger_id` in commands of `per_command`
// accounts, all in flight at once; every account must come back "ok".
void CreateAccounts(client::Client& client, ledger::Id128 first, size_t count, size_t per_command) {
  std::map<uint64_t, size_t> sizes;  // request id -> accounts in it
  for (size_t done = 0; done < count; done += per_command) {
    std::vector<ledger::AccountSpec> batch;
    for (size_t i = done; i < std::min(count, done + per_command); ++i) {
      batch.push_back({first + i, /*ledger=*/1, /*code=*/1, /*flags=*/0});
    }
    std::string payload = ledger::EncodeCreateAccounts(batch);
    ASSERT_LE(payload.size(), limits::kPayloadBytesMax);
    auto id = client.Submit(std::move(payload));
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    sizes[id.value()] = batch.size();
  }
  std::vector<std::pair<uint64_t, std::string>> results;
  while (client.in_flight() > 0) {
    Status s = client.Poll(200, &results);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  ASSERT_EQ(results.size(), sizes.size());
  for (const auto& [id, bytes] : results) {
    auto r = ledger::DecodeResult(bytes);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r.value().event_codes.size(), sizes[id]);
    for (ledger::ResultCode code : r.value().event_codes) {
      ASSERT_EQ(code, ledger::ResultCode::ok) << ledger::ResultCodeName(code);
    }
  }
}

// The size of the snapshot a node fetched, from its log line "fetching the snapshot at slot S
// (B bytes) from node N" (0 if none).
size_t FetchedSnapshotBytes(const std::string& log) {
  const std::string mark = "fetching the snapshot at slot ";
  const size_t at = log.rfind(mark);
  if (at == std::string::npos) return 0;
  const size_t open = log.find('(', at);
  if (open == std::string::npos) return 0;
  return std::strtoull(log.c_str() + open + 1, nullptr, 10);
}

// Polls until `pred` holds or `timeout_ms` passed.
template <typename Pred>
bool WaitFor(int timeout_ms, Pred pred) {
  const auto start = Clock::now();
  while (MsSince(start) < timeout_ms) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

// True once `id` answers and votes (not a learner: it has finished rejoining).
bool Voting(TestCluster& cluster, NodeId id) {
  auto s = cluster.Status(id);
  return s && s->role != "learner" && s->role != "unreachable";
}

// Stops `id`, wipes its data dir, keeps writing, restarts it empty and waits until it has
// the same applied slot and state hash as the others and votes again. Returns the catch-up time in
// ms, or -1.
double WipeAndRejoin(TestCluster& cluster, client::Client& client, NodeId id, int timeout_ms) {
  cluster.Kill(id);
  cluster.Wipe(id);
  for (int i = 0; i < 20; ++i) {
    if (!client.Execute(ledger::EncodeKvPut("while-wiped/" + std::to_string(i), "x")).ok()) {
      return -1;
    }
  }
  const auto start = Clock::now();
  cluster.Start(id);
  if (!cluster.WaitForConvergence(timeout_ms)) return -1;
  // Until it votes again, losing another member would stop the cluster.
  if (!WaitFor(timeout_ms, [&] { return Voting(cluster, id); })) return -1;
  return MsSince(start);
}

TEST(Rejoin, WipedNodeRejoinsWithSmallState) {
  ClusterOptions o;
  o.snapshot_every = 20;  // So that the Welcome carries a snapshot, not only decisions.
  TestCluster cluster(o);
  cluster.StartAll();
  const NodeId leader = cluster.WaitForLeader(20000);
  ASSERT_NE(leader, 0u) << cluster.DescribeStatus();
  auto client = cluster.NewClient(10000, 200);
  CreateAccounts(*client, 1, 100, 50);
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(client->Execute(ledger::EncodeKvPut("k/" + std::to_string(i), "v")).ok());
  }
  const NodeId wiped = leader == 3 ? 2 : 3;
  const double ms = WipeAndRejoin(cluster, *client, wiped, 30000);
  ASSERT_GE(ms, 0) << "node " << wiped << " did not catch up\n" << cluster.DescribeStatus();
  std::printf("wiped node %u caught up in %.0f ms\n", wiped, ms);
  auto s = cluster.Status(wiped);
  ASSERT_TRUE(s.has_value());
  EXPECT_NE(s->role, "learner");  // It votes again (it may lead: it led once to rejoin).
  EXPECT_GT(s->snapshot_slot, 0u) << "the rejoined node never got a snapshot";
  const std::string log = ReadFile(cluster.LogPath(wiped));
  EXPECT_NE(log.find("installed a snapshot"), std::string::npos) << "no Welcome install logged";
  // It serves reads of what was written before the wipe.
  auto get = cluster.NewClient(10000, 200, {wiped})->Execute(ledger::EncodeKvGet("k/59"));
  ASSERT_TRUE(get.ok()) << get.status().ToString();
}

// The rejoined node's vote counts again: with a third node down, it and one other member are
// the majority that takes every write.
TEST(Rejoin, WipedFollowerVotesAgainAndCarriesAMajority) {
  TestCluster cluster;
  cluster.StartAll();
  const NodeId leader = cluster.WaitForLeader(20000);
  ASSERT_NE(leader, 0u) << cluster.DescribeStatus();
  auto client = cluster.NewClient(10000, 200);
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(client->Execute(ledger::EncodeKvPut("before/" + std::to_string(i), "v")).ok());
  }
  const NodeId wiped = leader == 3 ? 2 : 3;
  cluster.Kill(wiped);
  cluster.Wipe(wiped);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(client->Execute(ledger::EncodeKvPut("during/" + std::to_string(i), "v")).ok());
  }
  cluster.Start(wiped);
  const bool voting = WaitFor(30000, [&] {
    return Voting(cluster, wiped) &&
           ReadFile(cluster.LogPath(wiped)).find("rejoined: votes again") != std::string::npos;
  });
  ASSERT_TRUE(voting) << cluster.DescribeStatus();
  const std::string log = ReadFile(cluster.LogPath(wiped));
  EXPECT_NE(log.find("rejoining, it does not vote"), std::string::npos);
  ASSERT_TRUE(cluster.WaitForConvergence(30000)) << cluster.DescribeStatus();
  // Down to the rejoined node and one other: writes need the rejoined node's vote.
  const NodeId down = wiped == 1 ? 2 : 1;
  cluster.Kill(down);
  const NodeId other = 6 - wiped - down;  // Ids 1, 2, 3.
  auto pair = cluster.NewClient(20000, 200, {wiped, other});
  for (int i = 0; i < 10; ++i) {
    auto put = pair->Execute(ledger::EncodeKvPut("after/" + std::to_string(i), "v"));
    ASSERT_TRUE(put.ok()) << put.status().ToString() << "\n" << cluster.DescribeStatus();
  }
  cluster.Start(down);
  ASSERT_TRUE(cluster.WaitForConvergence(30000)) << cluster.DescribeStatus();
}

// Two of three data dirs wiped: the survivor welcomes the wiped nodes, but they cannot vote
// again (each needs the other's promise), so nothing is decided and nothing is lost; the
// wiped nodes say why in their logs. The survivor keeps its state.
TEST(Rejoin, WipedMajorityWaitsInsteadOfFormingANewCluster) {
  TestCluster cluster;
  cluster.StartAll();
  ASSERT_NE(cluster.WaitForLeader(20000), 0u) << cluster.DescribeStatus();
  auto client = cluster.NewClient(10000, 200);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(client->Execute(ledger::EncodeKvPut("kept/" + std::to_string(i), "v")).ok());
  }
  ASSERT_TRUE(cluster.WaitForConvergence(20000)) << cluster.DescribeStatus();
  auto before = cluster.Status(3);
  ASSERT_TRUE(before.has_value());
  for (NodeId id : cluster.ids()) cluster.Stop(id);
  cluster.Wipe(1);  // The Seed, too.
  cluster.Wipe(2);
  cluster.StartAll();
  const bool waiting = WaitFor(15000, [&] {
    return ReadFile(cluster.LogPath(1)).find("still rejoining") != std::string::npos &&
           ReadFile(cluster.LogPath(2)).find("still rejoining") != std::string::npos;
  });
  EXPECT_TRUE(waiting) << cluster.DescribeStatus();
  for (NodeId id : {NodeId{1}, NodeId{2}}) {
    // Polled: a status answer from before the restart may still be queued in the client.
    EXPECT_TRUE(WaitFor(5000,
                        [&] {
                          auto s = cluster.Status(id);
                          return s && s->role == "learner";
                        }))
        << "node " << id << "\n"
        << cluster.DescribeStatus();
  }
  EXPECT_EQ(cluster.WaitForLeader(2000), 0u) << cluster.DescribeStatus();
  auto put = cluster.NewClient(2000, 200)->Execute(ledger::EncodeKvPut("new", "v"));
  EXPECT_FALSE(put.ok()) << "a wiped majority took a write";
  auto after = cluster.Status(3);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->applied_slot, before->applied_slot);
  EXPECT_EQ(after->state_hash, before->state_hash);
}

// The snapshot (about 9 MB) travels in 1 MiB chunks fetched after the Welcome header.
TEST(Rejoin, WipedNodeRejoinsWith100kAccounts) {
  constexpr size_t kAccounts = 100000;
  ClusterOptions o;
  o.snapshot_every = 20;
  TestCluster cluster(o);
  cluster.StartAll();
  const NodeId leader = cluster.WaitForLeader(20000);
  ASSERT_NE(leader, 0u) << cluster.DescribeStatus();
  auto client = cluster.NewClient(60000, 5000);
  const auto start = Clock::now();
  // 24 bytes per AccountEvent: 3,000 per command stays under kPayloadBytesMax (96 KiB), below
  // the ledger's own kEventsPerCommandMax (8,190).
  static_assert(3000 <= ledger::limits::kEventsPerCommandMax);
  CreateAccounts(*client, 1000000, kAccounts, 3000);
  std::printf("created %zu accounts in %.0f ms\n", kAccounts, MsSince(start));
  // Enough slots after them that every node takes a snapshot that holds them.
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(client->Execute(ledger::EncodeKvPut("pad/" + std::to_string(i), "v")).ok());
  }
  ASSERT_TRUE(cluster.WaitForConvergence(30000)) << cluster.DescribeStatus();
  const NodeId wiped = leader == 3 ? 2 : 3;
  const double ms = WipeAndRejoin(cluster, *client, wiped, 90000);
  const std::string status = cluster.DescribeStatus();
  const std::string log = ReadFile(cluster.LogPath(wiped));
  // What the transfer had to carry: a file of the sender's state, fetched in chunks.
  const size_t snapshot_bytes = FetchedSnapshotBytes(log);
  std::printf("100k accounts: snapshot %zu bytes = %zu chunks of %zu (frame limit %zu)\n",
              snapshot_bytes,
              (snapshot_bytes + limits::kSnapshotChunkBytes - 1) / limits::kSnapshotChunkBytes,
              limits::kSnapshotChunkBytes, limits::kFrameBytesMax);
  RecordProperty("snapshot_bytes", std::to_string(snapshot_bytes));
  EXPECT_GT(snapshot_bytes, kAccounts * 64) << "the snapshot cannot hold every account";
  ASSERT_GE(ms, 0) << "node " << wiped << " did not catch up; snapshot " << snapshot_bytes
                   << " bytes\n"
                   << status;
  std::printf("wiped node %u caught up with 100k accounts in %.0f ms\n", wiped, ms);
  EXPECT_NE(log.find("fetching the snapshot"), std::string::npos) << "no chunked fetch logged";
  EXPECT_NE(log.find("installed a snapshot"), std::string::npos) << "no Welcome install logged";
  // The rejoined node answers for an account created long before it was wiped.
  const ledger::Id128 id = 1000000 + kAccounts - 1;
  auto get = cluster.NewClient(10000, 200, {wiped})
                 ->Execute(ledger::EncodeLookupAccounts(std::span<const ledger::Id128>(&id, 1)));
  ASSERT_TRUE(get.ok()) << get.status().ToString();
  auto accounts = ledger::DecodeResult(get.value());
  ASSERT_TRUE(accounts.ok());
  ASSERT_EQ(accounts.value().accounts.size(), 1u);
}

}  // namespace
}  // namespace synod::integration
