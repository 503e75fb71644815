#include "paxos/scout.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace synod {
namespace {

using testing_util::MakeBatch;
using testing_util::Sent;

const std::vector<NodeId> kMembers = {1, 2, 3, 4, 5};
Ready unused;  // Where scouts put the Prepares for further pages (unpaged here).

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
  EXPECT_EQ(scout.OnPromise(2, p2, &unused), PhaseOutcome::kWaiting);
  EXPECT_EQ(scout.OnPromise(3, p3, &unused), PhaseOutcome::kWaiting);
  EXPECT_EQ(scout.OnPromise(4, p4, &unused), PhaseOutcome::kDone);
  ASSERT_EQ(scout.pvalues().size(), 2u);
  EXPECT_EQ(scout.pvalues().at(4).ballot, (Ballot{5, 3}));
  EXPECT_EQ(scout.pvalues().at(4).batch, new_value);
  EXPECT_EQ(scout.pvalues().at(6).batch, other);
}

TEST(Scout, DuplicatePromisesDoNotCountTwice) {
  Scout scout(1, kMembers, Ballot{1, 1}, 1);
  PromiseMsg p{Ballot{1, 1}, 0, {}};
  EXPECT_EQ(scout.OnPromise(2, p, &unused), PhaseOutcome::kWaiting);
  EXPECT_EQ(scout.OnPromise(2, p, &unused), PhaseOutcome::kWaiting);
  EXPECT_EQ(scout.OnPromise(9, p, &unused), PhaseOutcome::kWaiting);  // Not a member.
  EXPECT_EQ(scout.OnPromise(3, p, &unused), PhaseOutcome::kWaiting);
  EXPECT_EQ(scout.OnPromise(4, p, &unused), PhaseOutcome::kDone);
}

TEST(Scout, HigherBallotPreempts) {
  Scout scout(1, kMembers, Ballot{1, 1}, 1);
  EXPECT_EQ(scout.OnPromise(2, PromiseMsg{Ballot{2, 2}, 0, {}}, &unused), PhaseOutcome::kPreempted);
  EXPECT_EQ(scout.preempted_by(), (Ballot{2, 2}));
}

TEST(Scout, RetransmitsOnlyToAcceptorsThatHaveNotPromised) {
  Scout scout(1, kMembers, Ballot{1, 1}, 1);
  scout.OnPromise(2, PromiseMsg{Ballot{1, 1}, 0, {}}, &unused);
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

// A paged Promise counts once its last page arrived; the scout asks for each next page, takes
// pages only in the order asked, and retransmits from the page it is at.
TEST(Scout, APagedPromiseCountsOnlyOnceItsLastPageArrived) {
  const std::vector<NodeId> three = {1, 2, 3};
  Scout scout(1, three, Ballot{4, 1}, 10);
  auto v10 = MakeBatch(1, 10), v12 = MakeBatch(1, 12), v13 = MakeBatch(1, 13);
  Ready ready;
  PromiseMsg first{Ballot{4, 1}, 0, {PValue{10, Ballot{2, 2}, v10}}, true, 10, 12};
  EXPECT_EQ(scout.OnPromise(2, first, &ready), PhaseOutcome::kWaiting);
  auto asked = Sent<PrepareMsg>(ready);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].first, 2u);
  EXPECT_EQ(asked[0].second.slot_first, 12u);
  EXPECT_EQ(asked[0].second.ballot, (Ballot{4, 1}));
  // The first page again (a duplicate), or a page that was not asked for: ignored.
  Ready ignored;
  EXPECT_EQ(scout.OnPromise(2, first, &ignored), PhaseOutcome::kWaiting);
  PromiseMsg skipped{Ballot{4, 1}, 0, {PValue{13, Ballot{3, 2}, v13}}, false, 13, 0};
  EXPECT_EQ(scout.OnPromise(2, skipped, &ignored), PhaseOutcome::kWaiting);
  EXPECT_TRUE(Sent<PrepareMsg>(ignored).empty());
  // Node 1's own promise is whole; node 2 still pages: no majority yet.
  EXPECT_EQ(scout.OnPromise(1, PromiseMsg{Ballot{4, 1}, 0, {}, true, 10, 0}, &ignored),
            PhaseOutcome::kWaiting);
  // A retransmit asks node 2 for the page it is at, node 3 from the start.
  Ready retransmit;
  scout.SendPrepares(&retransmit);
  for (const auto& [to, prepare] : Sent<PrepareMsg>(retransmit)) {
    EXPECT_EQ(prepare.slot_first, to == 2 ? 12u : 10u) << "to node " << to;
  }
  // The last page is not fresh (the ballot was promised by the first): not a preemption.
  PromiseMsg last{Ballot{4, 1}, 0, {PValue{12, Ballot{3, 2}, v12}}, false, 12, 0};
  EXPECT_EQ(scout.OnPromise(2, last, &ignored), PhaseOutcome::kDone);
  ASSERT_EQ(scout.pvalues().size(), 2u);
  EXPECT_EQ(scout.pvalues().at(10).batch, v10);
  EXPECT_EQ(scout.pvalues().at(12).batch, v12);
}

TEST(Scout, ARejoinScoutTakesLaterPagesThatAreNotFresh) {
  const std::vector<NodeId> three = {1, 2, 3};
  Scout scout(1, three, Ballot{4, 1}, 5, /*rejoin=*/true);
  Ready ready;
  EXPECT_EQ(scout.OnPromise(2, PromiseMsg{Ballot{4, 1}, 0, {}, true, 5, 0}, &ready),
            PhaseOutcome::kWaiting);
  EXPECT_EQ(scout.OnPromise(3, PromiseMsg{Ballot{4, 1}, 0, {}, true, 5, 9}, &ready),
            PhaseOutcome::kWaiting);
  EXPECT_EQ(scout.OnPromise(3, PromiseMsg{Ballot{4, 1}, 0, {}, false, 9, 0}, &ready),
            PhaseOutcome::kDone);
}

}  // namespace
}  // namespace synod
