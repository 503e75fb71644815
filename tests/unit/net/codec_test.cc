#include "net/codec.h"

#include <gtest/gtest.h>

#include <functional>

#include "paxos/limits.h"
#include "paxos/prng.h"

namespace synod::net {
namespace {

BatchRef MakeBatch(uint64_t ts, std::vector<Command> commands) {
  auto b = std::make_shared<Batch>();
  b->timestamp_ns = ts;
  b->commands = std::move(commands);
  return b;
}

std::vector<ClusterConfig> GrownHistory() {
  ClusterConfig genesis{1, 0, {{1, "127.0.0.1:7101", true}, {2, "127.0.0.1:7102", true}}};
  ClusterConfig grown = genesis;
  grown.decided_at = 9;
  grown.from = 73;
  grown.members.push_back({4, "127.0.0.1:7104", false});
  return {genesis, grown};
}

std::vector<Body> EveryMessage() {
  Command c{77, 3, std::string("pay\0load", 8)};
  BatchRef batch = MakeBatch(123456789, {c, Command{78, 1, ""}});
  BatchRef noop = MakeBatch(5, {});
  auto snap = std::make_shared<const std::string>("snapshot-bytes");
  return {
      JoinMsg{},
      JoinMsg{0x1234567890abcdefULL},
      WelcomeMsg{Snapshot{9, snap}, {Decision{10, batch}, Decision{11, noop}}, 0, {}, {}},
      WelcomeMsg{Snapshot{}, {}, 0, {GenesisMember{1, 11}, GenesisMember{2, 22}}, {}},
      InvokeMsg{c},
      InvokedMsg{77, 3, true, "result", 2},
      ProposeMsg{{c, c}},
      DecisionMsg{4, Ballot{2, 3}, batch},
      DecisionMsg{5, Ballot{2, 3}, nullptr},
      PrepareMsg{Ballot{7, 1}, 12},
      PromiseMsg{
          Ballot{7, 1}, 3, {PValue{12, Ballot{6, 2}, batch}, PValue{13, Ballot{7, 1}, noop}}},
      PromiseMsg{Ballot{8, 3}, 0, {}, /*fresh=*/true},
      AcceptMsg{Ballot{7, 1}, 14, batch},
      AcceptedMsg{Ballot{8, 2}, 14},
      ActiveMsg{Ballot{7, 1}, 13},
      CatchupMsg{5},
      DecisionsMsg{{Decision{5, batch}, Decision{6, noop}}},
      StatusQueryMsg{},
      WelcomeMsg{Snapshot{9, nullptr}, {Decision{10, batch}}, 12345, {}, {}},
      SnapshotFetchMsg{9, 1048576},
      SnapshotChunkMsg{9, 1048576, 3000000, "chunk-bytes"},
      LeaderTransferMsg{3, true, 1},
      TakeOverMsg{Ballot{4, 1}, 99},
      ConfirmMsg{Ballot{7, 1}, 5},
      ConfirmedMsg{Ballot{8, 2}, 5},
      StatusReportMsg{2,
                      "leader",
                      2,
                      Ballot{3, 2},
                      10,
                      9,
                      8,
                      4,
                      "abcdef",
                      {1, 2, 3},
                      true,
                      false,
                      "[]",
                      {"ledger 1 unbalanced"},
                      {{"unknown_keys", 3}, {"sender_mismatch", 1}},
                      {4, 5},
                      true,
                      true,
                      73},
      WelcomeMsg{Snapshot{}, {}, 0, {}, GrownHistory()},
  };
}

TEST(Codec, EveryMessageRoundTrips) {
  for (const Body& body : EveryMessage()) {
    Envelope e{1, 2, body};
    std::string frame = Encode(e);
    auto decoded = Decode(frame);
    ASSERT_TRUE(decoded.ok()) << BodyName(body) << ": " << decoded.status().ToString();
    EXPECT_EQ(decoded.value().from, 1u);
    EXPECT_EQ(decoded.value().to, 2u);
    EXPECT_EQ(decoded.value().body.index(), body.index());
    EXPECT_EQ(Encode(decoded.value()), frame) << BodyName(body);
  }
}

TEST(Codec, FieldsSurviveTheRoundTrip) {
  Command c{77, 3, std::string("pay\0load", 8)};
  auto decoded = Decode(Encode({1, 2, AcceptMsg{Ballot{7, 1}, 14, MakeBatch(99, {c})}}));
  ASSERT_TRUE(decoded.ok());
  const auto& a = std::get<AcceptMsg>(decoded.value().body);
  EXPECT_EQ(a.ballot, (Ballot{7, 1}));
  EXPECT_EQ(a.slot, 14u);
  EXPECT_EQ(a.batch->timestamp_ns, 99u);
  ASSERT_EQ(a.batch->commands.size(), 1u);
  EXPECT_EQ(a.batch->commands[0], c);
}

TEST(Codec, RejoinAndTransferFieldsSurviveTheRoundTrip) {
  auto join = Decode(Encode({3, 1, JoinMsg{42}}));
  ASSERT_TRUE(join.ok());
  EXPECT_EQ(std::get<JoinMsg>(join.value().body).incarnation, 42u);
  WelcomeMsg w;
  w.genesis = {{1, 11}, {3, 33}};
  auto welcome = Decode(Encode({1, 3, w}));
  ASSERT_TRUE(welcome.ok());
  EXPECT_EQ(std::get<WelcomeMsg>(welcome.value().body).genesis, w.genesis);
  auto promise = Decode(Encode({2, 3, PromiseMsg{Ballot{5, 3}, 0, {}, true}}));
  ASSERT_TRUE(promise.ok());
  EXPECT_TRUE(std::get<PromiseMsg>(promise.value().body).fresh);
  auto take = Decode(Encode({1, 2, TakeOverMsg{Ballot{4, 1}, 99}}));
  ASSERT_TRUE(take.ok());
  EXPECT_EQ(std::get<TakeOverMsg>(take.value().body).ballot, (Ballot{4, 1}));
  EXPECT_EQ(std::get<TakeOverMsg>(take.value().body).decided_slot, 99u);
  auto confirmed = Decode(Encode({2, 1, ConfirmedMsg{Ballot{8, 2}, 77}}));
  ASSERT_TRUE(confirmed.ok());
  EXPECT_EQ(std::get<ConfirmedMsg>(confirmed.value().body).ballot, (Ballot{8, 2}));
  EXPECT_EQ(std::get<ConfirmedMsg>(confirmed.value().body).round, 77u);
}

TEST(Codec, MembershipFieldsSurviveTheRoundTrip) {
  WelcomeMsg w;
  w.configs = GrownHistory();
  auto welcome = Decode(Encode({1, 4, w}));
  ASSERT_TRUE(welcome.ok()) << welcome.status().ToString();
  EXPECT_EQ(std::get<WelcomeMsg>(welcome.value().body).configs, w.configs);
  StatusReportMsg r;
  r.members = {1, 2, 3};
  r.learners = {4};
  r.removed = true;
  r.cluster_flag_mismatch = true;
  r.effective_slot = 73;
  auto report = Decode(Encode({0, 0, r}));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const auto& back = std::get<StatusReportMsg>(report.value().body);
  EXPECT_EQ(back.members, r.members);
  EXPECT_EQ(back.learners, r.learners);
  EXPECT_TRUE(back.removed);
  EXPECT_TRUE(back.cluster_flag_mismatch);
  EXPECT_EQ(back.effective_slot, 73u);
}

TEST(Codec, AWelcomeWithABadConfigurationHistoryIsRejectedNamingTheProblem) {
  struct Case {
    const char* name;
    std::function<void(std::vector<ClusterConfig>*)> damage;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {"unsorted ids", [](auto* h) { std::swap((*h)[1].members[0], (*h)[1].members[2]); },
       "not sorted"},
      {"id zero", [](auto* h) { (*h)[1].members[0].id = 0; }, "node id 0"},
      {"too many members",
       [](auto* h) {
         for (NodeId id = 10; id < 10 + limits::kNodesMax; ++id) {
           (*h)[0].members.push_back({id, "h:1", true});
         }
       },
       "members, more than"},
      {"long address",
       [](auto* h) { (*h)[1].members[2].address = std::string(limits::kAddressBytesMax + 1, 'x'); },
       "longer than"},
      {"too many configurations",
       [](auto* h) {
         while (h->size() <= limits::kConfigHistoryMax) {
           ClusterConfig next = h->back();
           ++next.decided_at;
           ++next.from;
           h->push_back(next);
         }
       },
       "configurations, more than"},
      {"not ascending", [](auto* h) { std::swap((*h)[0], (*h)[1]); }, "after the one before"},
  };
  for (const Case& c : cases) {
    WelcomeMsg w;
    w.configs = GrownHistory();
    c.damage(&w.configs);
    auto r = Decode(Encode({1, 4, w}));
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos)
        << c.name << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find("Welcome configurations"), std::string::npos);
  }
}

