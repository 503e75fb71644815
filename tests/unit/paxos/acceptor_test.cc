#include "paxos/acceptor.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace synod
