// Membership changes (paxos/membership.h, Core "Membership"): the command encoding, the
// deterministic history, and the core's use of it: per-slot quorums, extension scouts,
// learners that ask to be promoted and vote only from their floor, and a leader that hands
// over when it is no longer a voter. Cores fed by hand; assertions on the Ready.
#include "paxos/membership.h"

#include <gtest/gtest.h>

#include "paxos/core.h"
#include "test_util.h"

namespace synod {
namespace {

using testing_util::Persisted;
using testing_util::Sent;
using Op = MembershipChange::Op;

std::string Change(Op op, NodeId id, std::string address = "") {
  return EncodeMembershipChange({op, id, std::move(address)});
}

ClusterConfig Three() {
  ClusterConfig c;
  c.members = {{1, "h:1", true}, {2, "h:2", true}, {3, "h:3", true}};
  return c;
}

TEST(MembershipCodec, RoundTripsAndIsRecognised) {
  auto d = DecodeMembershipChange(Change(Op::kAdd, 70000, "127.0.0.1:7004"));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d.value().op, Op::kAdd);
  EXPECT_EQ(d.value().id, 70000u);
  EXPECT_EQ(d.value().address, "127.0.0.1:7004");
  EXPECT_TRUE(IsMembershipPayload(Change(Op::kRemove, 2)));
  EXPECT_FALSE(IsMembershipPayload("\x10\0\0\0ledger"));
  EXPECT_FALSE(IsMembershipPayload(""));
}

TEST(MembershipCodec, RejectsMalformedPayloadsWithAReason) {
  const std::string magic(kMembershipMagic);
  struct Case {
    std::string payload, reason;
  } cases[] = {
      {magic + "\x01", "shorter than its header"},
      {magic + std::string("\x09\x01\0\0\0", 5), "unknown operation 9"},
      {magic + std::string("\x02\0\0\0\0", 5), "node id 0"},
      {magic + std::string("\x01\x04\0\0\0", 5), "add without an address"},
      {magic + std::string("\x02\x04\0\0\0", 5) + "h:1", "address given for remove"},
      {magic + std::string("\x01\x04\0\0\0", 5) + std::string(300, 'a'), "longer than 255"},
  };
  for (const Case& c : cases) {
    auto d = DecodeMembershipChange(c.payload);
    ASSERT_FALSE(d.ok()) << c.reason;
    EXPECT_NE(d.status().message().find(c.reason), std::string::npos) << d.status().message();
  }
}

TEST(MembershipHistory, AddPromoteRemoveEachGovernFromTheirDelayedSlot) {
  std::vector<ClusterConfig> h{Three()};
  EXPECT_NE(ApplyMembershipChange(&h, 10, Change(Op::kAdd, 4, "h:4")).find("\"ok\":true"),
            std::string::npos);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1].from, 10 + kConfigDelaySlots);
  EXPECT_EQ(h[1].decided_at, 10u);
  EXPECT_TRUE(h[1].Has(4));
  EXPECT_FALSE(h[1].IsVoter(4));
  ApplyMembershipChange(&h, 11, Change(Op::kPromote, 4));
  EXPECT_TRUE(h[2].IsVoter(4));
  ApplyMembershipChange(&h, 12, Change(Op::kRemove, 1));
  EXPECT_EQ(h[3].Voters(), (std::vector<NodeId>{2, 3, 4}));
  // Each slot is governed by the configuration in effect there.
  EXPECT_EQ(ConfigAt(h, 10 + kConfigDelaySlots - 1).Voters(), (std::vector<NodeId>{1, 2, 3}));
  EXPECT_EQ(ConfigAt(h, 11 + kConfigDelaySlots).Voters(), (std::vector<NodeId>{1, 2, 3, 4}));
  EXPECT_EQ(ConfigAt(h, 1000).Voters(), (std::vector<NodeId>{2, 3, 4}));
  EXPECT_EQ(AllMembers(h), (std::vector<NodeId>{1, 2, 3, 4}));
  EXPECT_TRUE(MembershipApplied(h, 12));
  EXPECT_FALSE(MembershipApplied(h, 13));
  PruneConfigs(&h, 11 + kConfigDelaySlots);
  EXPECT_EQ(h.front().from, 11 + kConfigDelaySlots);
  EXPECT_EQ(h.size(), 2u);
}

