// Reads without the log (Leader, "Reads"; node/node.h "Reads"): the active leader confirms its
// ballot with a read round (a Confirm to the voters, answered with their promised ballot,
// nothing written), a round counts once a majority answered it (or a later one) with the
// leader's ballot, a slot launched after the read and chosen at the ballot confirms too, a
// step-down forgets every confirmation, and a read whose slot's configuration is not known yet
// falls back to a slot. Cores fed by hand; assertions on the Ready.
#include <gtest/gtest.h>

#include "paxos/core.h"
#include "paxos/membership.h"
#include "test_util.h"

namespace synod {
namespace {

using testing_util::Sent;
using ReadState = Leader::ReadState;

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

// The Confirms in `ready`, by destination.
std::map<NodeId, ConfirmMsg> Confirms(const Ready& ready) {
  std::map<NodeId, ConfirmMsg> out;
  for (const auto& [to, m] : Sent<ConfirmMsg>(ready)) out[to] = m;
  return out;
}

// Ticks until a retransmission carries Confirms again (at most one retransmission interval).
void TickUntilConfirmsResent(Core& core, const CoreConfig& config, Ready* ready) {
  for (uint32_t i = 0; i <= config.retransmit_ticks && Confirms(*ready).empty(); ++i) {
    core.Tick(0, ready);
  }
}

TEST(ReadConfirm, ARoundConfirmsOnceAMajorityAnswersWithTheBallotAndWritesNothing) {
  Core core(Config(1), Joined());
  MakeLeader(core);
  const Ballot b = core.leader().ballot();
  const Slot after = core.leader().next_slot();
  const uint64_t round = core.leader().read_round();
  Ready ready;
  core.ConfirmLeadership(after, &ready);
  auto confirms = Confirms(ready);
  ASSERT_EQ(confirms.size(), 1u) << "a Confirm to a quorum: node 2 (1 answers itself)";
  EXPECT_EQ(confirms[2].ballot, b);
  EXPECT_EQ(confirms[2].round, round);
  EXPECT_TRUE(Sent<AcceptMsg>(ready).empty()) << "a slot launched to confirm a read";
  EXPECT_TRUE(ready.to_persist.empty());
  EXPECT_EQ(core.leader().ReadConfirmation(round, after), ReadState::kWaiting)
      << "confirmed by the leader's own acceptor alone";

  // Node 3 promised a lower ballot only (it missed phase 1): not a confirmation of ours.
  core.Step({3, 1, ConfirmedMsg{Ballot{b.round - 1, 3}, round}}, &ready);
  EXPECT_EQ(core.leader().ReadConfirmation(round, after), ReadState::kWaiting);
  ready.Clear();
  core.Step({2, 1, ConfirmedMsg{b, round}}, &ready);
  EXPECT_EQ(core.leader().ReadConfirmation(round, after), ReadState::kConfirmed);
  EXPECT_TRUE(ready.to_persist.empty());
  EXPECT_EQ(core.role(), Core::Role::kLeader);
  EXPECT_EQ(core.CheckInvariants(), "");
}

TEST(ReadConfirm, AFollowerAnswersWithItsPromiseAndARejoiningOneIsSilent) {
  Core follower(Config(2), Joined());
  Ready ready;
  follower.Step({1, 2, PrepareMsg{Ballot{4, 1}, 1}}, &ready);
  ready.Clear();
  follower.Step({1, 2, ConfirmMsg{Ballot{3, 1}, 9}}, &ready);  // An older ballot asks.
  auto answers = Sent<ConfirmedMsg>(ready);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].first, 1u);
  EXPECT_EQ(answers[0].second.ballot, (Ballot{4, 1})) << "not the promise it holds";
  EXPECT_EQ(answers[0].second.round, 9u);
  EXPECT_TRUE(ready.to_persist.empty());

  Acceptor rejoining(2, Ballot{}, {}, 0);
  rejoining.StopVoting();
  ready.Clear();
  rejoining.OnConfirm(1, ConfirmMsg{Ballot{4, 1}, 1}, &ready);
  EXPECT_TRUE(ready.messages.empty()) << "an acceptor that may have forgotten votes answered";
}

