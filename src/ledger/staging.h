// Staging: the writes of one batch to the tables that are NOT cached in memory (transfers and
// account_transfers), held until the batch is written as one TableWriteBatch.
//
// Two kinds of writes. New transfers (with their two account_transfers index rows) are the bulk
// of every batch: they are kept as typed values in vectors with an IdIndex, so that staging one
// costs no heap allocation, and their keys are known to be absent from the tables (transfers
// are immutable, so a stored transfer is never staged). Every other record (pending statuses,
// expiry keys) goes through the generic Put/Delete, keyed by bytes, which remembers the stored
// value it replaces.
//
// Reads during the batch see the staged values first (a transfer created earlier in the same
// batch is found), then the tables. Changes can be logged and undone, which is how a linked chain
// of transfers that fails in the middle leaves no trace. Commit() writes what changed, in key order
// (deterministic), and updates the RecordSum with the old and new value of every changed record.
// Owned by the StateMachine; not thread-safe. Bounded by the events of one batch.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ledger/id_index.h"
#include "ledger/state_hash.h"
#include "ledger/tables.h"

namespace synod::ledger {

class Staging {
 public:
  explicit Staging(LedgerTables* tables) : tables_(tables) {}

  // One account_transfers row added in this batch.
  struct IndexEntry {
    Id128 account;
    uint64_t seq;
    Id128 transfer;
  };

  // Stages a new transfer and its index rows (debit account, then credit account).
  // REQUIRES: t.id is neither stored nor staged.
  void AddTransfer(const Transfer& t);
  // The transfer staged by AddTransfer in this batch, or nullptr.
  const Transfer* FindNewTransfer(Id128 id) const;
  // Index rows added in this batch, oldest first.
  const std::vector<IndexEntry>& index_entries() const { return index_entries_; }

  // Reads `key` of `table`: the staged value if any, else the stored one. Sets *found.
  // A read error is kept in status() and reads as "not found".
  // The returned view is valid until the next call on this object.
  std::string_view Get(Table table, std::string_view key, bool* found);
  // Like Get, but reads the tables only (for keys that are never staged by Put/Delete).
  std::string_view GetStored(Table table, std::string_view key, bool* found);
  // `known_absent`: the caller knows the key is not stored (skips a read).
  void Put(Table table, std::string_view key, std::string_view value, bool known_absent = false);
  void Delete(Table table, std::string_view key);

  // Between BeginUndo() and EndUndo(), changes are logged so that EndUndo(true) can revert
  // them (a linked chain). Outside, nothing is logged: most events are not linked.
  void BeginUndo();
  void EndUndo(bool rollback);

  // Adds the changed records to `batch` and `sum`, then forgets everything.
  void Commit(TableWriteBatch* batch, RecordSum* sum);
  void Clear();
  const Status& status() const { return status_; }

 private:
  struct Entry {
    bool orig_present = false;
    bool present = false;
    std::string orig;
    std::string value;
  };
  struct Undo {
    Entry* entry;
    bool present;
    std::string value;
  };
  Entry* Touch(Table table, std::string_view key, bool known_absent);

  void CommitTransfers(TableWriteBatch* batch, RecordSum* sum);

  LedgerTables* tables_;
  IdIndex new_ids_;  // Ids of new_transfers_, at the same positions.
  std::vector<Transfer> new_transfers_;
  std::vector<IndexEntry> index_entries_;
  size_t undo_transfers_ = 0;  // Sizes at BeginUndo().
  size_t undo_index_entries_ = 0;
  // Key: one table byte, then the key. Iterated only through order_ (sorted at commit).
  std::unordered_map<std::string, Entry> entries_;
  std::vector<const std::string*> order_;
  bool undo_enabled_ = false;
  std::vector<Undo> undo_;  // Invariant: empty unless undo_enabled_.
  std::string scratch_;
  Status status_;
};

}  // namespace synod::ledger
