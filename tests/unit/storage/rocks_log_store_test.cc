// RocksLogStore round trips: every DurableWrite kind through Persist and Recover, in the same
// process and across a reopen; compaction, snapshot replacement, the ledger's shared batch, and
// bad bytes on disk reported as Corruption.
#include "storage/rocks_log_store.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace synod::storage {
namespace {

using testing::AcceptWrite;
using testing::CompactWrite;
using testing::CountKeys;
using testing::DecideWrite;
using testing::JoinedWrite;
using testing::MakeBatch;
using testing::OpenOrDie;
using testing::Options;
using testing::PromiseWrite;
using testing::SnapshotWrite;
using testing::TempDir;

// Everything a test persisted, to compare a RecoveredState against.
struct Expected {
  bool joined = false;
  Ballot promised;
  std::map<Slot, PValue> accepted;
  std::map<Slot, BatchRef> decided;
  Slot snapshot_slot = 0;
  std::string snapshot_data;
};

void ExpectRecovered(RocksLogStore* store, const Expected& expected) {
  Result<RecoveredState> recovered = store->Recover();
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  const RecoveredState& state = recovered.value();
  EXPECT_EQ(state.joined, expected.joined);
  EXPECT_EQ(state.promised, expected.promised);
  ASSERT_EQ(state.accepted.size(), expected.accepted.size());
  for (const auto& [slot, pvalue] : expected.accepted) {
    ASSERT_TRUE(state.accepted.count(slot)) << "slot " << slot;
    EXPECT_EQ(state.accepted.at(slot).slot, slot);
    EXPECT_EQ(state.accepted.at(slot).ballot, pvalue.ballot) << "slot " << slot;
    EXPECT_TRUE(SameBatch(state.accepted.at(slot).batch, pvalue.batch)) << "slot " << slot;
  }
  ASSERT_EQ(state.decided.size(), expected.decided.size());
  for (const auto& [slot, batch] : expected.decided) {
    ASSERT_TRUE(state.decided.count(slot)) << "slot " << slot;
    EXPECT_TRUE(SameBatch(state.decided.at(slot), batch)) << "slot " << slot;
  }
  EXPECT_EQ(state.snapshot.slot, expected.snapshot_slot);
  if (expected.snapshot_slot == 0) {
    EXPECT_EQ(state.snapshot.data, nullptr);
  } else {
    ASSERT_NE(state.snapshot.data, nullptr);
    EXPECT_EQ(*state.snapshot.data, expected.snapshot_data);
  }
}

TEST(RocksLogStore, CreatesAnEmptyDataDirThatRecoversNothing) {
  TempDir dir;
  auto store = OpenOrDie(Options(dir.Sub("node")));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->meta().format_version, kFormatVersion);
  EXPECT_EQ(store->meta().cluster_id, testing::kCluster);
  EXPECT_EQ(store->meta().node_id, testing::kNode);
  EXPECT_GT(store->meta().created_at_unix_ns, 0u);
  ExpectRecovered(store.get(), Expected{});
}

TEST(RocksLogStore, RoundTripsEveryDurableWriteKindAcrossReopen) {
  TempDir dir;
  Expected expected;
  {
    auto store = OpenOrDie(Options(dir.path()));
    ASSERT_NE(store, nullptr);
    std::vector<DurableWrite> writes = {JoinedWrite(), PromiseWrite({3, 2})};
    for (Slot slot = 1; slot <= 6; ++slot) {
      BatchRef batch = MakeBatch(slot, slot == 4 ? 0 : slot * 3, 40);  // Slot 4: a no-op.
      writes.push_back(AcceptWrite(slot, {3, 2}, batch));
      expected.accepted[slot] = PValue{slot, {3, 2}, batch};
      if (slot <= 4) {
        writes.push_back(DecideWrite(slot, batch));
        expected.decided[slot] = batch;
      }
    }
    writes.push_back(SnapshotWrite(2, "state at slot 2"));
    writes.push_back(CompactWrite(2));  // Deletes slot 1 only.
    expected.accepted.erase(1);
    expected.decided.erase(1);
    expected.joined = true;
    expected.promised = {3, 2};
    expected.snapshot_slot = 2;
    expected.snapshot_data = "state at slot 2";
    ASSERT_TRUE(store->Persist(writes).ok());
    ExpectRecovered(store.get(), expected);
  }
  auto reopened = OpenOrDie(Options(dir.path()));
  ASSERT_NE(reopened, nullptr);
  ExpectRecovered(reopened.get(), expected);
}