TEST(ReadConfirm, ALaterRoundCoversEarlierReadsButNeverLaterOnes) {
  Core core(Config(1), Joined());
  MakeLeader(core);
  const Ballot b = core.leader().ballot();
  const Slot after = core.leader().next_slot();
  Ready ready;
  const uint64_t r1 = core.leader().read_round();
  core.ConfirmLeadership(after, &ready);
  const uint64_t r2 = core.leader().read_round();
  ASSERT_GT(r2, r1);
  core.ConfirmLeadership(after, &ready);
  // Node 2 answers the first round only: the second (sent after reads the first could not
  // cover) still waits.
  core.Step({2, 1, ConfirmedMsg{b, r1}}, &ready);
  EXPECT_EQ(core.leader().ReadConfirmation(r1, after), ReadState::kConfirmed);
  EXPECT_EQ(core.leader().ReadConfirmation(r2, after), ReadState::kWaiting);
  // Node 3 answers the second: it covers both.
  core.Step({3, 1, ConfirmedMsg{b, r2}}, &ready);
  EXPECT_EQ(core.leader().ReadConfirmation(r2, after), ReadState::kConfirmed);
  EXPECT_EQ(core.leader().confirmed_round(), r2);
  // A read that arrives now notes a later round: nothing confirmed covers it yet.
  EXPECT_EQ(core.leader().ReadConfirmation(core.leader().read_round(), after), ReadState::kWaiting);
}

TEST(ReadConfirm, AnUnansweredRoundIsResentToTheSilentVoters) {
  CoreConfig config = Config(1);
  Core core(config, Joined());
  MakeLeader(core);
  const Ballot b = core.leader().ballot();
  Ready ready;
  const uint64_t round = core.leader().read_round();
  core.ConfirmLeadership(core.leader().next_slot(), &ready);
  ready.Clear();
  TickUntilConfirmsResent(core, config, &ready);
  auto again = Confirms(ready);
  ASSERT_EQ(again.size(), 2u) << "the lost round was never resent";
  EXPECT_EQ(again[3].round, round);
  core.Step({2, 1, ConfirmedMsg{b, round}}, &ready);
  ready.Clear();
  for (uint32_t i = 0; i <= config.retransmit_ticks; ++i) core.Tick(0, &ready);
  EXPECT_TRUE(Confirms(ready).empty()) << "a confirmed round was resent";
}

// A round goes to a quorum (the leader's own acceptor and the follower that answered the latest
// rounds); a retransmission goes to every voter that has not answered, and whoever answers it
// is asked first from then on.
TEST(ReadConfirm, ARoundGoesToAQuorumAndFollowsTheFollowerThatAnswers) {
  CoreConfig config = Config(1);
  Core core(config, Joined());
  MakeLeader(core);
  const Ballot b = core.leader().ballot();
  Ready ready;
  const uint64_t r1 = core.leader().read_round();
  core.ConfirmLeadership(core.leader().next_slot(), &ready);
  auto first = Confirms(ready);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first.begin()->first, 2u) << "no answers yet: the lower id";
  // Node 2 is silent: the retransmission asks both, and node 3 answers.
  ready.Clear();
  TickUntilConfirmsResent(core, config, &ready);
  ASSERT_EQ(Confirms(ready).size(), 2u);
  core.Step({3, 1, ConfirmedMsg{b, r1}}, &ready);
  ASSERT_EQ(core.leader().ReadConfirmation(r1, core.leader().next_slot()), ReadState::kConfirmed);
  ready.Clear();
  core.ConfirmLeadership(core.leader().next_slot(), &ready);
  auto next = Confirms(ready);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next.begin()->first, 3u)
      << "the silent follower asked again instead of the one that answered";
}

TEST(ReadConfirm, ASlotLaunchedAfterTheReadConfirmsItToo) {
  Core core(Config(1), Joined());
  MakeLeader(core);
  Ready ready;
  core.Step({kClientEndpoint, 1, InvokeMsg{Command{7, 1, "x"}}}, &ready);
  const Slot first = Sent<AcceptMsg>(ready).at(0).second.slot;
  const Slot after = core.leader().next_slot();  // A read arrives here, then a write.
  const uint64_t round = core.leader().read_round();
  core.ConfirmLeadership(after, &ready);
  core.Step({kClientEndpoint, 1, InvokeMsg{Command{7, 2, "y"}}}, &ready);
  // The slot chosen first was launched before the read: it does not confirm.
  core.Step({2, 1, AcceptedMsg{core.leader().ballot(), first}}, &ready);
  EXPECT_EQ(core.leader().ReadConfirmation(round, after), ReadState::kWaiting);
  core.Step({2, 1, AcceptedMsg{core.leader().ballot(), after}}, &ready);
  EXPECT_EQ(core.leader().ReadConfirmation(round, after), ReadState::kConfirmed);
}

