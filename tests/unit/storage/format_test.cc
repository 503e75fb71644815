// The on-disk format: keys sort in slot order, records round-trip, and bad bytes (truncated,
// flipped, misplaced) come back as Corruption and never crash (run under ASan/UBSan too).
#include "storage/format.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "paxos/limits.h"
#include "schemas/storage_generated.h"
#include "test_util.h"

namespace synod::storage {
namespace {

TEST(Format, SlotKeysSortInSlotOrder) {
  const Slot slots[] = {1, 2, 255, 256, 65535, 65536, 1ull << 40, ~0ull};
  for (size_t i = 1; i < std::size(slots); ++i) {
    EXPECT_LT(DecidedKey(slots[i - 1]), DecidedKey(slots[i]));
    EXPECT_LT(AcceptedKey(slots[i - 1]), AcceptedKey(slots[i]));
    EXPECT_LT(SnapshotDataKey(slots[i - 1]), SnapshotDataKey(slots[i]));
  }
  EXPECT_EQ(DecidedKey(0x0102030405060708ull), std::string("\x01\x02\x03\x04\x05\x06\x07\x08"));
}

TEST(Format, AcceptedKeysSitInsideTheirRangeAndSingletonsOutside) {
  EXPECT_LE(AcceptedKeyBegin(), AcceptedKey(1));
  EXPECT_LT(AcceptedKey(~0ull), AcceptedKeyEnd());
  EXPECT_LT(PromiseKey(), AcceptedKeyBegin());
  EXPECT_LT(JoinedKey(), AcceptedKeyBegin());
  EXPECT_LT(ConfigKey(), AcceptedKeyBegin());
  EXPECT_NE(ConfigKey(), JoinedKey());
  EXPECT_NE(ConfigKey(), PromiseKey());
  EXPECT_TRUE(IsAcceptedKey(AcceptedKey(5)));
  EXPECT_FALSE(IsAcceptedKey(PromiseKey()));
}

TEST(Format, RecordsRoundTrip) {
  BatchRef batch = testing::MakeBatch(3, 5, 33);
  Result<PValue> pvalue = DecodeAccepted(AcceptedKey(12), EncodeAccepted({12, {4, 2}, batch}));
  ASSERT_TRUE(pvalue.ok()) << pvalue.status().ToString();
  EXPECT_EQ(pvalue.value().slot, 12u);
  EXPECT_EQ(pvalue.value().ballot, (Ballot{4, 2}));
  EXPECT_TRUE(SameBatch(pvalue.value().batch, batch));

  Result<Decision> decision = DecodeDecided(DecidedKey(12), EncodeDecided(12, *batch));
  ASSERT_TRUE(decision.ok());
  EXPECT_TRUE(SameBatch(decision.value().batch, batch));

  Result<Ballot> promised = DecodePromise(EncodePromise({9, 3}));
  ASSERT_TRUE(promised.ok());
  EXPECT_EQ(promised.value(), (Ballot{9, 3}));
  Result<Membership> plain = DecodeJoined(EncodeJoined(Membership{}));
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain.value().rejoining);
  EXPECT_TRUE(plain.value().genesis.empty());
  Result<Membership> rejoining =
      DecodeJoined(EncodeJoined(Membership{true, 77, {{1, 11}, {2, 22}, {3, 33}}}));
  ASSERT_TRUE(rejoining.ok());
  EXPECT_TRUE(rejoining.value().rejoining);
  EXPECT_EQ(rejoining.value().vote_floor, 77u);
  EXPECT_EQ(rejoining.value().genesis, (std::vector<GenesisMember>{{1, 11}, {2, 22}, {3, 33}}));

  Result<NodeMeta> meta = DecodeNodeMeta(EncodeNodeMeta({1, 77, 5, 123, 99}));
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta.value().cluster_id, 77u);
  EXPECT_EQ(meta.value().node_id, 5u);
  EXPECT_EQ(meta.value().created_at_unix_ns, 123u);
  EXPECT_EQ(meta.value().incarnation, 99u);

