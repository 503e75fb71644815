// Snapshots of the ledger state as a stream of bounded chunks, and their installation.
//
// SnapshotStream reads a consistent view of the tables (LedgerTables::NewSnapshot, a RocksDB
// snapshot in production) taken at one applied slot and cuts it into SnapshotChunk buffers
// (schemas/ledger.fbs) of at most limits::kSnapshotChunkBytesMax bytes each: every record of
// every table, in table order then key order, including the meta table (applied slot,
// counters, record hash, session checkpoint and session log). No chunk needs more than one
// chunk of memory, however large the state. The last chunk carries the state hash.
//
// SnapshotInstaller receives the chunks in order, clears the target tables on the first one,
// writes each chunk's records in one batch, and on Finish() opens a StateMachine from them
// and checks that it has the announced state hash and the record hash it recomputed.
// Neither class is thread-safe. A stream must not outlive the tables it reads; on RocksDB
// tables it may be read on another thread than the one applying batches (its view is a
// RocksDB snapshot, independent of later writes); on MemoryTables only on the same thread.
// If Add() or Finish() fails, the target tables hold a partial state: start over with a new
// installer (the first chunk clears them again); never open a StateMachine on them meanwhile.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ledger/state_hash.h"
#include "ledger/state_machine.h"
#include "ledger/tables.h"
#include "paxos/status.h"
#include "paxos/types.h"

namespace synod::ledger {

inline constexpr uint32_t kSnapshotFormatVersion = 1;

class SnapshotStream {
 public:
  SnapshotStream(std::unique_ptr<TableView> view, Slot applied_slot, Hash128 state_hash);

  bool done() const { return done_; }
  // The next chunk. REQUIRES: !done(). After the last chunk, done() is true.
  Result<std::string> Next();
  Slot applied_slot() const { return applied_slot_; }
  Hash128 state_hash() const { return state_hash_; }

 private:
  bool AdvanceTable();  // Moves to the next non-exhausted table; false when none is left.

  std::unique_ptr<TableView> view_;
  Slot applied_slot_;
  Hash128 state_hash_;
  size_t table_ = 0;
  std::unique_ptr<TableCursor> cursor_;
  uint64_t index_ = 0;
  bool done_ = false;
};

class SnapshotInstaller {
 public:
  // `tables` is cleared when the first chunk arrives; no StateMachine may use it meanwhile.
  explicit SnapshotInstaller(LedgerTables* tables) : tables_(tables) {}

  // Verifies and installs one chunk. Chunks must come in order 0, 1, 2, ...
  Status Add(std::string_view chunk);
  bool complete() const { return complete_; }
  Slot applied_slot() const { return applied_slot_; }
  // REQUIRES: complete(). Opens the installed state and checks its hashes.
  Result<std::unique_ptr<StateMachine>> Finish(StateMachine::Options options);
  Result<std::unique_ptr<StateMachine>> Finish() { return Finish(StateMachine::Options()); }

 private:
  LedgerTables* tables_;
  uint64_t next_index_ = 0;
  Slot applied_slot_ = 0;
  bool complete_ = false;
  Hash128 state_hash_;
  RecordSum record_sum_;  // Recomputed from the records received.
};

}  // namespace synod::ledger
