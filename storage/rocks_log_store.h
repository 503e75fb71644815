// RocksLogStore: the node's LogStore on RocksDB. One database per node data dir holds the
// node metadata, the acceptor state (joined flag, promised ballot, accepted pvalue per slot),
// the decided log, the current snapshot, and the ledger state machine's column families, so
// that the ledger can add its writes to the same WriteBatch (PersistWith). Layout: FORMAT.md.
//
// Durability: Persist() turns one pass of the node loop (Ready::to_persist) into ONE
// rocksdb::WriteBatch written with sync = true and the WAL on: all of it is durable when
// Persist() returns ok, none or all of it after a crash otherwise (group commit: one fsync).
// One exception: a call holding only decided records (kDecide) is written without the fsync
// (see PersistWith): they repeat what a majority of acceptors already hold durably.
//
// Failure latch: the first failed write latches the store into a failed state. Every later
// Persist()/PersistWith() returns that same error without touching the database, and the error
// is logged once (spdlog, error level). The node must then stop acting as an acceptor: it may
// not report any record of the failed call, and the store will never again claim durability.
// Earlier records stay intact (RocksDB never rewrites acknowledged data).
//
// Owned by the node's event loop. Not thread-safe: one thread calls every method. db() and
// ColumnFamily() expose the database to storage/ledger on that same thread.
//
// Invariants (SYNOD_CHECK on every write, REQUIRES for the core):
//   - the promised ballot never decreases;
//   - the snapshot slot never decreases;
//   - kCompact(s) only after a snapshot at slot >= s - 1 is durable or in the same call,
//     so the log below a snapshot is deleted only once the snapshot is on disk.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/write_batch.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "paxos/persist.h"
#include "storage/data_dir.h"
#include "storage/database.h"
#include "storage/format.h"

namespace synod::storage {

// Snapshots are stored inline (one value in the "snapshot" family) up to this size; a bigger
// one is refused with InvalidArgument. Big ledger snapshots will travel as RocksDB checkpoints.
inline constexpr size_t kInlineSnapshotBytesMax = 64 << 20;

struct StoreOptions {
  std::string data_dir;     // Created if missing.
  uint64_t cluster_id = 0;  // Of a data dir this open creates; checked on an existing one
                            // unless adopt_cluster_id.
  // Open an existing data dir whatever cluster id it holds (meta().cluster_id tells which); the
  // caller decides whether that is right (src/node: after a membership change the --cluster
  // spec no longer hashes to the id the data dir was created with).
  bool adopt_cluster_id = false;
  NodeId node_id = 0;
  // Every file access of RocksDB goes through this Env; null means rocksdb::Env::Default().
  // Not owned; must outlive the store. Tests inject I/O failures through it.
  rocksdb::Env* env = nullptr;
  // On open, read every SST file once and verify its block checksums, so that a corrupted
  // database is refused at open rather than found later. Costs one pass over the data.
  bool verify_checksums_on_open = true;
};

class RocksLogStore final : public LogStore {
 public:
  // Opens the data dir, creating the database if the dir is missing or empty. Refuses, with a
  // Status naming the problem and without changing anything on disk:
  //   Busy            another opener holds the data dir (lock file synod.lock);
  //   InvalidArgument the dir belongs to another cluster id or node id, has a newer or unknown
  //                   format version, or is not a directory;
  //   Corruption      the dir holds files but no database, or an unreadable / corrupted one;
  //   IoError         the dir cannot be created, listed or locked.
  static Result<std::unique_ptr<RocksLogStore>> Open(const StoreOptions& options);

  ~RocksLogStore() override;
  RocksLogStore(const RocksLogStore&) = delete;
  RocksLogStore& operator=(const RocksLogStore&) = delete;

  // LogStore. Empty `writes`: ok, nothing written. InvalidArgument (not latched, nothing
  // written) for a snapshot above kInlineSnapshotBytesMax.
  Status Persist(const std::vector<DurableWrite>& writes) override;
  Result<RecoveredState> Recover() override;

  // Persist() into the caller's batch: appends `writes` to `batch` (which may already hold
  // writes to the ledger families) and commits the whole batch as one synced write. Latches
  // like Persist(). On return `batch` may be reused after Clear().
  Status PersistWith(const std::vector<DurableWrite>& writes, rocksdb::WriteBatch* batch);

  // The bookkeeping of the current snapshot (slot, size, hash of its bytes, when it was
  // written), for status reports; NotFound if none was persisted. Does not read the bytes.
  Result<SnapshotInfo> CurrentSnapshot() const;

  // Ok until a write failed; then the latched error.
  const Status& failure() const { return failure_; }

  rocksdb::DB* db() const { return database_->db(); }
  Database::MemoryUse Memory() const { return database_->Memory(); }
  // Handle of the column family `name` (format.h lists them), or null if there is none.
  rocksdb::ColumnFamilyHandle* ColumnFamily(std::string_view name) const {
    return database_->Family(name);
  }
  const NodeMeta& meta() const { return database_->meta(); }
  const std::string& data_dir() const { return data_dir_; }

 private:
  // What the write path must know to check its invariants.
  struct Tracked {
    Ballot promised;
    Slot snapshot_slot = 0;
  };

  RocksLogStore(std::string data_dir, std::unique_ptr<DataDirLock> lock,
                std::unique_ptr<Database> database);
  Status LoadTracked();
  Status Append(const DurableWrite& write, Tracked* next, rocksdb::WriteBatch* batch) const;
  void AppendSnapshot(const Snapshot& snapshot, rocksdb::WriteBatch* batch) const;
  void AppendCompact(Slot slot, rocksdb::WriteBatch* batch) const;
  Status Commit(rocksdb::WriteBatch* batch, bool sync);
  Status Get(std::string_view family, const std::string& key, std::string* value) const;
  Status RecoverAcceptor(RecoveredState* state) const;
  Status RecoverDecided(RecoveredState* state) const;
  Status RecoverSnapshot(RecoveredState* state) const;

  const std::string data_dir_;
  std::unique_ptr<DataDirLock> lock_;   // Held for the store's lifetime.
  std::unique_ptr<Database> database_;  // Destroyed before lock_ (declared after it).
  Tracked tracked_;                     // Invariant: equals what is durable.
  Status failure_;                      // Invariant: once not ok, never ok again.
};

}  // namespace synod::storage
