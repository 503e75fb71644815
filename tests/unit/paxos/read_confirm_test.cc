// Reads without the log (Leader::ConfirmLeadership, node/node.h "Reads"): the active leader
// launches a slot to confirm its ballot (a no-op when nothing is queued, one per request,
// within the window), confirmed_slot() moves only when a commander of the current ballot sees its
// slot chosen, and a step-down forgets it. Cores fed by hand; assertions on the Ready.
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

// Node 1 of {1,2,3} as the active leader.
void MakeLeader(Core& core) {
  Ready ready;
  for (int i = 0; i < 1000 && Sent<PrepareMsg>(ready).empty(); ++i) core.Tick(0, &ready);
  const Ballot b = Sent<PrepareMsg>(ready).at(0).second.ballot;
  core.Step({2, 1, PromiseMsg{b, 0, {}}}, &ready);
  ASSERT_EQ(core.role(), Core::Role::kLeader);
}

// The Accepts to node 2 in `ready`, by slot.
std::vector<AcceptMsg> AcceptsTo2(const Ready& ready) {
  std::vector<AcceptMsg> out;
  for (const auto& [to, m] : Sent<AcceptMsg>(ready)) {
    if (to == 2) out.push_back(m);
  }
  return out;
}

TEST(ReadConfirm, IdleLeaderLaunchesOneNoopAndConfirmsWhenItIsChosen) {
  Core core(Config(1), Joined());
  MakeLeader(core);
  const Slot after = core.leader().next_slot();
  Ready ready;
  core.ConfirmLeadership(after, &ready);
  auto accepts = AcceptsTo2(ready);
  ASSERT_EQ(accepts.size(), 1u) << "no slot launched to confirm the ballot";
  EXPECT_EQ(accepts[0].slot, after);
  EXPECT_TRUE(accepts[0].batch->IsNoop());
  EXPECT_LT(core.leader().confirmed_slot(), after) << "confirmed before a majority accepted";

  // The same request again launches nothing (a slot >= after is in flight); reads of a later
  // loop pass get a slot of their own, pipelined behind the first.
  ready.Clear();
  core.ConfirmLeadership(after, &ready);
  EXPECT_TRUE(AcceptsTo2(ready).empty()) << "a second no-op for the same reads";
  core.ConfirmLeadership(core.leader().next_slot(), &ready);
  accepts = AcceptsTo2(ready);
  ASSERT_EQ(accepts.size(), 1u) << "one no-op per request";
  EXPECT_EQ(accepts[0].slot, after + 1);

  ready.Clear();
  core.Step({2, 1, AcceptedMsg{core.leader().ballot(), after}}, &ready);  // 1 and 2: chosen.
  EXPECT_GE(core.leader().confirmed_slot(), after);
  ASSERT_FALSE(ready.decisions.empty());
  EXPECT_EQ(ready.decisions.front().slot, after);
}

TEST(ReadConfirm, QueuedCommandsConfirmWithoutANoop) {
  Core core(Config(1), Joined());
  MakeLeader(core);
  Ready ready;
  core.Step({kClientEndpoint, 1, InvokeMsg{Command{7, 1, "x"}}}, &ready);
  const Slot first = AcceptsTo2(ready).at(0).slot;
  const Slot after = core.leader().next_slot();  // A read arrives here, then a write.
  ready.Clear();
  core.Step({kClientEndpoint, 1, InvokeMsg{Command{7, 2, "y"}}}, &ready);
  core.ConfirmLeadership(after, &ready);
  auto accepts = AcceptsTo2(ready);
  ASSERT_EQ(accepts.size(), 1u);
  EXPECT_EQ(accepts[0].slot, after);
  EXPECT_FALSE(accepts[0].batch->IsNoop()) << "a no-op although a command was queued";
  // The slot chosen first was launched before the read: it does not confirm.
  core.Step({2, 1, AcceptedMsg{core.leader().ballot(), first}}, &ready);
  EXPECT_LT(core.leader().confirmed_slot(), after);
  core.Step({2, 1, AcceptedMsg{core.leader().ballot(), after}}, &ready);
  EXPECT_GE(core.leader().confirmed_slot(), after);
}

TEST(ReadConfirm, StepDownForgetsTheConfirmationAndAFollowerLaunchesNothing) {
  Core core(Config(1), Joined());
  MakeLeader(core);
  Ready ready;
  const Slot after = core.leader().next_slot();
  core.ConfirmLeadership(after, &ready);
  core.Step({2, 1, AcceptedMsg{core.leader().ballot(), after}}, &ready);
  ASSERT_GE(core.leader().confirmed_slot(), after);
  // A higher ballot: the leader steps down and what it confirmed no longer counts.
  const Ballot higher{core.leader().ballot().round + 1, 3};
  core.Step({3, 1, ActiveMsg{higher, 0}}, &ready);
  ASSERT_NE(core.role(), Core::Role::kLeader);
  EXPECT_EQ(core.leader().confirmed_slot(), 0u);
  ready.Clear();
  core.ConfirmLeadership(core.leader().next_slot(), &ready);
  EXPECT_TRUE(Sent<AcceptMsg>(ready).empty()) << "a follower launched a slot";

  Core follower(Config(2), Joined());
  ready.Clear();
  follower.ConfirmLeadership(1, &ready);
  EXPECT_TRUE(ready.Empty());
}

TEST(ReadConfirm, AnAcceptedAtAnotherBallotDoesNotConfirm) {
  Core core(Config(1), Joined());
  MakeLeader(core);
  Ready ready;
  const Slot after = core.leader().next_slot();
  core.ConfirmLeadership(after, &ready);
  const Ballot higher{core.leader().ballot().round + 1, 2};
  core.Step({2, 1, AcceptedMsg{higher, after}}, &ready);  // Node 2 promised a higher ballot.
  EXPECT_EQ(core.leader().confirmed_slot(), 0u);
  EXPECT_NE(core.role(), Core::Role::kLeader);
}

}  // namespace
}  // namespace synod
