// Staging: the writes of one batch to the tables that are NOT cached in memory (transfers and
// account_transfers), held until the batch is written as one TableWriteBatch.
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

#include "ledger/state_hash.h"
#include "ledger/tables.h"

namespace synod::ledger {

class Staging {
 public:
  explicit Staging(LedgerTables* tables) : tables_(tables) {}

  // Reads `key` of `table`: the staged value if any, else the stored one. Sets *found.
  // A read error is kept in status() and reads as "not found".
  // The returned view is valid until the next call on this object.
  std::string_view Get(Table table, std::string_view key, bool* found);
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

  LedgerTables* tables_;
  // Key: one table byte, then the key. Iterated only through order_ (sorted at commit).
  std::unordered_map<std::string, Entry> entries_;
  std::vector<const std::string*> order_;
  bool undo_enabled_ = false;
  std::vector<Undo> undo_;  // Invariant: empty unless undo_enabled_.
  std::string scratch_;
  Status status_;
};

}  // namespace synod::ledger
