#include "storage/ledger/rocksdb_ledger_tables.h"

#include <unistd.h>

#include <cstdio>

#include "ledger/ledger_limits.h"
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/perf_level.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/write_buffer_manager.h"
#include "storage/ledger/ledger_column_families.h"

namespace synod::ledger {
namespace {

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view ToView(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

class RocksCursor final : public TableCursor {
 public:
  explicit RocksCursor(rocksdb::Iterator* it) : it_(it) {}
  void Seek(std::string_view key) override { it_->Seek(ToSlice(key)); }
  bool Valid() const override { return it_->Valid(); }
  std::string_view key() const override { return ToView(it_->key()); }
  std::string_view value() const override { return ToView(it_->value()); }
  void Next() override { it_->Next(); }
  Status status() const override { return FromRocks(it_->status()); }

 private:
  std::unique_ptr<rocksdb::Iterator> it_;
};

class RocksBatchImpl final : public TableWriteBatch {
 public:
  explicit RocksBatchImpl(const RocksDbLedgerTables::Handles& cfs) : cfs_(cfs) {}
  void Put(Table table, std::string_view key, std::string_view value) override {
    SYNOD_CHECK(batch_.Put(cfs_[size_t(table)], ToSlice(key), ToSlice(value)).ok());
  }
  void Delete(Table table, std::string_view key) override {
    SYNOD_CHECK(batch_.Delete(cfs_[size_t(table)], ToSlice(key)).ok());
  }
  size_t ByteSize() const override { return batch_.GetDataSize(); }
  rocksdb::WriteBatch* rep() { return &batch_; }

 private:
  RocksDbLedgerTables::Handles cfs_;
  rocksdb::WriteBatch batch_;
};

// Reads at one RocksDB snapshot (or the latest state when snapshot is null).
class RocksView final : public TableView {
 public:
  RocksView(rocksdb::DB* db, const RocksDbLedgerTables::Handles& cfs)
      : db_(db), cfs_(cfs), snapshot_(db->GetSnapshot()) {
    options_.snapshot = snapshot_;
  }
  ~RocksView() override { db_->ReleaseSnapshot(snapshot_); }
  Status Get(Table table, std::string_view key, std::string* value, bool* found) override {
    rocksdb::Status s = db_->Get(options_, cfs_[size_t(table)], ToSlice(key), value);
    *found = s.ok();
    return s.IsNotFound() ? Status::Ok() : FromRocks(s);
  }
  std::unique_ptr<TableCursor> NewCursor(Table table) override {
    return std::make_unique<RocksCursor>(db_->NewIterator(options_, cfs_[size_t(table)]));
  }

 private:
  rocksdb::DB* db_;
  RocksDbLedgerTables::Handles cfs_;
  const rocksdb::Snapshot* snapshot_;
  rocksdb::ReadOptions options_;
};

}  // namespace

Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::Ok();
  if (s.IsNotFound()) return Status::NotFound(s.ToString());
  if (s.IsCorruption()) return Status::Corruption(s.ToString());
  if (s.IsInvalidArgument()) return Status::InvalidArgument(s.ToString());
  if (s.IsBusy()) return Status::Busy(s.ToString());
  return Status::IoError(s.ToString());
}

RocksDbLedgerTables::RocksDbLedgerTables(rocksdb::DB* db, Handles cfs, bool sync_writes)
    : db_(db), cfs_(cfs) {
  SYNOD_CHECK(db_ != nullptr);
  for (auto* cf : cfs_) SYNOD_CHECK(cf != nullptr);
  write_options_.sync = sync_writes;
}

Status RocksDbLedgerTables::Get(Table table, std::string_view key, std::string* value,
                                bool* found) {
  rocksdb::PinnableSlice pinned;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cfs_[size_t(table)], ToSlice(key), &pinned);
  *found = s.ok();
  if (s.ok()) value->assign(pinned.data(), pinned.size());
  return s.IsNotFound() ? Status::Ok() : FromRocks(s);
}

std::unique_ptr<TableCursor> RocksDbLedgerTables::NewCursor(Table table) {
  return std::make_unique<RocksCursor>(
      db_->NewIterator(rocksdb::ReadOptions(), cfs_[size_t(table)]));
}

std::unique_ptr<TableWriteBatch> RocksDbLedgerTables::NewWriteBatch() {
  return std::make_unique<RocksBatchImpl>(cfs_);
}

rocksdb::WriteBatch* RocksDbLedgerTables::RocksBatch(TableWriteBatch* batch) {
  auto* b = dynamic_cast<RocksBatchImpl*>(batch);
  SYNOD_CHECK(b != nullptr);
  return b->rep();
}

