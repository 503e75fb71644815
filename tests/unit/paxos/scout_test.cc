#include "paxos/scout.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace synod {
namespace {

using testing_util::MakeBatch;
using testing_util::Sent;

const std::vector<NodeId> kMembers = {1, 2, 3, 4, 5};

TEST(Scout, SendsOnePrepareCoveringEverySlotFromSlotFirst) {
  Scout scout(1, kMembers, Ballot{2, 1}, 17);
  Ready ready;
  scout.SendPrepares(&ready);
  auto prepares = Sent<PrepareMsg>(ready);
  ASSERT_EQ(prepares.size(), 5u);
  for (auto& [to, p] : prepares) EXPECT_EQ(p.slot_first, 17u);
}

TEST(Scout, AdoptsHighestBallotValuePerSlotOnMajority) {
  Scout scout(1, kMembers, Ballot{9, 1}, 1);
  auto old_value = MakeBatch(1, 1), new_value = MakeBatch(1, 2), other = MakeBatch(2, 1);
  PromiseMsg p2{Ballot{9, 1}, 0, {PValue{4, Ballot{3, 2}, old_value}}};
  PromiseMsg p3{Ballot{9, 1}, 0, {PValue{4, Ballot{5, 3}, new_value}}};
  PromiseMsg p4{Ballot{9, 1}, 0, {PValue{6, Ballot{1, 4}, other}}};
  EXPECT_EQ(scout.OnPromise(2, p2), PhaseOutcome::kWaiting);
  EXPECT_EQ(scout.OnPromise(3, p3), PhaseOutcome::kWaiting);
  EXPECT_EQ(scout.OnPromise(4, p4), PhaseOutcome::kDone);
  ASSERT_EQ(scout.pvalues().size(), 2u);
  EXPECT_EQ(scout.pvalues().at(4).ballot, (Ballot{5, 3}));
  EXPECT_EQ(scout.pvalues().at(4).batch, new_value);
  EXPECT_EQ(scout.pvalues().at(6).batch, other);
}

TEST(Scout, DuplicatePromisesDoNotCountTwice) {
  Scout scout(1, kMembers, Ballot{1, 1}, 1);
  PromiseMsg p{Ballot{1, 1}, 0, {}};
  EXPECT_EQ(scout.OnPromise(2, p), PhaseOutcome::kWaiting);
  EXPECT_EQ(scout.OnPromise(2, p), PhaseOutcome::kWaiting);
  EXPECT_EQ(scout.OnPromise(9, p), PhaseOutcome::kWaiting);  // Not a member.
  EXPECT_EQ(scout.OnPromise(3, p), PhaseOutcome::kWaiting);
  EXPECT_EQ(scout.OnPromise(4, p), PhaseOutcome::kDone);
}

TEST(Scout, HigherBallotPreempts) {
  Scout scout(1, kMembers, Ballot{1, 1}, 1);
  EXPECT_EQ(scout.OnPromise(2, PromiseMsg{Ballot{2, 2}, 0, {}}), PhaseOutcome::kPreempted);
  EXPECT_EQ(scout.preempted_by(), (Ballot{2, 2}));
}

TEST(Scout, RetransmitsOnlyToAcceptorsThatHaveNotPromised) {
  Scout scout(1, kMembers, Ballot{1, 1}, 1);
  scout.OnPromise(2, PromiseMsg{Ballot{1, 1}, 0, {}});
  Ready ready;
  scout.SendPrepares(&ready);
  std::vector<NodeId> to;
  for (auto& [dest, p] : Sent<PrepareMsg>(ready)) to.push_back(dest);
  EXPECT_EQ(to, (std::vector<NodeId>{1, 3, 4, 5}));
}

TEST(Commander, ChosenOnMajorityOfAcceptedAtItsBallot) {
  Commander c(1, {1, 2, 3}, Ballot{4, 1}, 10, MakeBatch(1, 1));
  EXPECT_EQ(c.OnAccepted(2, AcceptedMsg{Ballot{3, 1}, 10}), PhaseOutcome::kWaiting);  // Stale.
  EXPECT_EQ(c.OnAccepted(2, AcceptedMsg{Ballot{4, 1}, 11}), PhaseOutcome::kWaiting);  // Other slot.
  EXPECT_EQ(c.OnAccepted(2, AcceptedMsg{Ballot{4, 1}, 10}), PhaseOutcome::kWaiting);
  EXPECT_EQ(c.OnAccepted(3, AcceptedMsg{Ballot{4, 1}, 10}), PhaseOutcome::kDone);
}

TEST(Commander, RetransmitsOnlyToAcceptorsThatHaveNotAnswered) {
  Commander c(1, kMembers, Ballot{4, 1}, 10, MakeBatch(1, 1));
  c.OnAccepted(1, AcceptedMsg{Ballot{4, 1}, 10});
  c.OnAccepted(4, AcceptedMsg{Ballot{4, 1}, 10});
  Ready ready;
  c.SendAccepts(&ready);
  std::vector<NodeId> to;
  for (auto& [dest, a] : Sent<AcceptMsg>(ready)) {
    to.push_back(dest);
    EXPECT_EQ(a.slot, 10u);
  }
  EXPECT_EQ(to, (std::vector<NodeId>{2, 3, 5}));
}

TEST(Commander, HigherBallotPreemptsAndStopsRetransmits) {
  Commander c(1, kMembers, Ballot{4, 1}, 10, MakeBatch(1, 1));
  EXPECT_EQ(c.OnAccepted(3, AcceptedMsg{Ballot{5, 3}, 10}), PhaseOutcome::kPreempted);
  Ready ready;
  c.SendAccepts(&ready);
  EXPECT_TRUE(ready.messages.empty());
}

}  // namespace
}  // namespace synod
