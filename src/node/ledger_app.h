// LedgerApp: the node's state machine, the ledger (src/ledger) on the node's own RocksDB
// database (the ledger_* column families that storage/ opens with the log).
//
// A snapshot's bytes are the ledger's bounded chunks, each length-prefixed (ByteWriter), in a
// blob (backups) or a file (node/snapshot_files.h: what peers fetch). Installing one clears the
// ledger tables and writes the chunks in order; a crash in the middle leaves tables that Open()
// refuses or that lag the persisted snapshot, and the node then installs the persisted
// snapshot again (Node::Recover).
//
// Thread-safe: one mutex guards the state machine. The node's apply thread (node/applier.h)
// holds it for one slot at a time; the loop thread takes it for reads, status, snapshots and
// installs, and has precedence: Apply waits while the loop waits (a slot of 8,190 transfers
// takes tens of milliseconds), so a loop that needs the state waits for one slot at most.
// applied_slot() takes no lock.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/invariants.h"
#include "ledger/snapshot.h"
#include "ledger/state_machine.h"
#include "storage/ledger/rocksdb_ledger_tables.h"
#include "storage/rocks_log_store.h"

namespace synod::node {

// The ledger's column-family handles in `store`'s database, in Table order (also for tests that
// read a stopped node's ledger directly).
ledger::RocksDbLedgerTables::Handles LedgerHandles(storage::RocksLogStore* store);

// Hands every chunk of a snapshot to `add`, in order (node/snapshot_files.h, ForEachChunk over
// a blob or a file).
using ChunkSource = std::function<Status(const std::function<Status(std::string_view chunk)>& add)>;

// Installs a snapshot's chunks into `tables`, clearing them first, and opens the state machine
// on them; Corruption when the chunks are malformed, hold another slot than `slot`, or their
// hashes do not match the records. LedgerApp::Install and the backup checks use it.
Result<std::unique_ptr<ledger::StateMachine>> InstallChunks(ledger::LedgerTables* tables, Slot slot,
                                                            const ChunkSource& chunks);
Result<std::unique_ptr<ledger::StateMachine>> InstallBlob(ledger::LedgerTables* tables, Slot slot,
                                                          const std::string& blob);

class LedgerApp {
 public:
  // Opens the ledger stored in `store`'s database. A failure to load (e.g. an interrupted
  // install) is returned; the caller may then Install() a snapshot over it.
  explicit LedgerApp(storage::RocksLogStore* store);
  Status Open();

  // The slot of the state in the tables; a slot is counted once its write returned.
  Slot applied_slot() const { return applied_.load(std::memory_order_acquire); }
  // Applies `batch` as slot `slot`; on any thread. A slot at or below the applied one (a
  // snapshot was installed while the caller waited for the lock) is not applied: *already is
  // set and the result is empty.
  Result<std::vector<std::string>> Apply(Slot slot, const Batch& batch, bool* already);
  // A read-only command on the applied state (ledger::StateMachine::Query).
  std::optional<std::string> Query(std::string_view payload);
  // A snapshot in two steps so the loop does not stall: Begin (cheap, a consistent view at
  // applied_slot(), on the loop thread), then Drain (reads and encodes it, on any thread).
  Result<std::unique_ptr<ledger::SnapshotStream>> BeginSnapshot();
  static Result<std::string> Drain(ledger::SnapshotStream* stream);
  Status Install(Slot slot, const ChunkSource& chunks);
  std::string StateHash();
  ledger::InvariantReport CheckInvariants();

 private:
  // The lock for everything but Apply: Apply yields to it (see the class comment).
  std::unique_lock<std::mutex> LockForLoop();
  void Publish();  // applied_ from sm_; under mu_.

  std::unique_ptr<ledger::RocksDbLedgerTables> tables_;
  std::mutex mu_;
  std::unique_ptr<ledger::StateMachine> sm_;  // Guarded by mu_.
  std::atomic<Slot> applied_{0};
  std::atomic<int> loop_waiting_{0};
};

}  // namespace synod::node
