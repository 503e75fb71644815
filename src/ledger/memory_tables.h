// MemoryTables: LedgerTables kept in ordered in-memory maps, for unit tests and the simulator.
//
// Write() applies a whole batch or nothing (it cannot fail). NewSnapshot() shares the maps and
// copies them lazily: the first Write() after it copies all maps (copy-on-write; fine for tests,
// not meant for large states). Not thread-safe.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ledger/tables.h"

namespace synod::ledger {

class MemoryTables final : public LedgerTables {
 public:
  using Map = std::map<std::string, std::string, std::less<>>;
  using Maps = std::array<Map, kTableCount>;

  MemoryTables() : maps_(std::make_shared<Maps>()) {}

  Status Get(Table table, std::string_view key, std::string* value, bool* found) override;
  std::unique_ptr<TableCursor> NewCursor(Table table) override;
  std::unique_ptr<TableWriteBatch> NewWriteBatch() override;
  Status Write(TableWriteBatch* batch) override;
  std::unique_ptr<TableView> NewSnapshot() override;
  Status Clear() override;

  size_t RecordCount(Table table) const { return (*maps_)[size_t(table)].size(); }
  uint64_t writes() const { return writes_; }  // Write() calls so far.

 private:
  std::shared_ptr<Maps> maps_;
  uint64_t writes_ = 0;
};

}  // namespace synod::ledger