TEST(Codec, AWelcomeWithTooManyGenesisMembersIsRejected) {
  WelcomeMsg w;
  for (NodeId id = 1; id <= limits::kNodesMax + 1; ++id) w.genesis.push_back({id, id});
  auto r = Decode(Encode({1, 3, w}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("genesis"), std::string::npos) << r.status().ToString();
}

TEST(Codec, TruncatedFramesAreRejectedOrLoseOnlyPadding) {
  for (const Body& body : EveryMessage()) {
    std::string frame = Encode({1, 2, body});
    for (size_t n = 0; n < frame.size(); ++n) {
      auto r = Decode(frame.substr(0, n));
      // A FlatBuffer may end in alignment padding; cutting only that changes nothing.
      if (r.ok()) {
        EXPECT_EQ(Encode(r.value()), frame) << BodyName(body) << " cut at " << n;
      }
    }
    EXPECT_FALSE(Decode(frame.substr(0, frame.size() / 2)).ok()) << BodyName(body);
  }
}

TEST(Codec, RandomBytesNeverCrashAndAreRejectedWithAReason) {
  Prng prng(1);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(prng.Range(0, 200), '\0');
    for (char& ch : bytes) ch = static_cast<char>(prng.Next());
    auto r = Decode(bytes);
    if (r.ok()) {
      ++accepted;
    } else {
      EXPECT_FALSE(r.status().message().empty());
    }
  }
  EXPECT_LT(accepted, 200);  // Random bytes almost never form a valid message.
}