TEST(MembershipHistory, InvalidChangesAreRefusedAndChangeNothing) {
  std::vector<ClusterConfig> h{Three()};
  const std::vector<ClusterConfig> before = h;
  struct Case {
    std::string payload, error;
  } cases[] = {
      {Change(Op::kAdd, 2, "h:9"), "already a member"},
      {Change(Op::kAdd, 9, "h:2"), "address h:2 is node 2's"},
      {Change(Op::kRemove, 9), "not a member"},
      {Change(Op::kPromote, 2), "already a voter"},
      {"\xffSMB", "shorter than its header"},
  };
  for (const Case& c : cases) {
    std::string answer = ApplyMembershipChange(&h, 5, c.payload);
    EXPECT_NE(answer.find("\"ok\":false"), std::string::npos) << answer;
    EXPECT_NE(answer.find(c.error), std::string::npos) << answer;
    EXPECT_EQ(h, before);
  }
  std::vector<ClusterConfig> one{ClusterConfig{1, 0, {{1, "h:1", true}}}};
  EXPECT_NE(ApplyMembershipChange(&one, 5, Change(Op::kRemove, 1)).find("the last voter"),
            std::string::npos);
  for (NodeId id = 4; id <= 7; ++id) {
    ApplyMembershipChange(&h, 5 + id, Change(Op::kAdd, id, "h:" + std::to_string(id)));
  }
  EXPECT_NE(ApplyMembershipChange(&h, 20, Change(Op::kAdd, 8, "h:8")).find("at most 7"),
            std::string::npos);
}

// A retried add whose first attempt was decided (its answer lost) gets the same outcome.
TEST(MembershipHistory, AddingAMemberAgainAtTheSameAddressAnswersOkAndChangesNothing) {
  std::vector<ClusterConfig> h{Three()};
  ApplyMembershipChange(&h, 10, Change(Op::kAdd, 4, "h:4"));
  const std::vector<ClusterConfig> before = h;
  const std::string again = ApplyMembershipChange(&h, 12, Change(Op::kAdd, 4, "h:4"));
  EXPECT_NE(again.find("\"ok\":true"), std::string::npos) << again;
  EXPECT_NE(again.find("\"already\":true"), std::string::npos) << again;
  EXPECT_NE(again.find("\"effective_slot\":" + std::to_string(10 + kConfigDelaySlots)),
            std::string::npos)
      << again;
  EXPECT_EQ(h, before);
}

TEST(MembershipHistory, TwoChangesInOneSlotMakeOneConfiguration) {
  std::vector<ClusterConfig> h{Three()};
  ApplyMembershipChange(&h, 7, Change(Op::kAdd, 4, "h:4"));
  ApplyMembershipChange(&h, 7, Change(Op::kPromote, 4));
  ASSERT_EQ(h.size(), 2u);
  EXPECT_TRUE(h[1].IsVoter(4));
}

// ---- The core ----

CoreConfig Config(NodeId self, std::vector<NodeId> members = {1, 2, 3}) {
  CoreConfig c;
  c.self = self;
  c.members = std::move(members);
  for (NodeId m : c.members) c.addresses[m] = "h:" + std::to_string(m);
  return c;
}

RecoveredState Joined() {
  RecoveredState r;
  r.joined = true;
  return r;
}

Ballot MakeLeader(Core& core) {
  Ready ready;
  for (int i = 0; i < 1000 && Sent<PrepareMsg>(ready).empty(); ++i) core.Tick(0, &ready);
  const Ballot b = Sent<PrepareMsg>(ready).at(0).second.ballot;
  core.Step({2, 1, PromiseMsg{b, 0, {}}}, &ready);
  EXPECT_EQ(core.role(), Core::Role::kLeader);
  return b;
}

// Node 2 accepts every Accept leader 1 sends, until it sends none (leader 1 fills the slots up
// to a pending configuration with no-ops; a change applies when its decision reaches the
// replica, so a tick follows every round). Returns the Prepares seen on the way; `top` gets
// the highest slot accepted.
std::vector<std::pair<NodeId, PrepareMsg>> Drive(Core& core, Ready* ready, Slot* top,
                                                 std::vector<TakeOverMsg>* take_overs = nullptr) {
  std::vector<std::pair<NodeId, PrepareMsg>> prepares;
  core.Tick(0, ready);
  for (int round = 0; round < 1000; ++round) {
    for (const auto& p : Sent<PrepareMsg>(*ready)) prepares.push_back(p);
    for (const auto& [to, t] : Sent<TakeOverMsg>(*ready)) {
      if (take_overs != nullptr && to == 2) take_overs->push_back(t);
    }
    auto accepts = Sent<AcceptMsg>(*ready);
    if (accepts.empty()) break;
    Ready next;
    std::set<Slot> acked;
    for (const auto& [to, a] : accepts) {
      if (!acked.insert(a.slot).second) continue;
      *top = std::max(*top, a.slot);
      core.Step({2, 1, AcceptedMsg{a.ballot, a.slot}}, &next);
    }
    core.Tick(0, &next);
    *ready = std::move(next);
  }
  return prepares;
}

