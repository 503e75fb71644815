// RocksDbLedgerTables: the ledger's LedgerTables on RocksDB, one column family per table
// (names in ledger_column_families.h).
//
// The caller owns the rocksdb::DB and the column-family handles (the storage layer opens them
// in the node's one database, so the ledger's writes can later share a WriteBatch with the
// log's); this object only borrows them and must not outlive them. Writes are not synced
// unless asked: the synced decided log replays whatever a crash lost (ARCHITECTURE.md).
// NewSnapshot() is a RocksDB snapshot: consistent, cheap, and readable from another thread
// while writes continue. Otherwise not thread-safe (one apply thread).
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "ledger/tables.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "rocksdb/write_buffer_manager.h"

namespace synod::ledger {

class RocksDbLedgerTables final : public LedgerTables {
 public:
  using Handles = std::array<rocksdb::ColumnFamilyHandle*, kTableCount>;

  // `cfs` in Table order. REQUIRES: db and every handle non-null, outliving this object.
  RocksDbLedgerTables(rocksdb::DB* db, Handles cfs, bool sync_writes = false);

  Status Get(Table table, std::string_view key, std::string* value, bool* found) override;
  std::unique_ptr<TableCursor> NewCursor(Table table) override;
  std::unique_ptr<TableWriteBatch> NewWriteBatch() override;
  Status Write(TableWriteBatch* batch) override;
  std::unique_ptr<TableView> NewSnapshot() override;
  Status Clear() override;

  // The rocksdb::WriteBatch inside a batch from NewWriteBatch(), so that the storage layer can
  // add its own records to it and write both at once (instead of calling Write()).
  static rocksdb::WriteBatch* RocksBatch(TableWriteBatch* batch);

 private:
  rocksdb::DB* db_;
  Handles cfs_;
  rocksdb::WriteOptions write_options_;
};

// Translates a rocksdb::Status into a Synod Status (ok, not found, corruption, io error...).
Status FromRocks(const rocksdb::Status& s);

// A RocksDB database holding only the ledger families, for tests and benchmarks (a node opens
// them inside its shared database instead). Creates the directory and families if missing.
class LedgerDb {
 public:
  static Result<std::unique_ptr<LedgerDb>> Open(const std::string& path);
  ~LedgerDb();
  RocksDbLedgerTables* tables() { return tables_.get(); }
  rocksdb::DB* db() { return db_.get(); }
  // Bytes in the memtables of the ledger families (RocksDB's "cur-size-all-mem-tables").
  uint64_t MemtableBytes();

 private:
  LedgerDb() = default;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // [0] is the default family.
  std::unique_ptr<RocksDbLedgerTables> tables_;
};

// Column-family options suited to the ledger tables (bloom filters for point lookups of
// transfer ids that usually do not exist). The storage layer may use them for these families.
rocksdb::ColumnFamilyOptions LedgerColumnFamilyOptions();
// RocksDB's memory budget, one per process (a node process opens one database). Every column
// family a node opens, the ledger's and the log's, reads through one LRU block cache of
// kBlockCacheBytes, and the memtables of all of them are held to kMemtableBudgetBytes by one
// WriteBufferManager that also charges them to that cache. Once the cache is full (index and
// filter partitions and data blocks fill it within a few minutes of transfer load), blocks
// and memtables together stay at its capacity: a memtable growing evicts blocks, a flushed
// one gives the room back. Before, the memtables (16 MiB per family, up to two each) swung by
// about 50 MB beside a cache that kept growing, and the node's resident size with them.
inline constexpr size_t kBlockCacheBytes = size_t{128} << 20;
inline constexpr size_t kMemtableBudgetBytes = size_t{64} << 20;
// Memtables grow in arena blocks of this size (RocksDB's default for 16 MiB memtables is
// 1 MiB). Below the node's mmap threshold (tools/node_cmd.cc, TuneHeap), so the blocks come
// from the heap, and a flushed memtable's blocks are reused by the next one instead of being
// unmapped and faulted in again: the memtables filling and flushing no longer move the
// resident size up and down by tens of MB. An entry larger than a quarter block (a
// log batch) still gets a block of its own.
inline constexpr size_t kMemtableArenaBlockBytes = size_t{64} << 10;
const std::shared_ptr<rocksdb::Cache>& BlockCache();
const std::shared_ptr<rocksdb::WriteBufferManager>& MemtableBudget();
// Bytes of blocks in BlockCache(), without the memtables' reservations.
size_t BlockCacheBlockBytes();
// The resident size of this process (/proc/self/statm), for memory reports beside the
// caches' own figures; 0 if it cannot be read.
size_t ResidentBytes();

}  // namespace synod::ledger