  SnapshotInfo info{8, SnapshotDataKey(8), 100, Fnv1a64("x"), 55};
  Result<SnapshotInfo> decoded = DecodeSnapshotRecord(EncodeSnapshotRecord(info));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded.value().slot, 8u);
  EXPECT_EQ(decoded.value().data_key, SnapshotDataKey(8));
  EXPECT_EQ(decoded.value().data_hash, Fnv1a64("x"));
}

std::vector<ClusterConfig> GrownHistory() {
  ClusterConfig genesis{1, 0, {{1, "127.0.0.1:7101", true}, {2, "127.0.0.1:7102", true}}};
  ClusterConfig grown = genesis;
  grown.decided_at = 40;
  grown.from = 104;
  grown.members.push_back({4, "10.0.0.4:7104", false});
  return {genesis, grown};
}

// A ConfigRecord built without the encoder's checks, to feed the decoder what a damaged disk
// (or an older bug) could hold.
std::string RawConfigRecord(const std::vector<ClusterConfig>& configs) {
  namespace fb = synod::storage::fb;
  flatbuffers::FlatBufferBuilder builder;
  std::vector<flatbuffers::Offset<fb::ClusterConfig>> tables;
  for (const ClusterConfig& c : configs) {
    std::vector<flatbuffers::Offset<fb::ConfigMember>> members;
    for (const ConfigMember& m : c.members) {
      members.push_back(
          fb::CreateConfigMember(builder, m.id, builder.CreateString(m.address), m.voter));
    }
    tables.push_back(
        fb::CreateClusterConfig(builder, c.from, c.decided_at, builder.CreateVector(members)));
  }
  builder.Finish(fb::CreateConfigRecord(builder, builder.CreateVector(tables)));
  return std::string(reinterpret_cast<const char*>(builder.GetBufferPointer()), builder.GetSize());
}

TEST(Format, ConfigRecordAndLearningRoundTrip) {
  const std::vector<ClusterConfig> history = GrownHistory();
  Result<std::vector<ClusterConfig>> decoded = DecodeConfigs(EncodeConfigs(history));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded.value(), history);
  EXPECT_EQ(decoded.value()[1].Learners(), std::vector<NodeId>{4});
  // The raw builder writes what the encoder writes: the decoder tests below are meaningful.
  EXPECT_TRUE(DecodeConfigs(RawConfigRecord(history)).ok());

  Membership learner;
  learner.learning = true;
  learner.genesis = {{1, 11}, {2, 22}};
  Result<Membership> joined = DecodeJoined(EncodeJoined(learner));
  ASSERT_TRUE(joined.ok());
  EXPECT_TRUE(joined.value().learning);
  EXPECT_FALSE(joined.value().rejoining);
  // A record written before the field existed reads as a voter.
  EXPECT_FALSE(DecodeJoined(EncodeJoined(Membership{true, 5, {}})).value().learning);
}