DurableWrite ConfigWrite(std::vector<ClusterConfig> configs) {
  DurableWrite w;
  w.kind = DurableWrite::Kind::kConfig;
  w.configs = std::move(configs);
  return w;
}

TEST(RocksLogStore, KeepsTheLatestConfigurationHistoryAndTheLearningFlagAcrossReopen) {
  TempDir dir;
  const ClusterConfig genesis{1, 0, {{1, "h:1", true}, {2, "h:2", true}, {3, "h:3", true}}};
  ClusterConfig grown = genesis;
  grown.decided_at = 9;
  grown.from = 73;
  grown.members.push_back({4, "h:4", false});
  {
    auto store = OpenOrDie(Options(dir.path()));
    ASSERT_NE(store, nullptr);
    DurableWrite joined = JoinedWrite();
    joined.membership.learning = true;
    ASSERT_TRUE(store->Persist({joined, ConfigWrite({genesis})}).ok());
    ASSERT_EQ(store->Recover().value().configs, std::vector<ClusterConfig>{genesis});
    ASSERT_TRUE(store->Persist({ConfigWrite({genesis, grown})}).ok());  // Rewritten whole.
  }
  auto reopened = OpenOrDie(Options(dir.path()));
  ASSERT_NE(reopened, nullptr);
  Result<RecoveredState> state = reopened->Recover();
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(state.value().configs, (std::vector<ClusterConfig>{genesis, grown}));
  EXPECT_TRUE(state.value().joined);
  EXPECT_TRUE(state.value().membership.learning);
  EXPECT_EQ(CountKeys(reopened.get(), kAcceptorFamily), 2u);  // Joined and config, one each.
}

TEST(RocksLogStore, RecoverReportsABadConfigurationRecordAsCorruption) {
  TempDir dir;
  auto store = OpenOrDie(Options(dir.path()));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Persist({ConfigWrite({ClusterConfig{1, 0, {{1, "h:1", true}}}})}).ok());
  ASSERT_TRUE(store->db()
                  ->Put(rocksdb::WriteOptions(), store->ColumnFamily(kAcceptorFamily), ConfigKey(),
                        EncodeJoined(Membership{}))
                  .ok());
  Result<RecoveredState> recovered = store->Recover();
  ASSERT_FALSE(recovered.ok());
  EXPECT_EQ(recovered.status().code(), Status::Code::kCorruption);
  EXPECT_NE(recovered.status().message().find("configuration record"), std::string::npos)
      << recovered.status().ToString();
}

TEST(RocksLogStore, AcceptAtAHigherBallotReplacesTheSlotsValue) {
  TempDir dir;
  auto store = OpenOrDie(Options(dir.path()));
  ASSERT_NE(store, nullptr);
  BatchRef first = MakeBatch(1, 2, 10);
  BatchRef second = MakeBatch(2, 5, 10);
  ASSERT_TRUE(store->Persist({PromiseWrite({1, 1}), AcceptWrite(9, {1, 1}, first)}).ok());
  ASSERT_TRUE(store->Persist({PromiseWrite({2, 3}), AcceptWrite(9, {2, 3}, second)}).ok());
  Expected expected;
  expected.promised = {2, 3};
  expected.accepted[9] = PValue{9, {2, 3}, second};
  ExpectRecovered(store.get(), expected);
}

TEST(RocksLogStore, LaterRecordsOfOneCallWinOverEarlierOnes) {
  TempDir dir;
  auto store = OpenOrDie(Options(dir.path()));
  ASSERT_NE(store, nullptr);
  BatchRef a = MakeBatch(1, 1, 8);
  BatchRef b = MakeBatch(2, 1, 8);
  ASSERT_TRUE(store
                  ->Persist({PromiseWrite({1, 1}), PromiseWrite({4, 1}), AcceptWrite(1, {1, 1}, a),
                             AcceptWrite(1, {4, 1}, b)})
                  .ok());
  Expected expected;
  expected.promised = {4, 1};
  expected.accepted[1] = PValue{1, {4, 1}, b};
  ExpectRecovered(store.get(), expected);
}