Status RocksDbLedgerTables::Write(TableWriteBatch* batch) {
  // RocksDB's default perf level counts every key comparison in a thread-local perf context;
  // in the shared library each count is a __tls_get_addr call: 11 % of Apply's instructions
  // (callgrind). Nothing here reads those counters. The level is per thread, hence set here.
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  return FromRocks(db_->Write(write_options_, RocksBatch(batch)));
}

std::unique_ptr<TableView> RocksDbLedgerTables::NewSnapshot() {
  return std::make_unique<RocksView>(db_, cfs_);
}

// Every key is shorter than kKeyBytesMax + 1 bytes of 0xff (KV keys are the longest), so one
// range deletion per family covers all of it.
Status RocksDbLedgerTables::Clear() {
  const std::string end(limits::kKeyBytesMax + 1, '\xff');
  rocksdb::WriteBatch batch;
  for (auto* cf : cfs_) {
    rocksdb::Status s = batch.DeleteRange(cf, rocksdb::Slice(), end);
    if (!s.ok()) return FromRocks(s);
  }
  return FromRocks(db_->Write(write_options_, &batch));
}

// One memory budget per process for RocksDB (see the header): the block cache and the
// memtables charged to it.
const std::shared_ptr<rocksdb::Cache>& BlockCache() {
  static const std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(kBlockCacheBytes);
  return cache;
}

const std::shared_ptr<rocksdb::WriteBufferManager>& MemtableBudget() {
  static const std::shared_ptr<rocksdb::WriteBufferManager> budget =
      std::make_shared<rocksdb::WriteBufferManager>(kMemtableBudgetBytes, BlockCache());
  return budget;
}

size_t BlockCacheBlockBytes() {
  const size_t usage = BlockCache()->GetUsage();
  const size_t reserved = MemtableBudget()->dummy_entries_in_cache_usage();
  return usage > reserved ? usage - reserved : 0;
}

size_t ResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long pages = 0, resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &pages, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

rocksdb::ColumnFamilyOptions LedgerColumnFamilyOptions() {
  rocksdb::ColumnFamilyOptions options;
  rocksdb::BlockBasedTableOptions table;
  table.checksum = rocksdb::ChecksumType::kXXH3;  // Like every family of a node's database.
  table.block_cache = BlockCache();
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // Partitioned index and filters: a lookup loads only the 4 KiB partitions it needs. With one
  // index and one filter block per table file (about a megabyte each for 64 MiB of transfers),
  // a history of a few GB no longer fit the 128 MiB cache and every point lookup read and
  // checksummed megabytes: requests of 8,190 transfers took 2-4 s after 2.5 M transfers.
  table.index_type = rocksdb::BlockBasedTableOptions::IndexType::kTwoLevelIndexSearch;
  table.partition_filters = true;
  table.metadata_block_size = 4096;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.pin_top_level_index_and_filter = true;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.write_buffer_size = 16 << 20;
  options.arena_block_size = kMemtableArenaBlockBytes;
  // A bloom filter on the memtable: most lookups are of transfer ids that do not exist yet.
  options.memtable_prefix_bloom_size_ratio = 0.02;
  options.memtable_whole_key_filtering = true;
  // Memtable insert hints, one per first key byte: Apply writes each batch's records in key
  // order, so an insert starts from where the previous one of that prefix ended (O(log
  // distance)) instead of searching the whole skiplist again. Every ledger key has at least
  // one byte; the empty start key of Clear()'s range deletions is outside the domain on
  // purpose: RocksDB 7.8 keeps one hint table for a memtable's point and range-deletion
  // skiplists, and a hint taken from one used on the other trips its assertions.
  options.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(1));
  return options;
}

Result<std::unique_ptr<LedgerDb>> LedgerDb::Open(const std::string& path) {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (std::string_view name : kLedgerColumnFamilies) {
    families.emplace_back(std::string(name), LedgerColumnFamilyOptions());
  }
  std::unique_ptr<LedgerDb> ldb(new LedgerDb());
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, path, families, &ldb->handles_, &db);
  if (!s.ok()) return FromRocks(s);
  ldb->db_.reset(db);
  RocksDbLedgerTables::Handles cfs;
  for (size_t i = 0; i < kTableCount; ++i) cfs[i] = ldb->handles_[i + 1];
  ldb->tables_ = std::make_unique<RocksDbLedgerTables>(db, cfs);
  return ldb;
}

uint64_t LedgerDb::MemtableBytes() {
  uint64_t total = 0;
  for (size_t i = 1; i < handles_.size(); ++i) {
    uint64_t bytes = 0;
    if (db_->GetIntProperty(handles_[i], "rocksdb.cur-size-all-mem-tables", &bytes)) {
      total += bytes;
    }
  }
  return total;
}

LedgerDb::~LedgerDb() {
  tables_.reset();
  for (auto* h : handles_) {
    if (db_) db_->DestroyColumnFamilyHandle(h);
  }
  db_.reset();
}

}  // namespace synod::ledger