TEST(ReadConfirm, StepDownForgetsTheConfirmationAndAFollowerSendsNothing) {
  Core core(Config(1), Joined());
  MakeLeader(core);
  const Ballot b = core.leader().ballot();
  const Slot after = core.leader().next_slot();
  const uint64_t round = core.leader().read_round();
  Ready ready;
  core.ConfirmLeadership(after, &ready);
  core.Step({2, 1, ConfirmedMsg{b, round}}, &ready);
  ASSERT_EQ(core.leader().ReadConfirmation(round, after), ReadState::kConfirmed);
  // A higher ballot: the leader steps down and what it confirmed no longer counts.
  const Ballot higher{b.round + 1, 3};
  core.Step({3, 1, ActiveMsg{higher, 0}}, &ready);
  ASSERT_NE(core.role(), Core::Role::kLeader);
  EXPECT_EQ(core.leader().ReadConfirmation(round, after), ReadState::kWaiting);
  ready.Clear();
  core.ConfirmLeadership(core.leader().next_slot(), &ready);
  EXPECT_TRUE(ready.Empty()) << "a follower confirms reads";

  Core follower(Config(2), Joined());
  ready.Clear();
  follower.ConfirmLeadership(1, &ready);
  EXPECT_TRUE(ready.Empty());
}

TEST(ReadConfirm, AConfirmedAtAHigherBallotDeposesTheLeader) {
  Core core(Config(1), Joined());
  MakeLeader(core);
  Ready ready;
  const Slot after = core.leader().next_slot();
  const uint64_t round = core.leader().read_round();
  core.ConfirmLeadership(after, &ready);
  const Ballot higher{core.leader().ballot().round + 1, 2};
  core.Step({2, 1, ConfirmedMsg{higher, round}}, &ready);  // Node 2 promised a higher ballot.
  EXPECT_EQ(core.leader().ReadConfirmation(round, after), ReadState::kWaiting);
  EXPECT_NE(core.role(), Core::Role::kLeader);
}

// With more than kConfigDelaySlots slots in flight, the configuration of the read's slot is not
// known yet: the read waits for a slot launched after it (a no-op when nothing is queued).
TEST(ReadConfirm, BeyondTheKnownConfigurationsAReadWaitsForASlot) {
  CoreConfig config = Config(1);
  config.window = kConfigDelaySlots + 8;
  Core core(config, Joined());
  MakeLeader(core);
  const Ballot b = core.leader().ballot();
  Ready ready;
  for (uint64_t r = 1; core.leader().next_slot() < core.replica().slot_next() + kConfigDelaySlots;
       ++r) {
    core.Step({kClientEndpoint, 1, InvokeMsg{Command{7, r, "x"}}}, &ready);
  }
  const Slot after = core.leader().next_slot();
  const uint64_t round = core.leader().read_round();
  ready.Clear();
  core.ConfirmLeadership(after, &ready);
  EXPECT_TRUE(Confirms(ready).empty()) << "a round for a slot of an unknown configuration";
  EXPECT_TRUE(Sent<AcceptMsg>(ready).empty()) << "a slot opened beyond the known configurations";
  // Deciding the first slot makes room: the no-op for the read is launched at `after` (by the
  // next tick: the replica learns the decision after the commander saw it chosen).
  core.Step({2, 1, AcceptedMsg{b, 1}}, &ready);
  core.Tick(0, &ready);
  bool launched = false;
  for (const auto& [to, m] : Sent<AcceptMsg>(ready)) launched |= m.slot == after;
  ASSERT_TRUE(launched) << "no slot launched for the read; after " << after << " slot_next "
                        << core.replica().slot_next() << " next " << core.leader().next_slot()
                        << " in flight " << core.leader().in_flight();
  EXPECT_EQ(core.leader().ReadConfirmation(round, after), ReadState::kWaiting);
  core.Step({2, 1, AcceptedMsg{b, after}}, &ready);
  EXPECT_EQ(core.leader().ReadConfirmation(round, after), ReadState::kConfirmed);
}

}  // namespace
}  // namespace synod
