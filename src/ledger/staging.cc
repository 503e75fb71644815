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
  return GetStored(table, key, found);
}

std::string_view Staging::GetStored(Table table, std::string_view key, bool* found) {
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

void Staging::AddTransfer(const Transfer& t) {
  const uint32_t position = new_ids_.Insert(t.id);
  SYNOD_CHECK(position == new_transfers_.size());
  new_transfers_.push_back(t);
  index_entries_.push_back({t.debit, t.seq, t.id});
  index_entries_.push_back({t.credit, t.seq, t.id});
}

const Transfer* Staging::FindNewTransfer(Id128 id) const {
  uint32_t p = new_ids_.Find(id);
  return p == IdIndex::kNone ? nullptr : &new_transfers_[p];
}

void Staging::BeginUndo() {
  SYNOD_CHECK(!undo_enabled_);
  SYNOD_CHECK(undo_.empty());
  undo_enabled_ = true;
  undo_transfers_ = new_transfers_.size();
  undo_index_entries_ = index_entries_.size();
}

void Staging::EndUndo(bool rollback) {
  SYNOD_CHECK(undo_enabled_);
  if (rollback) {
    new_ids_.Truncate(undo_transfers_);
    new_transfers_.resize(undo_transfers_);
    index_entries_.resize(undo_index_entries_);
  }
  while (rollback && !undo_.empty()) {
    Undo& u = undo_.back();
    u.entry->present = u.present;
    u.entry->value = std::move(u.value);
    undo_.pop_back();
  }
  undo_.clear();
  undo_enabled_ = false;
}

// New transfers and index rows in key order: 'T' u128be id, and (account, ~seq).
void Staging::CommitTransfers(TableWriteBatch* batch, RecordSum* sum) {
  std::vector<uint32_t> order(new_transfers_.size());
  for (uint32_t p = 0; p < order.size(); ++p) order[p] = p;
  auto by_id = [&](uint32_t a, uint32_t b) { return new_transfers_[a].id < new_transfers_[b].id; };
  // Clients that take increasing ids (the common choice) stage them sorted already.
  if (!std::is_sorted(order.begin(), order.end(), by_id))
    std::sort(order.begin(), order.end(), by_id);
  char key[kTransferKeyBytes];
  char value[kTransferValueBytes];
  for (uint32_t p : order) {
    TransferKeyTo(new_transfers_[p].id, key);
    EncodeTransferTo(new_transfers_[p], value);
    sum->Add(Table::kTransfers, {key, sizeof key}, {value, sizeof value});
    batch->Put(Table::kTransfers, {key, sizeof key}, {value, sizeof value});
  }
  std::sort(index_entries_.begin(), index_entries_.end(),
            [](const IndexEntry& a, const IndexEntry& b) {
              return a.account != b.account ? a.account < b.account : a.seq > b.seq;
            });
  char row_key[kAccountTransferKeyBytes];
  char row_value[16];
  for (const IndexEntry& e : index_entries_) {
    AccountTransferKeyTo(e.account, e.seq, row_key);
    StoreId(row_value, e.transfer);
    sum->Add(Table::kAccountTransfers, {row_key, sizeof row_key}, {row_value, sizeof row_value});
    batch->Put(Table::kAccountTransfers, {row_key, sizeof row_key}, {row_value, sizeof row_value});
  }
}

void Staging::Commit(TableWriteBatch* batch, RecordSum* sum) {
  CommitTransfers(batch, sum);
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
  new_ids_.Clear();
  new_transfers_.clear();
  index_entries_.clear();
  entries_.clear();
  order_.clear();
  undo_.clear();
  undo_enabled_ = false;
  status_ = Status::Ok();
}

}  // namespace synod::ledger
