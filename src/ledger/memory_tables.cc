#include "ledger/memory_tables.h"

#include <optional>

namespace synod::ledger {
namespace {

class MapCursor final : public TableCursor {
 public:
  // Holds `maps` so that a snapshot's cursor keeps its data alive.
  MapCursor(std::shared_ptr<const MemoryTables::Maps> maps, Table table)
      : maps_(std::move(maps)), map_(&(*maps_)[size_t(table)]), it_(map_->end()) {}
  void Seek(std::string_view key) override { it_ = map_->lower_bound(key); }
  bool Valid() const override { return it_ != map_->end(); }
  std::string_view key() const override { return it_->first; }
  std::string_view value() const override { return it_->second; }
  void Next() override { ++it_; }
  Status status() const override { return Status::Ok(); }

 private:
  std::shared_ptr<const MemoryTables::Maps> maps_;
  const MemoryTables::Map* map_;
  MemoryTables::Map::const_iterator it_;
};

class MapView final : public TableView {
 public:
  explicit MapView(std::shared_ptr<const MemoryTables::Maps> maps) : maps_(std::move(maps)) {}
  Status Get(Table table, std::string_view key, std::string* value, bool* found) override {
    const auto& map = (*maps_)[size_t(table)];
    auto it = map.find(key);
    *found = it != map.end();
    if (*found) value->assign(it->second);
    return Status::Ok();
  }
  std::unique_ptr<TableCursor> NewCursor(Table table) override {
    return std::make_unique<MapCursor>(maps_, table);
  }

 private:
  std::shared_ptr<const MemoryTables::Maps> maps_;
};

class MapWriteBatch final : public TableWriteBatch {
 public:
  struct Op {
    Table table;
    std::string key;
    std::optional<std::string> value;  // nullopt: delete.
  };
  void Put(Table table, std::string_view key, std::string_view value) override {
    bytes_ += key.size() + value.size();
    ops_.push_back({table, std::string(key), std::string(value)});
  }
  void Delete(Table table, std::string_view key) override {
    bytes_ += key.size();
    ops_.push_back({table, std::string(key), std::nullopt});
  }
  size_t ByteSize() const override { return bytes_; }
  std::vector<Op>& ops() { return ops_; }

 private:
  std::vector<Op> ops_;
  size_t bytes_ = 0;
};

}  // namespace

Status MemoryTables::Get(Table table, std::string_view key, std::string* value, bool* found) {
  return MapView(maps_).Get(table, key, value, found);
}

std::unique_ptr<TableCursor> MemoryTables::NewCursor(Table table) {
  return std::make_unique<MapCursor>(maps_, table);
}

std::unique_ptr<TableWriteBatch> MemoryTables::NewWriteBatch() {
  return std::make_unique<MapWriteBatch>();
}

Status MemoryTables::Write(TableWriteBatch* batch) {
  auto* b = dynamic_cast<MapWriteBatch*>(batch);
  SYNOD_CHECK(b != nullptr);
  // A snapshot may share the maps: copy before writing (copy-on-write).
  if (maps_.use_count() > 1) maps_ = std::make_shared<Maps>(*maps_);
  for (auto& op : b->ops()) {
    Map& map = (*maps_)[size_t(op.table)];
    if (op.value) {
      map.insert_or_assign(std::move(op.key), std::move(*op.value));
    } else {
      auto it = map.find(op.key);
      if (it != map.end()) map.erase(it);
    }
  }
  b->ops().clear();
  ++writes_;
  return Status::Ok();
}

std::unique_ptr<TableView> MemoryTables::NewSnapshot() { return std::make_unique<MapView>(maps_); }

Status MemoryTables::Clear() {
  maps_ = std::make_shared<Maps>();
  return Status::Ok();
}

}  // namespace synod::ledger
