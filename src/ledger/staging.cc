#include "ledger/staging.h"

#include <algorithm>

namespace synod::ledger {
namespace {
std::string FullKey(Table table, std::string_view key) {
  std::string k;
  k.reserve(1 + key.size());
  k.push_back(static_cast<char>(table));
  k.append(key);
  return k;
}
}  // namespace

Staging::Entry* Staging::Touch(Table table, std::string_view key, bool known_absent) {
  auto [it, inserted] = entries_.try_emplace(FullKey(table, key));
  Entry* e = &it->second;
  if (!inserted) return e;
  order_.push_back(&it->first);
  if (!known_absent) {
    bool found = false;
    Status s = tables_->Get(table, key, &e->orig, &found);
    if (!s.ok() && status_.ok()) status_ = s;
    e->orig_present = s.ok() && found;
    if (!e->orig_present) e->orig.clear();
  }
  e->present = e->orig_present;
  e->value = e->orig;
  return e;
}

std::string_view Staging::Get(Table table, std::string_view key, bool* found) {
  scratch_.clear();
  scratch_.push_back(static_cast<char>(table));
  scratch_.append(key);
  auto it = entries_.find(scratch_);
  if (it != entries_.end()) {
    *found = it->second.present;
    return it->second.value;
  }
  Status s = tables_->Get(table, key, &scratch_, found);
  if (!s.ok()) {
    if (status_.ok()) status_ = s;
    *found = false;
  }
  return *found ? std::string_view(scratch_) : std::string_view();
}

void Staging::Put(Table table, std::string_view key, std::string_view value, bool known_absent) {
  Entry* e = Touch(table, key, known_absent);
  if (undo_enabled_) undo_.push_back({e, e->present, std::move(e->value)});
  e->present = true;
  e->value.assign(value);
}

void Staging::Delete(Table table, std::string_view key) {
  Entry* e = Touch(table, key, false);
  if (undo_enabled_) undo_.push_back({e, e->present, std::move(e->value)});
  e->present = false;
  e->value.clear();
}

void Staging::BeginUndo() {
  SYNOD_CHECK(!undo_enabled_);
  SYNOD_CHECK(undo_.empty());
  undo_enabled_ = true;
}

void Staging::EndUndo(bool rollback) {
  SYNOD_CHECK(undo_enabled_);
  while (rollback && !undo_.empty()) {
    Undo& u = undo_.back();
    u.entry->present = u.present;
    u.entry->value = std::move(u.value);
    undo_.pop_back();
  }
  undo_.clear();
  undo_enabled_ = false;
}

void Staging::Commit(TableWriteBatch* batch, RecordSum* sum) {
  // Key order (deterministic, like first-touch order) makes RocksDB's memtable inserts
  // sequential, which is several times cheaper than inserting at random positions.
  std::sort(order_.begin(), order_.end(),
            [](const std::string* a, const std::string* b) { return *a < *b; });
  for (const std::string* full_key : order_) {
    const Entry& e = entries_.at(*full_key);
    if (e.present == e.orig_present && e.value == e.orig) continue;
    Table table = static_cast<Table>((*full_key)[0]);
    std::string_view key = std::string_view(*full_key).substr(1);
    if (e.orig_present) sum->Remove(table, key, e.orig);
    if (e.present) {
      sum->Add(table, key, e.value);
      batch->Put(table, key, e.value);
    } else {
      batch->Delete(table, key);
    }
  }
  Clear();
}

void Staging::Clear() {
  entries_.clear();
  order_.clear();
  undo_.clear();
  undo_enabled_ = false;
  status_ = Status::Ok();
}

}  // namespace synod::ledger