TEST(RocksLogStore, CompactDeletesAcceptedAndDecidedRecordsBelowTheSlotOnly) {
  TempDir dir;
  auto store = OpenOrDie(Options(dir.path()));
  ASSERT_NE(store, nullptr);
  Expected expected;
  expected.promised = {1, 1};
  std::vector<DurableWrite> writes = {PromiseWrite({1, 1})};
  for (Slot slot = 1; slot <= 20; ++slot) {
    BatchRef batch = MakeBatch(slot, 1, 8);
    writes.push_back(AcceptWrite(slot, {1, 1}, batch));
    writes.push_back(DecideWrite(slot, batch));
    if (slot >= 15) expected.accepted[slot] = PValue{slot, {1, 1}, batch};
    if (slot >= 15) expected.decided[slot] = batch;
  }
  ASSERT_TRUE(store->Persist(writes).ok());
  ASSERT_TRUE(store->Persist({SnapshotWrite(14, "s14"), CompactWrite(15)}).ok());
  expected.snapshot_slot = 14;
  expected.snapshot_data = "s14";
  ExpectRecovered(store.get(), expected);
  EXPECT_EQ(CountKeys(store.get(), kDecidedFamily), 6u);
  EXPECT_EQ(CountKeys(store.get(), kAcceptorFamily), 7u);  // Promise + 6 accepted.
}

TEST(RocksLogStore, ANewSnapshotReplacesTheOldOneAndDropsItsBytes) {
  TempDir dir;
  auto store = OpenOrDie(Options(dir.path()));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Persist({SnapshotWrite(10, std::string(1000, 'a'))}).ok());
  ASSERT_TRUE(store->Persist({SnapshotWrite(20, std::string(2000, 'b'))}).ok());
  EXPECT_EQ(CountKeys(store.get(), kSnapshotFamily), 2u);  // The record and one data value.
  Expected expected;
  expected.snapshot_slot = 20;
  expected.snapshot_data = std::string(2000, 'b');
  ExpectRecovered(store.get(), expected);
}

TEST(RocksLogStore, ReportsTheCurrentSnapshotsBookkeeping) {
  TempDir dir;
  auto store = OpenOrDie(Options(dir.path()));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->CurrentSnapshot().status().code(), Status::Code::kNotFound);
  ASSERT_TRUE(store->Persist({SnapshotWrite(33, "snapshot bytes")}).ok());
  Result<SnapshotInfo> info = store->CurrentSnapshot();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info.value().slot, 33u);
  EXPECT_EQ(info.value().size_bytes, 14u);
  EXPECT_EQ(info.value().data_hash, Fnv1a64("snapshot bytes"));
  EXPECT_EQ(info.value().data_key, SnapshotDataKey(33));
  EXPECT_GT(info.value().created_at_unix_ns, 0u);
}

TEST(RocksLogStore, EmptyPersistSucceedsAndWritesNothing) {
  TempDir dir;
  auto store = OpenOrDie(Options(dir.path()));
  ASSERT_NE(store, nullptr);
  const uint64_t before = store->db()->GetLatestSequenceNumber();
  ASSERT_TRUE(store->Persist({}).ok());
  EXPECT_EQ(store->db()->GetLatestSequenceNumber(), before);
}

TEST(RocksLogStore, RefusesASnapshotAboveTheInlineLimitWithoutLatching) {
  TempDir dir;
  auto store = OpenOrDie(Options(dir.path()));
  ASSERT_NE(store, nullptr);
  Status status = store->Persist(
      {PromiseWrite({1, 1}), SnapshotWrite(5, std::string(kInlineSnapshotBytesMax + 1, 'x'))});
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(status.message().find("inline limit"), std::string::npos) << status.ToString();
  EXPECT_TRUE(store->failure().ok());
  ExpectRecovered(store.get(), Expected{});  // Not even the promise of the same call.
  EXPECT_TRUE(store->Persist({PromiseWrite({1, 1})}).ok());
}

TEST(RocksLogStore, PersistWithCommitsLedgerWritesInTheSameSyncedBatch) {
  TempDir dir;
  {
    auto store = OpenOrDie(Options(dir.path()));
    ASSERT_NE(store, nullptr);
    rocksdb::WriteBatch batch;
    ASSERT_TRUE(batch.Put(store->ColumnFamily(kLedgerMetaFamily), "applied_slot", "12").ok());
    ASSERT_TRUE(store->PersistWith({PromiseWrite({5, 1})}, &batch).ok());
  }
  auto store = OpenOrDie(Options(dir.path()));
  ASSERT_NE(store, nullptr);
  std::string value;
  ASSERT_TRUE(store->db()
                  ->Get(rocksdb::ReadOptions(), store->ColumnFamily(kLedgerMetaFamily),
                        "applied_slot", &value)
                  .ok());
  EXPECT_EQ(value, "12");
  Expected expected;
  expected.promised = {5, 1};
  ExpectRecovered(store.get(), expected);
}

