// Database: one open RocksDB database of a node data dir with every column family of the
// format (format.h: kAllFamilies). CreateAtomically() makes DIR/db, OpenExisting() opens it.
//
// OpenExisting() first opens the database READ-ONLY and checks it (node metadata, format
// version, cluster and node id, the set of column families, optionally every SST checksum),
// closes it, and only then opens it read-write. A refusal therefore leaves the dir exactly as
// it was: a read-only open writes no file (RocksDB's info log goes to spdlog, database.cc).
//
// RocksDB settings that the durability contract relies on (see README "Storage"):
//   WAL on, manual_wal_flush = false, paranoid_checks = true, block checksums XXH3 verified on
//   every read, wal_recovery_mode = kPointInTimeRecovery (a torn WAL tail after a crash is
//   dropped; synced records before it are kept), WALs tracked in the MANIFEST.
//
// Owned by a RocksLogStore. rocksdb::DB is thread-safe; this wrapper adds no state after
// construction. Invariant: handles_[i] is the family kAllFamilies[i], alive until destruction.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/env.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "paxos/status.h"
#include "storage/format.h"

namespace synod::storage {

// Passed as the cluster id to OpenExisting: accept the data dir whatever cluster id it holds
// (the caller checks it against its own rule; see StoreOptions::adopt_cluster_id).
inline constexpr uint64_t kAnyClusterId = 0;

class Database {
 public:
  // Creates DIR/db (REQUIRES: absent; the caller holds the data dir lock) with every column
  // family and `meta`: builds it in DIR/db.creating, syncs, closes, renames it to DIR/db and
  // syncs DIR. A crash at any point leaves either no db/ or a complete one.
  static Status CreateAtomically(const std::string& data_dir, rocksdb::Env* env,
                                 const NodeMeta& meta);

  // Opens the database in `dir` (DIR/db) after checking, read-only, that it is readable, of a known
  // format version, and belongs to `cluster_id` (unless kAnyClusterId) / `node_id`. Refusals:
  // Corruption (unreadable, corrupt, missing metadata or families), InvalidArgument (other cluster
  // or node, newer or unknown format version). `verify_checksums` reads every SST once to check its
  // blocks.
  static Result<std::unique_ptr<Database>> OpenExisting(const std::string& dir, rocksdb::Env* env,
                                                        uint64_t cluster_id, NodeId node_id,
                                                        bool verify_checksums);

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  rocksdb::DB* db() const { return db_.get(); }
  const NodeMeta& meta() const { return meta_; }
  // The handle of family `name`, or null if the format has no such family.
  rocksdb::ColumnFamilyHandle* Family(std::string_view name) const;

  // What RocksDB holds in memory for this database, in bytes (RocksDB's own estimates; thread
  // safe). memtables: active, immutable and pinned memtables of every family; table_readers:
  // the index and filter blocks table readers keep outside the block cache; block_cache: the
  // blocks in the process's one block cache that every family shares, without the memtables'
  // reservations (storage/ledger/rocksdb_ledger_tables.h, "memory budget").
  struct MemoryUse {
    uint64_t memtables = 0, table_readers = 0, block_cache = 0;
  };
  MemoryUse Memory() const;

 private:
  Database() = default;
  static Result<std::unique_ptr<Database>> OpenReadWrite(const std::string& dir, rocksdb::Env* env,
                                                         bool create);

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // Owned; destroyed before db_ closes.
  NodeMeta meta_;
};

// The DBOptions every open uses (exposed for tests and the benchmark to inspect).
rocksdb::DBOptions MakeDbOptions(rocksdb::Env* env);
// The options of column family `name`: the ledger's families get
// ledger::LedgerColumnFamilyOptions(), the log and snapshot families no compression.
rocksdb::ColumnFamilyOptions MakeFamilyOptions(std::string_view name = "");

}  // namespace synod::storage
