#include "paxos/acceptor.h"

#include <gtest/gtest.h>

#include "paxos/limits.h"
#include "test_util.h"

namespace synod {
namespace {

using testing_util::MakeBatch;
using testing_util::Persisted;
using testing_util::Sent;

TEST(Acceptor, PromisesHigherBallotAndPersistsItInTheSameReady) {
  Acceptor a(1, Ballot{}, {}, 0);
  Ready ready;
  a.OnPrepare(2, PrepareMsg{Ballot{1, 2}, 1}, &ready);
  ASSERT_EQ(Persisted(ready, DurableWrite::Kind::kPromise), 1u);
  EXPECT_EQ(ready.to_persist[0].ballot, (Ballot{1, 2}));
  auto promises = Sent<PromiseMsg>(ready);
  ASSERT_EQ(promises.size(), 1u);
  EXPECT_EQ(promises[0].first, 2u);
  EXPECT_EQ(promises[0].second.ballot, (Ballot{1, 2}));
}

TEST(Acceptor, RejectsAcceptBelowPromisedBallotAndReportsTheHigherBallot) {
  Acceptor a(1, Ballot{5, 3}, {}, 0);
  Ready ready;
  a.OnAccept(2, AcceptMsg{Ballot{4, 2}, 7, MakeBatch(1, 1)}, &ready);
  EXPECT_TRUE(ready.to_persist.empty());
  EXPECT_TRUE(a.accepted().empty());
  auto replies = Sent<AcceptedMsg>(ready);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].second.ballot, (Ballot{5, 3}));
  EXPECT_EQ(replies[0].second.slot, 7u);
}

TEST(Acceptor, AcceptsAtPromisedBallotAndPersistsBeforeReporting) {
  Acceptor a(1, Ballot{5, 3}, {}, 0);
  Ready ready;
  a.OnAccept(3, AcceptMsg{Ballot{5, 3}, 7, MakeBatch(1, 1)}, &ready);
  ASSERT_EQ(Persisted(ready, DurableWrite::Kind::kAccept), 1u);
  EXPECT_EQ(ready.to_persist[0].slot, 7u);
  EXPECT_EQ(Sent<AcceptedMsg>(ready)[0].second.ballot, (Ballot{5, 3}));
  EXPECT_EQ(a.accepted().at(7).ballot, (Ballot{5, 3}));
}

TEST(Acceptor, RetransmittedAcceptIsNotPersistedTwice) {
  Acceptor a(1, Ballot{}, {}, 0);
  auto batch = MakeBatch(1, 1);
  Ready first, second;
  a.OnAccept(2, AcceptMsg{Ballot{1, 2}, 3, batch}, &first);
  a.OnAccept(2, AcceptMsg{Ballot{1, 2}, 3, batch}, &second);
  EXPECT_EQ(Persisted(first, DurableWrite::Kind::kAccept), 1u);
  EXPECT_TRUE(second.to_persist.empty());
  EXPECT_EQ(Sent<AcceptedMsg>(second).size(), 1u);
}

TEST(Acceptor, PromiseCarriesAcceptedValuesFromSlotFirstOnly) {
  std::map<Slot, PValue> accepted;
  accepted[3] = PValue{3, Ballot{1, 1}, MakeBatch(1, 1)};
  accepted[9] = PValue{9, Ballot{2, 1}, MakeBatch(1, 2)};
  Acceptor a(1, Ballot{2, 1}, accepted, 0);
  Ready ready;
  a.OnPrepare(2, PrepareMsg{Ballot{3, 2}, 5}, &ready);
  auto promise = Sent<PromiseMsg>(ready).at(0).second;
  ASSERT_EQ(promise.accepted.size(), 1u);
  EXPECT_EQ(promise.accepted[0].slot, 9u);
}

TEST(Acceptor, StalePrepareGetsTheHigherBallotAndNoValues) {
  std::map<Slot, PValue> accepted;
  accepted[3] = PValue{3, Ballot{4, 1}, MakeBatch(1, 1)};
  Acceptor a(1, Ballot{4, 1}, accepted, 0);
  Ready ready;
  a.OnPrepare(2, PrepareMsg{Ballot{3, 2}, 1}, &ready);
  EXPECT_TRUE(ready.to_persist.empty());
  auto promise = Sent<PromiseMsg>(ready).at(0).second;
  EXPECT_EQ(promise.ballot, (Ballot{4, 1}));
  EXPECT_TRUE(promise.accepted.empty());
}