TEST(RocksLogStore, ExposesEveryFormatFamilyByNameAndNoOther) {
  TempDir dir;
  auto store = OpenOrDie(Options(dir.path()));
  ASSERT_NE(store, nullptr);
  for (std::string_view name : kAllFamilies) {
    rocksdb::ColumnFamilyHandle* handle = store->ColumnFamily(name);
    ASSERT_NE(handle, nullptr) << name;
    EXPECT_EQ(handle->GetName(), name);
  }
  EXPECT_EQ(store->ColumnFamily("ledger_nonexistent"), nullptr);
}

TEST(RocksLogStore, RecoverReportsABadAcceptedRecordAsCorruptionNamingTheSlot) {
  TempDir dir;
  auto store = OpenOrDie(Options(dir.path()));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Persist({AcceptWrite(3, {1, 1}, MakeBatch(3, 2, 8))}).ok());
  // Bytes that are not an AcceptedRecord, written behind the store's back.
  ASSERT_TRUE(store->db()
                  ->Put(rocksdb::WriteOptions(), store->ColumnFamily(kAcceptorFamily),
                        AcceptedKey(3), std::string("\x04\x00\x00\x00garbage", 11))
                  .ok());
  Result<RecoveredState> recovered = store->Recover();
  ASSERT_FALSE(recovered.ok());
  EXPECT_EQ(recovered.status().code(), Status::Code::kCorruption);
  EXPECT_NE(recovered.status().message().find("accepted record for slot 3"), std::string::npos)
      << recovered.status().ToString();
}

TEST(RocksLogStore, RecoverReportsADecidedRecordFiledUnderAnotherSlot) {
  TempDir dir;
  auto store = OpenOrDie(Options(dir.path()));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->db()
                  ->Put(rocksdb::WriteOptions(), store->ColumnFamily(kDecidedFamily), DecidedKey(8),
                        EncodeDecided(9, *MakeBatch(9, 1, 8)))
                  .ok());
  Result<RecoveredState> recovered = store->Recover();
  ASSERT_FALSE(recovered.ok());
  EXPECT_NE(recovered.status().message().find("holds another slot"), std::string::npos)
      << recovered.status().ToString();
}

TEST(RocksLogStore, RecoverReportsSnapshotBytesThatDoNotMatchTheirHash) {
  TempDir dir;
  auto store = OpenOrDie(Options(dir.path()));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Persist({SnapshotWrite(4, "the real state")}).ok());
  ASSERT_TRUE(store->db()
                  ->Put(rocksdb::WriteOptions(), store->ColumnFamily(kSnapshotFamily),
                        SnapshotDataKey(4), "the fake state")
                  .ok());
  Result<RecoveredState> recovered = store->Recover();
  ASSERT_FALSE(recovered.ok());
  EXPECT_NE(recovered.status().message().find("do not match"), std::string::npos)
      << recovered.status().ToString();
}

TEST(RocksLogStoreDeathTest, APromiseBelowThePersistedOneIsABug) {
  TempDir dir;  // "fast" death tests fork here, so the parent removes what the child wrote.
  EXPECT_DEATH(
      {
        auto store = OpenOrDie(Options(dir.path()));
        (void)store->Persist({PromiseWrite({5, 1})});
        (void)store->Persist({PromiseWrite({4, 9})});
      },
      "SYNOD_CHECK failed: write.ballot >= next->promised");
}

TEST(RocksLogStoreDeathTest, CompactingAboveTheSnapshotIsABug) {
  TempDir dir;  // "fast" death tests fork here, so the parent removes what the child wrote.
  EXPECT_DEATH(
      {
        auto store = OpenOrDie(Options(dir.path()));
        (void)store->Persist({SnapshotWrite(10, "s")});
        (void)store->Persist({CompactWrite(12)});
      },
      "SYNOD_CHECK failed: write.slot <= next->snapshot_slot \\+ 1");
}

}  // namespace
}  // namespace synod::storage