// Leader 1 gets `payload` decided (and whatever no-ops follow it); returns the Prepares seen.
std::vector<std::pair<NodeId, PrepareMsg>> Decide(Core& core, uint64_t request, std::string payload,
                                                  Slot* top) {
  Ready ready;
  core.Step({kClientEndpoint, 1, InvokeMsg{Command{7, request, std::move(payload)}}}, &ready);
  return Drive(core, &ready, top);
}

TEST(MembershipCore, TheAnswerOfADecidedChangeComesBackInTheReady) {
  Core core(Config(1), Joined());
  MakeLeader(core);
  Ready ready;
  core.Step({kClientEndpoint, 1, InvokeMsg{Command{7, 1, Change(Op::kAdd, 4, "h:4")}}}, &ready);
  const Slot slot = Sent<AcceptMsg>(ready).at(0).second.slot;
  ready.Clear();
  core.Step({2, 1, AcceptedMsg{core.leader().ballot(), slot}}, &ready);
  ASSERT_EQ(ready.membership_results.size(), 1u);
  EXPECT_EQ(ready.membership_results[0].first, (std::pair<uint64_t, uint64_t>{7, 1}));
  EXPECT_NE(ready.membership_results[0].second.find("\"effective_slot\":" +
                                                    std::to_string(slot + kConfigDelaySlots)),
            std::string::npos);
  EXPECT_EQ(Persisted(ready, DurableWrite::Kind::kConfig), 1u);
  EXPECT_TRUE(core.configs().back().Has(4));
  // An idle leader does not wait for traffic: no-ops carry the log to the effective slot.
  Slot top = 0;
  Drive(core, &ready, &top);
  EXPECT_EQ(top, slot + kConfigDelaySlots - 1);
  EXPECT_EQ(core.current_config().from, slot + kConfigDelaySlots);
  // Node 4 is a member now: its Join is answered with the history.
  ready.Clear();
  core.Step({4, 1, JoinMsg{99}}, &ready);
  auto welcome = Sent<WelcomeMsg>(ready);
  ASSERT_EQ(welcome.size(), 1u);
  EXPECT_EQ(welcome[0].second.configs, core.configs());
}

TEST(MembershipCore, NewVotersGetPhase1BeforeTheLeaderOpensTheirFirstSlot) {
  Core core(Config(1), Joined());
  const Ballot b = MakeLeader(core);
  Slot top = 0;
  // A learner (same voters) needs no new phase 1: the no-ops up to its slot open as usual.
  EXPECT_TRUE(Decide(core, 1, Change(Op::kAdd, 4, "h:4"), &top).empty());
  EXPECT_TRUE(Decide(core, 2, Change(Op::kPromote, 4), &top).empty());
  const Slot promoted = core.configs().back().decided_at;
  const Slot first = promoted + kConfigDelaySlots;  // The first slot 1,2,3,4 vote on.
  EXPECT_EQ(top, first - 1);
  // The next command needs slot `first`: phase 1 with the new voters comes first.
  auto prepares = Decide(core, 3, "y", &top);
  EXPECT_EQ(top, first - 1) << "opened a slot of 1,2,3,4 without phase 1";
  std::set<NodeId> asked;  // Its own acceptor answered inside the call.
  for (const auto& [to, p] : prepares) {
    asked.insert(to);
    EXPECT_EQ(p.ballot, b);
    EXPECT_EQ(p.slot_first, first);
  }
  EXPECT_EQ(asked, (std::set<NodeId>{2, 3, 4}));
  // Promises from itself and 2 are not a majority of four; 4 reports a value accepted at `first`
  // under an older ballot, which must be proposed there once 4 makes three.
  Ballot older{b.round - 1, 3};
  PValue found{first, older, testing_util::MakeBatch(8, 1, "found")};
  Ready ready;
  core.Step({2, 1, PromiseMsg{b, 0, {}}}, &ready);
  EXPECT_TRUE(Sent<AcceptMsg>(ready).empty());
  core.Step({4, 1, PromiseMsg{b, 0, {found}}}, &ready);
  auto accepts = Sent<AcceptMsg>(ready);
  ASSERT_FALSE(accepts.empty());
  EXPECT_EQ(accepts[0].second.slot, first);
  EXPECT_EQ(accepts[0].second.batch->commands.at(0).payload, "found");
  std::set<NodeId> to;
  for (const auto& [dest, a] : accepts) {
    if (a.slot == first) to.insert(dest);
  }
  EXPECT_EQ(to, (std::set<NodeId>{2, 3, 4}));  // And its own acceptor, inside the call.
}

