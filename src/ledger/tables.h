// LedgerTables: the small storage interface the state machine keeps its durable state behind.
//
// Five ordered tables of byte keys and byte values (records.h gives their layout). The state
// machine reads point values and ordered ranges, and writes each applied batch as ONE atomic
// TableWriteBatch that also carries the new applied slot, so a restart resumes exactly after
// the last written batch. Implementations: MemoryTables (memory_tables.h; tests, simulator) and
// RocksDbLedgerTables (storage/ledger/; one column family per table, shared DB with the log).
//
// Errors are operating errors (disk, corruption) and come back as Status. Implementations need
// not be thread-safe: the node's apply thread owns them; a TableView from NewSnapshot() may be
// read from another thread while writes continue, as RocksDB snapshots allow.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ledger/records.h"
#include "paxos/status.h"
#include "paxos/types.h"

namespace synod::ledger {

// An ascending cursor over one table of a consistent view.
class TableCursor {
 public:
  virtual ~TableCursor() = default;
  virtual void Seek(std::string_view key) = 0;  // First key >= key.
  virtual bool Valid() const = 0;
  virtual std::string_view key() const = 0;    // REQUIRES: Valid().
  virtual std::string_view value() const = 0;  // REQUIRES: Valid().
  virtual void Next() = 0;                     // REQUIRES: Valid().
  virtual Status status() const = 0;           // Not ok if iteration stopped on an error.
};

// A read-only, consistent view of all tables.
class TableView {
 public:
  virtual ~TableView() = default;
  // Sets *found; on found, *value holds the stored bytes.
  virtual Status Get(Table table, std::string_view key, std::string* value, bool* found) = 0;
  // The cursor must not outlive the view.
  virtual std::unique_ptr<TableCursor> NewCursor(Table table) = 0;
};

// A group of writes applied atomically by LedgerTables::Write.
class TableWriteBatch {
 public:
  virtual ~TableWriteBatch() = default;
  virtual void Put(Table table, std::string_view key, std::string_view value) = 0;
  virtual void Delete(Table table, std::string_view key) = 0;
  // Records `slot` as the applied slot (meta key kMetaAppliedSlot) in this batch.
  void SetAppliedSlot(Slot slot) { Put(Table::kMeta, kMetaAppliedSlot, U64Value(slot)); }
  virtual size_t ByteSize() const = 0;  // Approximate.
};

class LedgerTables : public TableView {
 public:
  virtual std::unique_ptr<TableWriteBatch> NewWriteBatch() = 0;
  // Applies `batch` atomically (all of it or, on error, possibly none). Need not be synced.
  // REQUIRES: batch came from this object's NewWriteBatch().
  virtual Status Write(TableWriteBatch* batch) = 0;
  // A consistent point-in-time view; later writes do not show in it.
  virtual std::unique_ptr<TableView> NewSnapshot() = 0;
  // Deletes every record of every table (before a snapshot is installed).
  virtual Status Clear() = 0;
};

}  // namespace synod::ledger