TEST(Format, RejectsAConfigRecordTheCoreCouldNotHaveWritten) {
  struct Case {
    const char* name;
    std::function<void(std::vector<ClusterConfig>*)> damage;
    const char* expect;  // Part of the error message.
  };
  const std::vector<Case> cases = {
      {"empty", [](auto* h) { h->clear(); }, "empty"},
      {"unsorted ids", [](auto* h) { std::swap((*h)[0].members[0], (*h)[0].members[1]); },
       "not sorted"},
      {"duplicate id", [](auto* h) { (*h)[1].members[2].id = 2; }, "not sorted"},
      {"id zero", [](auto* h) { (*h)[0].members[0].id = 0; }, "node id 0"},
      {"no voter",
       [](auto* h) {
         for (auto& m : (*h)[0].members) m.voter = false;
       },
       "no voter"},
      {"no member", [](auto* h) { (*h)[0].members.clear(); }, "0 members"},
      {"too many members",
       [](auto* h) {
         for (NodeId id = 10; id < 10 + limits::kNodesMax; ++id) {
           (*h)[1].members.push_back({id, "h:1", true});
         }
       },
       "members"},
      {"long address",
       [](auto* h) { (*h)[1].members[2].address = std::string(limits::kAddressBytesMax + 1, 'a'); },
       "longer than"},
      {"not ascending", [](auto* h) { std::swap((*h)[0], (*h)[1]); }, "after the one before"},
      {"from before its decision", [](auto* h) { (*h)[1].from = 40; }, "decided in slot 40"},
      {"too many configurations",
       [](auto* h) {
         while (h->size() <= limits::kConfigHistoryMax) {
           ClusterConfig next = h->back();
           next.decided_at += 1;
           next.from += 1;
           h->push_back(next);
         }
       },
       "configurations, more than"},
  };
  for (const Case& c : cases) {
    std::vector<ClusterConfig> history = GrownHistory();
    c.damage(&history);
    Result<std::vector<ClusterConfig>> decoded = DecodeConfigs(RawConfigRecord(history));
    ASSERT_FALSE(decoded.ok()) << c.name;
    EXPECT_EQ(decoded.status().code(), Status::Code::kCorruption) << c.name;
    EXPECT_NE(decoded.status().message().find(c.expect), std::string::npos)
        << c.name << ": " << decoded.status().ToString();
  }
  EXPECT_FALSE(DecodeConfigs(EncodeJoined(Membership{})).ok());
}

TEST(Format, RejectsARecordUnderAKeyOfAnotherSlot) {
  BatchRef batch = testing::MakeBatch(1, 1, 1);
  Result<PValue> pvalue = DecodeAccepted(AcceptedKey(2), EncodeAccepted({1, {1, 1}, batch}));
  ASSERT_FALSE(pvalue.ok());
  EXPECT_EQ(pvalue.status().code(), Status::Code::kCorruption);
  EXPECT_NE(pvalue.status().message().find("slot 2"), std::string::npos);
  EXPECT_FALSE(DecodeDecided(DecidedKey(0), EncodeDecided(1, *batch)).ok());
  EXPECT_FALSE(DecodeDecided("short", EncodeDecided(1, *batch)).ok());
}

TEST(Format, RejectsEmptyAndForeignBytes) {
  EXPECT_FALSE(DecodeNodeMeta("").ok());
  EXPECT_FALSE(DecodePromise(std::string("\x01\x02\x03", 3)).ok());
  // A valid record of one type is not accepted as another with required fields.
  EXPECT_FALSE(DecodeAccepted(AcceptedKey(1), EncodeJoined(Membership{})).ok());
  EXPECT_FALSE(DecodeSnapshotRecord(EncodeJoined(Membership{})).ok());
}

// Every truncation and many random corruptions of a real record: never a crash, and whatever
// decodes passes the limits.
TEST(Format, SurvivesTruncatedAndFlippedBytes) {
  const std::string good = EncodeAccepted({7, {2, 1}, testing::MakeBatch(7, 20, 16)});
  for (size_t length = 0; length < good.size(); ++length) {
    std::string cut = good.substr(0, length);
    (void)DecodeAccepted(AcceptedKey(7), cut);
  }
  std::mt19937_64 rng(42);
  const int rounds = static_cast<int>(testing::Scaled(20000, 2000));
  int rejected = 0;
  for (int i = 0; i < rounds; ++i) {
    std::string bad = good;
    for (int flips = 1 + rng() % 4; flips > 0; --flips) {
      bad[rng() % bad.size()] = static_cast<char>(rng());
    }
    Result<PValue> decoded = DecodeAccepted(AcceptedKey(7), bad);
    if (!decoded.ok()) {
      ++rejected;
      EXPECT_EQ(decoded.status().code(), Status::Code::kCorruption);
    } else {
      EXPECT_LE(decoded.value().batch->commands.size(), limits::kCommandsPerBatchMax);
    }
  }
  EXPECT_GT(rejected, 0);
}

}  // namespace
}  // namespace synod::storage
