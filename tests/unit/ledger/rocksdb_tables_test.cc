// RocksDbLedgerTables: the RocksDB side of the LedgerTables contract (point reads, ordered
// cursors, atomic batches with the applied slot, snapshots isolated from later writes, Clear,
// and a write batch the storage layer can extend with its own records).
#include "storage/ledger/ledger_column_families.h"
#include "test_util.h"

namespace synod::ledger::testing {
namespace {

std::string GetOrEmpty(TableView* view, Table table, std::string_view key) {
  std::string value;
  bool found = false;
  EXPECT_TRUE(view->Get(table, key, &value, &found).ok());
  return found ? value : "<none>";
}

TEST(LedgerRocksDbTables, BatchIsAtomicAndCarriesTheAppliedSlot) {
  TestTables t(Backend::kRocksDb);
  auto batch = t.get()->NewWriteBatch();
  batch->Put(Table::kKv, "a", "1");
  batch->Put(Table::kAccounts, "a", "2");
  batch->SetAppliedSlot(7);
  EXPECT_EQ(GetOrEmpty(t.get(), Table::kKv, "a"), "<none>");  // Nothing before Write.
  ASSERT_TRUE(t.get()->Write(batch.get()).ok());
  EXPECT_EQ(GetOrEmpty(t.get(), Table::kKv, "a"), "1");
  EXPECT_EQ(GetOrEmpty(t.get(), Table::kAccounts, "a"), "2");  // Families are separate.
  EXPECT_EQ(GetOrEmpty(t.get(), Table::kTransfers, "a"), "<none>");
  EXPECT_EQ(GetOrEmpty(t.get(), Table::kMeta, kMetaAppliedSlot), U64Value(7));
  t.Reopen();
  EXPECT_EQ(GetOrEmpty(t.get(), Table::kMeta, kMetaAppliedSlot), U64Value(7));
}

TEST(LedgerRocksDbTables, CursorIsOrderedAndSnapshotIgnoresLaterWrites) {
  TestTables t(Backend::kRocksDb);
  auto batch = t.get()->NewWriteBatch();
  for (const char* k : {"c", "a", "b"}) batch->Put(Table::kKv, k, k);
  ASSERT_TRUE(t.get()->Write(batch.get()).ok());
  auto snapshot = t.get()->NewSnapshot();
  auto later = t.get()->NewWriteBatch();
  later->Delete(Table::kKv, "a");
  later->Put(Table::kKv, "d", "d");
  ASSERT_TRUE(t.get()->Write(later.get()).ok());
  std::string seen;
  auto cursor = snapshot->NewCursor(Table::kKv);
  for (cursor->Seek(""); cursor->Valid(); cursor->Next()) seen += cursor->key();
  EXPECT_EQ(seen, "abc");
  EXPECT_EQ(GetOrEmpty(snapshot.get(), Table::kKv, "a"), "a");
  EXPECT_EQ(GetOrEmpty(t.get(), Table::kKv, "a"), "<none>");
}

TEST(LedgerRocksDbTables, ClearRemovesEveryRecordIncludingLongestKeys) {
  TestTables t(Backend::kRocksDb);
  auto batch = t.get()->NewWriteBatch();
  batch->Put(Table::kKv, std::string(1024, '\xff'), "max");
  batch->Put(Table::kMeta, "x", "y");
  ASSERT_TRUE(t.get()->Write(batch.get()).ok());
  ASSERT_TRUE(t.get()->Clear().ok());
  for (size_t i = 0; i < kTableCount; ++i) {
    auto cursor = t.get()->NewCursor(static_cast<Table>(i));
    cursor->Seek("");
    EXPECT_FALSE(cursor->Valid()) << TableName(static_cast<Table>(i));
  }
}

TEST(LedgerRocksDbTables, StorageCanAddItsOwnRecordsToTheSameWriteBatch) {
  TempDir dir;
  auto db = LedgerDb::Open(dir.path());
  ASSERT_TRUE(db.ok());
  RocksDbLedgerTables* tables = db.value()->tables();
  auto batch = tables->NewWriteBatch();
  batch->Put(Table::kKv, "k", "v");
  rocksdb::WriteBatch* rocks = RocksDbLedgerTables::RocksBatch(batch.get());
  ASSERT_TRUE(rocks->Put("log-record", "decided").ok());  // Default family: the "log".
  ASSERT_TRUE(db.value()->db()->Write(rocksdb::WriteOptions(), rocks).ok());
  std::string value;
  ASSERT_TRUE(db.value()->db()->Get(rocksdb::ReadOptions(), "log-record", &value).ok());
  EXPECT_EQ(value, "decided");
  EXPECT_EQ(GetOrEmpty(tables, Table::kKv, "k"), "v");
  EXPECT_EQ(kLedgerColumnFamilies[size_t(Table::kAccountTransfers)], "ledger_account_transfers");
}

TEST(LedgerRocksDbTables, ApplyIntoLeavesTheWriteToTheCallerWhoSharesTheBatch) {
  TempDir dir;
  Hash128 hash;
  {
    auto db = LedgerDb::Open(dir.path());
    ASSERT_TRUE(db.ok());
    auto sm = StateMachine::Open(db.value()->tables());
    ASSERT_TRUE(sm.ok());
    AccountSpec accounts[] = {{1, 1, 0, 0}, {2, 1, 0, 0}};
    TransferSpec t = Plain(100, 1, 2, 5);
    Batch batch{1000,
                {{1, 1, EncodeCreateAccounts(accounts)}, {1, 2, EncodeCreateTransfers({&t, 1})}}};
    auto out = db.value()->tables()->NewWriteBatch();
    auto results = sm.value()->ApplyInto(1, batch, out.get());
    ASSERT_TRUE(results.ok());
    EXPECT_EQ(Decode(results.value()[1]).event_codes[0], RC::ok);
    bool found = true;
    std::string value;
    ASSERT_TRUE(db.value()->tables()->Get(Table::kMeta, kMetaAppliedSlot, &value, &found).ok());
    EXPECT_FALSE(found);  // Not written yet: the caller writes.
    rocksdb::WriteBatch* rocks = RocksDbLedgerTables::RocksBatch(out.get());
    ASSERT_TRUE(rocks->Put("decided/1", "batch").ok());
    ASSERT_TRUE(db.value()->db()->Write(rocksdb::WriteOptions(), rocks).ok());
    hash = sm.value()->StateHash();
  }
  auto db = LedgerDb::Open(dir.path());
  ASSERT_TRUE(db.ok());
  auto sm = StateMachine::Open(db.value()->tables());
  ASSERT_TRUE(sm.ok());
  EXPECT_EQ(sm.value()->applied_slot(), 1u);
  EXPECT_EQ(sm.value()->StateHash(), hash);
  EXPECT_EQ(sm.value()->FindAccount(2)->credits_posted, 5u);
}

}  // namespace
}  // namespace synod::ledger::testing