TEST(Codec, RejectsMeaninglessMessagesNamingTheField) {
  auto zero_request = Decode(Encode({0, 1, InvokeMsg{Command{5, 0, "x"}}}));
  ASSERT_FALSE(zero_request.ok());
  EXPECT_NE(zero_request.status().message().find("request_id"), std::string::npos);

  auto zero_slot = Decode(Encode({1, 2, AcceptedMsg{Ballot{1, 1}, 0}}));
  ASSERT_FALSE(zero_slot.ok());
  EXPECT_NE(zero_slot.status().message().find("slot"), std::string::npos);

  auto zero_round = Decode(Encode({1, 2, ConfirmMsg{Ballot{1, 1}, 0}}));
  ASSERT_FALSE(zero_round.ok());
  EXPECT_NE(zero_round.status().message().find("round"), std::string::npos);

  std::string big(limits::kPayloadBytesMax + 1, 'x');
  auto too_big = Decode(Encode({0, 1, InvokeMsg{Command{5, 1, big}}}));
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.status().message().find("payload"), std::string::npos);

  BatchRef b = MakeBatch(1, {});
  auto gap = Decode(Encode({1, 2, DecisionsMsg{{Decision{5, b}, Decision{7, b}}}}));
  ASSERT_FALSE(gap.ok());
  EXPECT_NE(gap.status().message().find("contiguous"), std::string::npos);
}

TEST(Codec, RejectsFramesAboveTheSizeLimit) {
  std::string huge(limits::kFrameBytesMax + 1, '\0');
  auto r = Decode(huge);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("exceeds"), std::string::npos);
}

}  // namespace
}  // namespace synod::net
