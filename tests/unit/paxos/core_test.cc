// The roles that need their node around them (Leader, Replica, Bootstrap/Seed), fed through
// Core::Step and Core::Tick by hand. Assertions are on the Ready each call returns.
#include "paxos/core.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "paxos/limits.h"
#include "test_util.h"

namespace synod {
namespace {

using testing_util::MakeBatch;
using testing_util::Persisted;
using testing_util::Sent;

CoreConfig Config(NodeId self, std::vector<NodeId> members) {
  CoreConfig c;
  c.self = self;
  c.members = std::move(members);
  return c;
}

RecoveredState Joined() {
  RecoveredState r;
  r.joined = true;
  return r;
}

Command Cmd(uint64_t client, uint64_t request) { return Command{client, request, "x"}; }

// Ticks `core` until it sends a Prepare; returns that Ready.
Ready TickUntilPrepare(Core& core) {
  for (int i = 0; i < 1000; ++i) {
    Ready ready;
    core.Tick(0, &ready);
    if (!Sent<PrepareMsg>(ready).empty()) return ready;
  }
  ADD_FAILURE() << "no Prepare";
  return {};
}

// Makes node 1 of {1,2,3} the active leader: Prepare, then one peer's empty Promise.
void MakeLeader(Core& core, Ready* ready) {
  Ready prepare = TickUntilPrepare(core);
  Ballot b = Sent<PrepareMsg>(prepare).at(0).second.ballot;
  core.Step({2, 1, PromiseMsg{b, 0, {}}}, ready);
  ASSERT_EQ(core.role(), Core::Role::kLeader);
}

TEST(Core, SingleNodeClusterDecidesWithoutTheNetwork) {
  Core core(Config(1, {1}), Joined());
  Ready ready;
  core.Tick(0, &ready);
  EXPECT_EQ(core.role(), Core::Role::kLeader);
  ready.Clear();
  core.Step({kClientEndpoint, 1, InvokeMsg{Cmd(7, 1)}}, &ready);
  ASSERT_EQ(ready.decisions.size(), 1u);
  EXPECT_EQ(ready.decisions[0].slot, 1u);
  EXPECT_EQ(ready.decisions[0].batch->commands[0].client_id, 7u);
  // The accept and the decision are persisted in the Ready whose messages report them.
  EXPECT_EQ(Persisted(ready, DurableWrite::Kind::kAccept), 1u);
  EXPECT_EQ(Persisted(ready, DurableWrite::Kind::kDecide), 1u);
}

TEST(Core, SeedFormsTheClusterOnlyOnceEveryMemberJoined) {
  CoreConfig config = Config(1, {1, 2, 3, 4, 5});
  config.incarnation = 10;
  Core seed(config, RecoveredState{});
  Ready ready;
  for (NodeId id : {2, 3, 4}) seed.Step({id, 1, JoinMsg{id * 10}}, &ready);
  EXPECT_FALSE(seed.joined());  // 4 of 5 (a majority is not enough: a member may be running).
  EXPECT_TRUE(ready.to_persist.empty());
  seed.Step({5, 1, JoinMsg{50}}, &ready);
  EXPECT_TRUE(seed.joined());
  ASSERT_EQ(Persisted(ready, DurableWrite::Kind::kJoined), 1u);
  const std::vector<GenesisMember> genesis{{1, 10}, {2, 20}, {3, 30}, {4, 40}, {5, 50}};
  EXPECT_EQ(ready.to_persist[0].membership.genesis, genesis);
  EXPECT_FALSE(ready.to_persist[0].membership.rejoining);
  auto welcomes = Sent<WelcomeMsg>(ready);
  ASSERT_EQ(welcomes.size(), 4u);
  EXPECT_EQ(welcomes[0].second.genesis, genesis);
}

// The configuration a node joins with is on disk from the start: restarted with a --cluster
// that lists more members (grown since), it must not take its flag for the genesis.
TEST(Core, FormingAndJoiningPersistTheConfiguration) {
  Core seed(Config(1, {1, 2}), RecoveredState{});
  Ready formed;
  seed.Step({2, 1, JoinMsg{20}}, &formed);
  ASSERT_TRUE(seed.joined());
  ASSERT_EQ(Persisted(formed, DurableWrite::Kind::kConfig), 1u);
  const ClusterConfig genesis = seed.configs().front();
  EXPECT_EQ(genesis.Voters(), (std::vector<NodeId>{1, 2}));
  Core joiner(Config(2, {1, 2}), RecoveredState{});
  Ready joined;
  joiner.Step({1, 2, Sent<WelcomeMsg>(formed).at(0).second}, &joined);
  ASSERT_TRUE(joiner.joined());
  EXPECT_GE(Persisted(joined, DurableWrite::Kind::kConfig), 1u);
  RecoveredState after = Joined();
  for (const DurableWrite& w : formed.to_persist) {
    if (w.kind == DurableWrite::Kind::kConfig) after.configs = w.configs;
  }
  Core restarted(Config(1, {1, 2, 3}), after);  // A --cluster with a member it never had.
  EXPECT_EQ(restarted.current_config().Voters(), (std::vector<NodeId>{1, 2}));
}

TEST(Core, FreshSingleNodeClusterFormsAtStart) {
  // Nobody else can ask to join: the Seed alone is every member (found by hand on a real node).
  Core seed(Config(1, {1}), RecoveredState{});
  Ready ready;
  seed.Start(&ready);
  EXPECT_TRUE(seed.joined());
  EXPECT_EQ(Persisted(ready, DurableWrite::Kind::kJoined), 1u);
  EXPECT_TRUE(Sent<WelcomeMsg>(ready).empty());
}

TEST(Core, OnlyTheLowestIdSeeds) {
  Core other(Config(2, {1, 2, 3}), RecoveredState{});
  Ready ready;
  other.Step({3, 2, JoinMsg{}}, &ready);
  other.Step({1, 2, JoinMsg{}}, &ready);
  EXPECT_FALSE(other.joined());
  EXPECT_TRUE(ready.messages.empty());
}

TEST(Core, JoiningNodeBecomesMemberOnWelcomeAndAnswersNoClientBefore) {
  Core node(Config(3, {1, 2, 3}), RecoveredState{});
  Ready ready;
  node.Step({kClientEndpoint, 3, InvokeMsg{Cmd(7, 1)}}, &ready);
  ASSERT_EQ(Sent<InvokedMsg>(ready).size(), 1u);
  EXPECT_FALSE(Sent<InvokedMsg>(ready)[0].second.ok);
  ready.Clear();
  node.Step({1, 3, WelcomeMsg{Snapshot{}, {Decision{1, MakeBatch(7, 1)}}, 0, {}, {}}}, &ready);
  EXPECT_TRUE(node.joined());
  EXPECT_TRUE(node.rejoining());  // Not in a genesis set: it must rejoin (rejoin_test.cc).
  EXPECT_EQ(Persisted(ready, DurableWrite::Kind::kJoined), 1u);
  ASSERT_EQ(ready.decisions.size(), 1u);
}

TEST(Core, MessagesFromNonMembersAreIgnored) {
  Core core(Config(1, {1, 2, 3}), Joined());
  Ready ready;
  core.Step({9, 1, PrepareMsg{Ballot{5, 9}, 1}}, &ready);
  core.Step({kClientEndpoint, 1, PrepareMsg{Ballot{5, 2}, 1}}, &ready);
  EXPECT_TRUE(ready.Empty());
  EXPECT_TRUE(core.acceptor().promised().IsZero());
}

TEST(Leader, AdoptedLeaderReproposesAcceptedValuesAndFillsHolesWithNoops) {
  Core core(Config(1, {1, 2, 3}), Joined());
  Ready prepare = TickUntilPrepare(core);
  Ballot b = Sent<PrepareMsg>(prepare).at(0).second.ballot;
  auto value = MakeBatch(5, 5);
  Ready ready;
  core.Step({2, 1, PromiseMsg{b, 0, {PValue{3, Ballot{0, 2}, value}}}}, &ready);
  ASSERT_EQ(core.role(), Core::Role::kLeader);
  std::map<Slot, BatchRef> proposed;
  for (auto& [to, a] : Sent<AcceptMsg>(ready)) proposed[a.slot] = a.batch;
  ASSERT_EQ(proposed.size(), 3u);
  EXPECT_TRUE(proposed[1]->IsNoop());
  EXPECT_TRUE(proposed[2]->IsNoop());
  EXPECT_EQ(proposed[3], value);
  EXPECT_FALSE(Sent<ActiveMsg>(ready).empty());
}

TEST(Leader, AdoptedRangeIsProposedAWindowAtATime) {
  // A Promise naming a far slot (a hostile frame the wire fuzzer found) must not make the new
  // leader create a commander per slot up to it: at most `window` are in flight, in slot order.
  CoreConfig config = Config(1, {1, 2, 3});
  config.window = 4;
  Core core(config, Joined());
  Ready prepare = TickUntilPrepare(core);
  Ballot b = Sent<PrepareMsg>(prepare).at(0).second.ballot;
  Ready ready;
  core.Step({2, 1, PromiseMsg{b, 0, {PValue{Slot{1} << 40, Ballot{0, 2}, MakeBatch(5, 5)}}}},
            &ready);
  ASSERT_EQ(core.role(), Core::Role::kLeader);
  std::set<Slot> slots;
  for (auto& [to, a] : Sent<AcceptMsg>(ready)) slots.insert(a.slot);
  EXPECT_EQ(slots, (std::set<Slot>{1, 2, 3, 4}));
  EXPECT_EQ(core.leader().in_flight(), 4u);
}

TEST(Leader, QueuedCommandsShareTheNextSlotWhenTheWindowIsFull) {
  CoreConfig config = Config(1, {1, 2, 3});
  config.window = 1;
  Core core(config, Joined());
  Ready ready;
  MakeLeader(core, &ready);
  ready.Clear();
  for (uint64_t r = 1; r <= 3; ++r) core.Step({kClientEndpoint, 1, InvokeMsg{Cmd(7, r)}}, &ready);
  auto accepts = Sent<AcceptMsg>(ready);
  ASSERT_EQ(accepts.size(), 2u);  // Slot 1 to peers 2 and 3; the rest waits for the window.
  EXPECT_EQ(accepts[0].second.batch->commands.size(), 1u);
  Ballot b = core.leader().ballot();
  ready.Clear();
  core.Step({2, 1, AcceptedMsg{b, 1}}, &ready);
  ASSERT_EQ(ready.decisions.size(), 1u);
  accepts = Sent<AcceptMsg>(ready);
  ASSERT_FALSE(accepts.empty());
  EXPECT_EQ(accepts[0].second.slot, 2u);
  EXPECT_EQ(accepts[0].second.batch->commands.size(), 2u);
}

// A slot holds at most batch_bytes of payload (a real node: about one client request, so that
// applying one slot never keeps its loop from the network for long), and always one command.
TEST(Leader, AFreshSlotHoldsAtMostBatchBytesAndAlwaysOneCommand) {
  CoreConfig config = Config(1, {1, 2, 3});
  config.window = 1;
  config.batch_bytes = 2500;
  Core core(config, Joined());
  Ready ready;
  MakeLeader(core, &ready);
  ready.Clear();
  // Slot 1 takes the first command; the rest queue behind the full window.
  core.Step({kClientEndpoint, 1, InvokeMsg{Command{7, 1, std::string(1000, 'a')}}}, &ready);
  core.Step({kClientEndpoint, 1, InvokeMsg{Command{7, 2, std::string(1000, 'b')}}}, &ready);
  core.Step({kClientEndpoint, 1, InvokeMsg{Command{7, 3, std::string(1000, 'c')}}}, &ready);
  core.Step({kClientEndpoint, 1, InvokeMsg{Command{7, 4, std::string(4000, 'd')}}}, &ready);
  std::vector<size_t> sizes;  // Commands per slot, in slot order.
  for (Slot slot = 1; slot <= 3; ++slot) {
    auto accepts = Sent<AcceptMsg>(ready);
    ASSERT_FALSE(accepts.empty()) << "slot " << slot;
    EXPECT_EQ(accepts[0].second.slot, slot);
    sizes.push_back(accepts[0].second.batch->commands.size());
    ready.Clear();
    core.Step({2, 1, AcceptedMsg{core.leader().ballot(), slot}}, &ready);
  }
  // 1,000 + 1,000 fit in 2,500; a third would not; 4,000 bytes alone exceed it but still go.
  EXPECT_EQ(sizes, (std::vector<size_t>{1, 2, 1}));
}

TEST(Leader, DecisionCarriesTheBatchOnlyToAcceptorsThatDidNotAcceptIt) {
  Core core(Config(1, {1, 2, 3}), Joined());
  Ready ready;
  MakeLeader(core, &ready);
  core.Step({kClientEndpoint, 1, InvokeMsg{Cmd(7, 1)}}, &ready);
  const Slot slot = Sent<AcceptMsg>(ready).back().second.slot;
  ready.Clear();
  core.Step({2, 1, AcceptedMsg{core.leader().ballot(), slot}}, &ready);
  auto decisions = Sent<DecisionMsg>(ready);
  ASSERT_EQ(decisions.size(), 2u);  // To 2 and 3; node 1 learned it locally.
  for (auto& [to, d] : decisions) EXPECT_EQ(d.batch == nullptr, to == 2u) << "to " << to;
}

// A follower that answered an Accept of this ballot lately gets the slot and ballot only even
// before it answers this slot's Accept (it receives the Accept first, on the same connection);
// one that has not answered lately still gets the batch.
TEST(Leader, DecisionLeavesTheBatchOutForAnAcceptorThatAnsweredLately) {
  CoreConfig config = Config(1, {1, 2, 3});
  Core core(config, Joined());
  Ready ready;
  MakeLeader(core, &ready);
  const Ballot b = core.leader().ballot();
  auto decide = [&](uint64_t request, NodeId by) {
    ready.Clear();
    core.Step({kClientEndpoint, 1, InvokeMsg{Cmd(7, request)}}, &ready);
    const Slot slot = Sent<AcceptMsg>(ready).back().second.slot;
    ready.Clear();
    core.Step({by, 1, AcceptedMsg{b, slot}}, &ready);
    std::map<NodeId, bool> has_batch;
    for (auto& [to, d] : Sent<DecisionMsg>(ready)) has_batch[to] = d.batch != nullptr;
    return std::make_pair(slot, has_batch);
  };
  auto [s1, first] = decide(1, 2);
  EXPECT_TRUE(first[3]) << "3 never answered at this ballot: it needs the batch";
  core.Step({3, 1, AcceptedMsg{b, s1}}, &ready);  // 3 answers late.
  auto [s2, second] = decide(2, 2);
  EXPECT_FALSE(second[2]);
  EXPECT_FALSE(second[3]) << "3 answered slot " << s1 << " at this ballot: it holds slot " << s2;
  // 3 falls silent: once 2 * window slots pass without an answer from it, the batch goes again.
  Slot last = s2;
  for (uint64_t r = 3; last <= s1 + 2 * Slot{config.window}; ++r) {
    auto [slot, has] = decide(r, 2);
    last = slot;
    EXPECT_EQ(has[3], slot > s1 + 2 * Slot{config.window}) << "slot " << slot;
  }
  EXPECT_EQ(core.CheckInvariants(), "");
}

TEST(Replica, TakesABatchlessDecisionFromItsAcceptor) {
  Core core(Config(2, {1, 2, 3}), Joined());
  Ready ready;
  auto batch = MakeBatch(7, 1);
  core.Step({1, 2, AcceptMsg{Ballot{1, 1}, 1, batch}}, &ready);
  core.Step({1, 2, DecisionMsg{2, Ballot{1, 1}, nullptr}}, &ready);  // Never accepted: ignored.
  core.Step({1, 2, DecisionMsg{1, Ballot{1, 1}, nullptr}}, &ready);
  ASSERT_EQ(ready.decisions.size(), 1u);
  EXPECT_EQ(ready.decisions[0].batch, batch);
}

TEST(Leader, StepsDownWhenAnAcceptorReportsAHigherBallot) {
  Core core(Config(1, {1, 2, 3}), Joined());
  Ready ready;
  MakeLeader(core, &ready);
  core.Step({kClientEndpoint, 1, InvokeMsg{Cmd(7, 1)}}, &ready);
  Ballot higher{core.leader().ballot().round + 1, 3};
  ready.Clear();
  core.Step({2, 1, AcceptedMsg{higher, 1}}, &ready);
  EXPECT_EQ(core.role(), Core::Role::kFollower);
  EXPECT_EQ(core.replica().leader(), 3u);
  EXPECT_EQ(core.CheckInvariants(), "");
}

TEST(Replica, HandsOutDecisionsInSlotOrderExactlyOnce) {
  Core core(Config(2, {1, 2, 3}), Joined());
  Ready ready;
  core.Step({1, 2, DecisionMsg{2, Ballot{1, 1}, MakeBatch(1, 2)}}, &ready);
  EXPECT_TRUE(ready.decisions.empty());
  core.Step({1, 2, DecisionMsg{1, Ballot{1, 1}, MakeBatch(1, 1)}}, &ready);
  core.Step({1, 2, DecisionMsg{1, Ballot{1, 1}, MakeBatch(1, 1)}}, &ready);
  ASSERT_EQ(ready.decisions.size(), 2u);
  EXPECT_EQ(ready.decisions[0].slot, 1u);
  EXPECT_EQ(ready.decisions[1].slot, 2u);
  EXPECT_EQ(Persisted(ready, DurableWrite::Kind::kDecide), 2u);
}

TEST(Replica, AsksForMissingDecisionsWhenItSeesAGap) {
  Core core(Config(2, {1, 2, 3}), Joined());
  Ready ready;
  core.Step({1, 2, DecisionMsg{3, Ballot{1, 1}, MakeBatch(1, 3)}}, &ready);
  core.Tick(0, &ready);
  auto asks = Sent<CatchupMsg>(ready);
  ASSERT_EQ(asks.size(), 1u);
  EXPECT_EQ(asks[0].second.slot_first, 1u);
}

TEST(Replica, AnswersCatchupWithWelcomeOnceTheSlotsWereCompacted) {
  CoreConfig config = Config(1, {1, 2, 3});
  config.snapshot_retention_slots = 2;
  Core core(config, Joined());
  Ready ready;
  for (Slot s = 1; s <= 10; ++s)
    core.Step({2, 1, DecisionMsg{s, Ballot{1, 2}, MakeBatch(1, s)}}, &ready);
  core.OnSnapshotTaken(Snapshot{10, std::make_shared<const std::string>("state")}, &ready);
  EXPECT_EQ(Persisted(ready, DurableWrite::Kind::kCompact), 1u);
  ready.Clear();
  core.Step({3, 1, CatchupMsg{2}}, &ready);
  auto welcome = Sent<WelcomeMsg>(ready);
  ASSERT_EQ(welcome.size(), 1u);
  EXPECT_EQ(welcome[0].second.snapshot.slot, 10u);
  ready.Clear();
  core.Step({3, 1, CatchupMsg{10}}, &ready);  // Still in the retained log.
  ASSERT_EQ(Sent<DecisionsMsg>(ready).size(), 1u);
  EXPECT_EQ(Sent<DecisionsMsg>(ready)[0].second.decisions.front().slot, 10u);
}

// Every message must fit a wire frame however large the batches: a catch-up reply carries at
// most page_bytes of payload beyond its first batch.
TEST(Replica, CatchupRepliesAreBoundedInBytes) {
  CoreConfig config = Config(1, {1, 2, 3});
  const std::string big(1000, 'b');
  config.page_bytes = 2500;  // Two and a half batches.
  Core core(config, Joined());
  Ready ready;
  for (Slot s = 1; s <= 10; ++s)
    core.Step({2, 1, DecisionMsg{s, Ballot{1, 2}, MakeBatch(1, s, big)}}, &ready);
  ready.Clear();
  core.Step({3, 1, CatchupMsg{1}}, &ready);
  auto replies = Sent<DecisionsMsg>(ready);
  ASSERT_EQ(replies.size(), 1u);
  ASSERT_EQ(replies[0].second.decisions.size(), 2u);
  EXPECT_EQ(replies[0].second.decisions.back().slot, 2u);
  // One batch above the page still travels, alone.
  config.page_bytes = 10;
  Core tight(config, Joined());
  for (Slot s = 1; s <= 3; ++s)
    tight.Step({2, 1, DecisionMsg{s, Ballot{1, 2}, MakeBatch(1, s, big)}}, &ready);
  ready.Clear();
  tight.Step({3, 1, CatchupMsg{2}}, &ready);
  ASSERT_EQ(Sent<DecisionsMsg>(ready).at(0).second.decisions.size(), 1u);
}

// The log kept below a snapshot for catch-up is bounded in bytes too (slots can be megabytes).
TEST(Replica, RetentionBelowASnapshotIsBoundedInBytes) {
  CoreConfig config = Config(1, {1, 2, 3});
  config.snapshot_retention_bytes = 2500;  // Two and a half batches of 1,000 bytes.
  Core core(config, Joined());
  Ready ready;
  for (Slot s = 1; s <= 10; ++s) {
    core.Step({2, 1, DecisionMsg{s, Ballot{1, 2}, MakeBatch(1, s, std::string(1000, 'r'))}},
              &ready);
  }
  core.OnSnapshotTaken(Snapshot{10, std::make_shared<const std::string>("state")}, &ready);
  EXPECT_EQ(core.replica().log_first(), 9u);  // Slots 9 and 10: 2,000 bytes.
  ready.Clear();
  core.Step({3, 1, CatchupMsg{8}}, &ready);
  EXPECT_EQ(Sent<WelcomeMsg>(ready).size(), 1u);
}

// A follower re-forwards every undecided command to the leader; each Propose must stay within
// a batch's byte limit, which the leader's screen enforces (it was dropped whole before).
TEST(Replica, ReforwardedCommandsAreSplitByBytes) {
  CoreConfig config = Config(2, {1, 2, 3});
  Core core(config, Joined());
  Ready ready;
  const size_t n = limits::kBatchBytesMax / limits::kPayloadBytesMax + 3;
  for (uint64_t r = 1; r <= n; ++r) {
    core.Step(
        {kClientEndpoint, 2, InvokeMsg{Command{7, r, std::string(limits::kPayloadBytesMax, 'p')}}},
        &ready);
  }
  ready.Clear();
  for (uint32_t t = 0; t <= config.propose_retry_ticks; ++t) core.Tick(0, &ready);
  size_t commands = 0;
  std::set<uint64_t> seen;
  for (const auto& [to, propose] : Sent<ProposeMsg>(ready)) {
    size_t bytes = 0;
    for (const Command& c : propose.commands) {
      bytes += c.payload.size();
      seen.insert(c.request_id);
    }
    EXPECT_LE(bytes, limits::kBatchBytesMax);
    commands += propose.commands.size();
  }
  EXPECT_EQ(seen.size(), n) << "every command re-forwarded";
  EXPECT_GE(commands, n);
}

TEST(Replica, MovesToTheNextCandidateAfterTheLeaderTimeout) {
  CoreConfig config = Config(2, {1, 2, 3});
  Core core(config, Joined());
  Ready ready;
  for (uint32_t i = 0; i < config.leader_timeout_ticks - 1; ++i) core.Tick(0, &ready);
  EXPECT_TRUE(Sent<PrepareMsg>(ready).empty());  // Still waiting for node 1.
  core.Tick(0, &ready);
  EXPECT_EQ(core.replica().leader(), 2u);
  EXPECT_FALSE(Sent<PrepareMsg>(ready).empty());
}

}  // namespace
}  // namespace synod