TEST(Acceptor, CompactionDropsOldValuesAndIsReportedInPromises) {
  std::map<Slot, PValue> accepted;
  for (Slot s = 1; s <= 5; ++s) accepted[s] = PValue{s, Ballot{1, 1}, MakeBatch(1, s)};
  Acceptor a(1, Ballot{1, 1}, accepted, 0);
  a.Compact(4);
  EXPECT_EQ(a.accepted().size(), 2u);
  Ready ready;
  a.OnPrepare(2, PrepareMsg{Ballot{2, 2}, 1}, &ready);
  EXPECT_EQ(Sent<PromiseMsg>(ready).at(0).second.compacted_below, 4u);
  EXPECT_EQ(a.CheckInvariants(), "");
}

TEST(Acceptor, InvariantCheckCatchesAcceptedAbovePromised) {
  std::map<Slot, PValue> accepted;
  accepted[1] = PValue{1, Ballot{9, 1}, MakeBatch(1, 1)};
  Acceptor a(1, Ballot{2, 1}, accepted, 0);
  EXPECT_NE(a.CheckInvariants(), "");
}

// A lagging scout's Promise would carry every value it lacks; pages keep each message under
// the frame limit, and the scout asks for the next one from more_from.
TEST(Acceptor, PromisesComeInPagesOfBoundedBytes) {
  std::map<Slot, PValue> accepted;
  for (Slot s = 1; s <= 10; ++s) accepted[s] = PValue{s, Ballot{1, 1}, MakeBatch(1, s)};
  const size_t one = accepted[1].batch->PayloadBytes();
  ASSERT_GT(one, 0u);
  Acceptor a(1, Ballot{}, accepted, 0, /*page_bytes=*/3 * one);
  Ready first;
  a.OnPrepare(2, PrepareMsg{Ballot{2, 2}, 2}, &first);
  auto page = Sent<PromiseMsg>(first).at(0).second;
  EXPECT_TRUE(page.fresh);
  EXPECT_EQ(page.page_from, 2u);
  ASSERT_EQ(page.accepted.size(), 3u);  // Slots 2, 3, 4.
  EXPECT_EQ(page.accepted.back().slot, 4u);
  EXPECT_EQ(page.more_from, 5u);
  // The next page: same ballot, so not fresh; the last one says so with more_from 0.
  std::vector<Slot> slots;
  for (Slot from = 5; from != 0;) {
    Ready next;
    a.OnPrepare(2, PrepareMsg{Ballot{2, 2}, from}, &next);
    auto p = Sent<PromiseMsg>(next).at(0).second;
    EXPECT_FALSE(p.fresh);
    EXPECT_EQ(p.page_from, from);
    for (const PValue& pv : p.accepted) slots.push_back(pv.slot);
    from = p.more_from;
  }
  EXPECT_EQ(slots, (std::vector<Slot>{5, 6, 7, 8, 9, 10}));
  // A batch bigger than a page still travels, alone.
  Acceptor small(1, Ballot{}, accepted, 0, /*page_bytes=*/1);
  Ready one_each;
  small.OnPrepare(2, PrepareMsg{Ballot{2, 2}, 1}, &one_each);
  auto single = Sent<PromiseMsg>(one_each).at(0).second;
  ASSERT_EQ(single.accepted.size(), 1u);
  EXPECT_EQ(single.more_from, 2u);
}

TEST(Acceptor, PromisePagesAlsoBoundTheNumberOfValues) {
  std::map<Slot, PValue> accepted;
  const Slot n = limits::kPromiseValuesPerPageMax + 5;
  for (Slot s = 1; s <= n; ++s) accepted[s] = PValue{s, Ballot{1, 1}, MakeBatch(0, s)};
  Acceptor a(1, Ballot{}, accepted, 0);
  Ready ready;
  a.OnPrepare(2, PrepareMsg{Ballot{2, 2}, 1}, &ready);
  auto page = Sent<PromiseMsg>(ready).at(0).second;
  EXPECT_EQ(page.accepted.size(), limits::kPromiseValuesPerPageMax);
  EXPECT_EQ(page.more_from, limits::kPromiseValuesPerPageMax + 1);
}

}  // namespace
}  // namespace synod
