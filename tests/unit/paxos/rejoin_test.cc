// Joining and rejoining (Core, "Rejoining"): who may vote at once, the rejoin scout, and when a
// rejoined node votes again. Each core is fed by hand; assertions are on its Ready.
#include <gtest/gtest.h>

#include "paxos/core.h"
#include "test_util.h"

namespace synod {
namespace {

using testing_util::MakeBatch;
using testing_util::Persisted;
using testing_util::Sent;

constexpr uint64_t kIncarnation = 33;
const std::vector<GenesisMember> kGenesis{{1, 11}, {2, 22}, {3, kIncarnation}};

CoreConfig Config3() {
  CoreConfig c;
  c.self = 3;
  c.members = {1, 2, 3};
  c.incarnation = kIncarnation;
  return c;
}

WelcomeMsg Welcome(std::vector<GenesisMember> genesis, std::vector<Decision> decisions = {}) {
  WelcomeMsg w;
  w.decisions = std::move(decisions);
  w.genesis = std::move(genesis);
  return w;
}

// A node 3 welcomed without being in the genesis set (its data dir was wiped).
std::unique_ptr<Core> Rejoining(Ready* ready, std::vector<Decision> decisions = {}) {
  auto core = std::make_unique<Core>(Config3(), RecoveredState{});
  std::vector<GenesisMember> genesis = kGenesis;
  genesis[2].incarnation = 99;  // The incarnation node 3 had when the cluster formed.
  core->Step({1, 3, Welcome(genesis, std::move(decisions))}, ready);
  return core;
}

// Ticks until the core sends Prepares; returns their ballot.
Ballot TickUntilPrepare(Core& core, Ready* ready) {
  for (int i = 0; i < 2000; ++i) {
    core.Tick(0, ready);
    auto prepares = Sent<PrepareMsg>(*ready);
    if (!prepares.empty()) return prepares.back().second.ballot;
  }
  ADD_FAILURE() << "no Prepare";
  return {};
}

TEST(Rejoin, AGenesisMemberWithItsOwnDataDirVotesAtOnce) {
  Core core(Config3(), RecoveredState{});
  Ready ready;
  core.Step({1, 3, Welcome(kGenesis)}, &ready);
  EXPECT_TRUE(core.joined());
  EXPECT_FALSE(core.rejoining());
  EXPECT_EQ(core.role(), Core::Role::kFollower);
  ready.Clear();
  core.Step({1, 3, PrepareMsg{Ballot{1, 1}, 1}}, &ready);
  EXPECT_EQ(Sent<PromiseMsg>(ready).size(), 1u);
}

TEST(Rejoin, AWipedNodeIsWelcomedWithoutAVoteAndPersistsThat) {
  Ready ready;
  auto core = Rejoining(&ready);
  EXPECT_TRUE(core->joined());
  EXPECT_TRUE(core->rejoining());
  EXPECT_EQ(core->role(), Core::Role::kLearner);
  ASSERT_EQ(Persisted(ready, DurableWrite::Kind::kJoined), 1u);
  EXPECT_TRUE(ready.to_persist[0].membership.rejoining);
  EXPECT_EQ(ready.to_persist[0].membership.genesis.size(), 3u);
  ready.Clear();
  core->Step({1, 3, PrepareMsg{Ballot{4, 1}, 1}}, &ready);
  core->Step({1, 3, AcceptMsg{Ballot{4, 1}, 1, MakeBatch(1, 1)}}, &ready);
  EXPECT_TRUE(ready.messages.empty());
  EXPECT_TRUE(ready.to_persist.empty());
  EXPECT_TRUE(core->acceptor().promised().IsZero());
}

TEST(Rejoin, ARestartedRejoiningNodeStillDoesNotVote) {
  RecoveredState r;
  r.joined = true;
  r.membership.rejoining = true;
  Core core(Config3(), r);
  Ready ready;
  core.Step({1, 3, PrepareMsg{Ballot{4, 1}, 1}}, &ready);
  EXPECT_TRUE(ready.messages.empty());
  EXPECT_EQ(core.CheckInvariants(), "");
}

TEST(Rejoin, TheRejoinScoutNeedsAFreshPromiseFromEveryOtherMember) {
  Ready ready;
  auto core = Rejoining(&ready);
  ready.Clear();
  const Ballot b = TickUntilPrepare(*core, &ready);
  EXPECT_EQ(b.node, 3u);
  core->Step({1, 3, PromiseMsg{b, 0, {}, /*fresh=*/true}}, &ready);
  EXPECT_NE(core->role(), Core::Role::kLeader);  // A majority, but not every other member.
  // Node 2 had already promised this very ballot (from a forgotten earlier life of node 3).
  core->Step({2, 3, PromiseMsg{b, 0, {}, /*fresh=*/false}}, &ready);
  EXPECT_NE(core->role(), Core::Role::kLeader);
  EXPECT_EQ(core->leader().state(), Leader::State::kIdle);  // Preempted: retries higher.
  ready.Clear();
  const Ballot again = TickUntilPrepare(*core, &ready);
  EXPECT_GT(again, b);
}

TEST(Rejoin, VotesAgainOnlyOnceEverySlotBelowTheAdoptionTopIsDecided) {
  Ready ready;
  auto core = Rejoining(&ready, {Decision{1, MakeBatch(1, 1)}});
  ready.Clear();
  const Ballot b = TickUntilPrepare(*core, &ready);
  const auto v3 = MakeBatch(5, 5);
  core->Step({1, 3, PromiseMsg{b, 0, {PValue{3, Ballot{1, 1}, v3}}, true}}, &ready);
  core->Step({2, 3, PromiseMsg{b, 0, {}, true}}, &ready);
  ASSERT_EQ(core->role(), Core::Role::kLeader);
  EXPECT_TRUE(core->rejoining());
  // Slots 2 and 3 are in flight (a no-op and the reported value); H = 4. Its own acceptor does
  // not vote, so each needs both other members.
  core->Step({1, 3, AcceptedMsg{b, 2}}, &ready);
  core->Step({2, 3, AcceptedMsg{b, 2}}, &ready);
  core->Step({1, 3, AcceptedMsg{b, 3}}, &ready);
  core->Tick(0, &ready);
  EXPECT_TRUE(core->rejoining());  // Slot 3 is not decided yet.
  ready.Clear();
  core->Step({2, 3, AcceptedMsg{b, 3}}, &ready);
  core->Tick(0, &ready);
  EXPECT_FALSE(core->rejoining());
  EXPECT_EQ(core->role(), Core::Role::kLeader);
  ASSERT_EQ(Persisted(ready, DurableWrite::Kind::kJoined), 1u);
  Membership m;
  for (const DurableWrite& w : ready.to_persist) {
    if (w.kind == DurableWrite::Kind::kJoined) m = w.membership;
  }
  EXPECT_FALSE(m.rejoining);
  EXPECT_EQ(m.vote_floor, 4u);
  EXPECT_EQ(core->acceptor().promised(), b);
  EXPECT_EQ(core->acceptor().compacted_below(), 4u);
  EXPECT_EQ(core->CheckInvariants(), "");
  // It votes again, but not below its floor.
  ready.Clear();
  Ballot higher{b.round + 1, 1};
  core->Step({1, 3, AcceptMsg{higher, 2, MakeBatch(9, 9)}}, &ready);
  EXPECT_EQ(Persisted(ready, DurableWrite::Kind::kAccept), 0u);
  core->Step({1, 3, AcceptMsg{higher, 4, MakeBatch(9, 9)}}, &ready);
  EXPECT_EQ(Persisted(ready, DurableWrite::Kind::kAccept), 1u);
}

TEST(Rejoin, ARestartedLeaderNeverReusesABallotItsAcceptorPromised) {
  RecoveredState r;
  r.joined = true;
  r.promised = Ballot{7, 3};
  Core core(Config3(), r);
  Ready ready;
  EXPECT_GT(TickUntilPrepare(core, &ready), (Ballot{7, 3}));
}

TEST(Rejoin, PlantedBugVotesAtOnce) {
  CoreConfig config = Config3();
  config.planted_bug = PlantedBug::kRejoinVotesAtOnce;
  Core core(config, RecoveredState{});
  Ready ready;
  core.Step({1, 3, Welcome({})}, &ready);
  EXPECT_FALSE(core.rejoining());
}

}  // namespace
}  // namespace synod
