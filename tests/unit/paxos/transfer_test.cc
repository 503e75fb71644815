// Planned leader transfer (Leader, "Transfer"): the old leader drains its window, hands over
// with a TakeOver, and the target scouts at once. Cores fed by hand; assertions on the Ready.
#include <gtest/gtest.h>

#include "paxos/core.h"
#include "test_util.h"

namespace synod {
namespace {

using testing_util::Sent;

CoreConfig Config(NodeId self) {
  CoreConfig c;
  c.self = self;
  c.members = {1, 2, 3};
  return c;
}

RecoveredState Joined() {
  RecoveredState r;
  r.joined = true;
  return r;
}

Command Cmd(uint64_t request) { return Command{7, request, "x"}; }

// Node 1 of {1,2,3} as the active leader.
void MakeLeader(Core& core) {
  Ready ready;
  for (int i = 0; i < 1000 && Sent<PrepareMsg>(ready).empty(); ++i) core.Tick(0, &ready);
  const Ballot b = Sent<PrepareMsg>(ready).at(0).second.ballot;
  core.Step({2, 1, PromiseMsg{b, 0, {}}}, &ready);
  ASSERT_EQ(core.role(), Core::Role::kLeader);
}

TEST(Transfer, OnlyTheActiveLeaderAcceptsAndNotToItself) {
  Core follower(Config(2), Joined());
  EXPECT_FALSE(follower.TransferLeadership(3));
  Core leader(Config(1), Joined());
  MakeLeader(leader);
  EXPECT_FALSE(leader.TransferLeadership(1));
  EXPECT_FALSE(leader.TransferLeadership(9));
  EXPECT_TRUE(leader.TransferLeadership(3));
}

TEST(Transfer, LeaderDrainsItsWindowThenHandsOver) {
  Core core(Config(1), Joined());
  MakeLeader(core);
  Ready ready;
  core.Step({kClientEndpoint, 1, InvokeMsg{Cmd(1)}}, &ready);
  const Slot slot = Sent<AcceptMsg>(ready).back().second.slot;
  ASSERT_TRUE(core.TransferLeadership(3));
  ready.Clear();
  core.Step({kClientEndpoint, 1, InvokeMsg{Cmd(2)}}, &ready);
  core.Tick(0, &ready);
  EXPECT_TRUE(Sent<AcceptMsg>(ready).empty()) << "a new slot opened during the transfer";
  EXPECT_TRUE(Sent<TakeOverMsg>(ready).empty()) << "handed over with a slot in flight";
  core.Step({2, 1, AcceptedMsg{core.leader().ballot(), slot}}, &ready);  // Chosen.
  ready.Clear();
  core.Tick(0, &ready);
  auto take = Sent<TakeOverMsg>(ready);
  ASSERT_EQ(take.size(), 1u);
  EXPECT_EQ(take[0].first, 3u);
  EXPECT_EQ(take[0].second.ballot, core.leader().ballot());
  EXPECT_EQ(take[0].second.decided_slot, slot);
  // The target's Active (higher ballot) makes it step down.
  ready.Clear();
  Ballot higher{core.leader().ballot().round + 1, 3};
  core.Step({3, 1, ActiveMsg{higher, slot}}, &ready);
  EXPECT_EQ(core.role(), Core::Role::kFollower);
  EXPECT_EQ(core.replica().leader(), 3u);
}

TEST(Transfer, TargetScoutsAtOnceAboveTheOldBallot) {
  Core target(Config(3), Joined());
  Ready ready;
  target.Step({1, 3, TakeOverMsg{Ballot{5, 1}, 0}}, &ready);
  auto prepares = Sent<PrepareMsg>(ready);
  ASSERT_FALSE(prepares.empty());
  EXPECT_GT(prepares[0].second.ballot, (Ballot{5, 1}));
  EXPECT_EQ(prepares[0].second.ballot.node, 3u);
}

TEST(Transfer, LeaderResumesWhenTheTargetDoesNotTakeOver) {
  CoreConfig config = Config(1);
  Core core(config, Joined());
  MakeLeader(core);
  ASSERT_TRUE(core.TransferLeadership(3));
  Ready ready;
  for (uint32_t i = 0; i <= config.leader_timeout_ticks; ++i) core.Tick(0, &ready);
  EXPECT_EQ(core.role(), Core::Role::kLeader);
  ready.Clear();
  core.Step({kClientEndpoint, 1, InvokeMsg{Cmd(3)}}, &ready);
  EXPECT_FALSE(Sent<AcceptMsg>(ready).empty()) << "still paused after the transfer timed out";
}

}  // namespace
}  // namespace synod