TEST(MembershipCore, ALeaderThatIsNoLongerAVoterHandsOverAndStepsDown) {
  Core core(Config(1), Joined());
  MakeLeader(core);
  Ready ready;
  core.Step({kClientEndpoint, 1, InvokeMsg{Command{7, 1, Change(Op::kRemove, 1)}}}, &ready);
  Slot top = 0;
  std::vector<TakeOverMsg> take_overs;
  Drive(core, &ready, &top, &take_overs);
  const Slot removed_from = core.configs().back().from;
  EXPECT_EQ(top, removed_from - 1) << "opened a slot it does not vote on";
  ASSERT_EQ(take_overs.size(), 1u);  // To node 2, the lowest voter left.
  EXPECT_EQ(take_overs[0].decided_slot, removed_from - 1);
  EXPECT_NE(core.role(), Core::Role::kLeader);
}

TEST(MembershipCore, ALearnerDoesNotVoteAsksToBePromotedAndVotesFromItsFloor) {
  // Node 4 joins a cluster whose history adds it as a learner.
  Core core(Config(4, {1, 2, 3, 4}), RecoveredState{});
  std::vector<ClusterConfig> history{Three()};
  ApplyMembershipChange(&history, 3, Change(Op::kAdd, 4, "h:4"));
  WelcomeMsg welcome;
  for (Slot s = 1; s <= 3; ++s) welcome.decisions.push_back({s, std::make_shared<Batch>()});
  welcome.configs = history;
  Ready ready;
  core.Step({1, 4, welcome}, &ready);
  ASSERT_TRUE(core.joined());
  EXPECT_TRUE(core.learning());
  EXPECT_FALSE(core.acceptor().voting());
  ready.Clear();
  core.Step({1, 4, PrepareMsg{Ballot{5, 1}, 1}}, &ready);
  EXPECT_TRUE(Sent<PromiseMsg>(ready).empty()) << "a learner voted";
  // Caught up with leader 1: it asks to be promoted, through the leader.
  core.Step({1, 4, ActiveMsg{Ballot{5, 1}, 3}}, &ready);
  ready.Clear();
  core.Tick(0, &ready);
  auto proposed = Sent<ProposeMsg>(ready);
  ASSERT_EQ(proposed.size(), 1u);
  EXPECT_EQ(proposed[0].first, 1u);
  auto change = DecodeMembershipChange(proposed[0].second.commands.at(0).payload);
  ASSERT_TRUE(change.ok());
  EXPECT_EQ(change.value().op, Op::kPromote);
  EXPECT_EQ(change.value().id, 4u);
  // The promotion is decided at slot 4; it governs from 4 + delay. Until this node decided every
  // slot below that, it still does not vote.
  auto promote = std::make_shared<Batch>();
  promote->commands.push_back(proposed[0].second.commands.at(0));
  core.Step({1, 4, DecisionMsg{4, Ballot{5, 1}, promote}}, &ready);
  core.Tick(0, &ready);
  EXPECT_FALSE(core.acceptor().voting());
  const Slot floor = 4 + kConfigDelaySlots;
  ready.Clear();
  for (Slot s = 5; s < floor; ++s) {
    core.Step({1, 4, DecisionMsg{s, Ballot{5, 1}, std::make_shared<Batch>()}}, &ready);
  }
  core.Tick(0, &ready);
  EXPECT_FALSE(core.learning());
  EXPECT_TRUE(core.acceptor().voting());
  EXPECT_EQ(core.acceptor().compacted_below(), floor);
  EXPECT_EQ(core.membership().vote_floor, floor);
  EXPECT_GE(Persisted(ready, DurableWrite::Kind::kJoined), 1u);
  EXPECT_EQ(core.CheckInvariants(), "");
}

TEST(MembershipCore, AJoinerThatIsAVoterOfTheHistoryRejoinsInstead) {
  Core core(Config(3), RecoveredState{});
  WelcomeMsg welcome;
  welcome.configs = {Three()};
  Ready ready;
  core.Step({1, 3, welcome}, &ready);
  EXPECT_TRUE(core.rejoining());
  EXPECT_FALSE(core.learning());
}

}  // namespace
}  // namespace synod
