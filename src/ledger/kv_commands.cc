// StateMachine: the key-value map. Entries are cached in an ordered map (scans walk it) and
// written through to the kv table at the end of the batch. A key's version is the KV revision
// of its latest write: a global counter, so a version is never reused, even after a delete.
#include <algorithm>

#include "ledger/ledger_limits.h"
#include "ledger/results.h"
#include "ledger/state_machine.h"

namespace synod::ledger {
namespace {
using RC = fb::ResultCode;

RC CheckKey(std::string_view key) {
  if (key.empty()) return RC::key_must_not_be_empty;
  if (key.size() > limits::kKeyBytesMax) return RC::key_too_long;
  return RC::ok;
}
}  // namespace

void StateMachine::MarkKvDirty(const std::string& key) {
  if (kv_orig_.count(key) != 0) return;
  auto it = kv_.find(key);
  std::optional<KvEntry> orig;
  if (it != kv_.end()) orig = it->second;
  kv_orig_.emplace(key, std::move(orig));
  kv_order_.push_back(key);
}

void StateMachine::CommitKv(TableWriteBatch* batch) {
  std::sort(kv_order_.begin(), kv_order_.end());  // Sequential memtable inserts.
  for (const std::string& key : kv_order_) {
    const std::optional<KvEntry>& orig = kv_orig_.at(key);
    if (orig) record_sum_.Remove(Table::kKv, key, EncodeKvValue(orig->version, orig->value));
    auto it = kv_.find(key);
    if (it != kv_.end()) {
      std::string value = EncodeKvValue(it->second.version, it->second.value);
      record_sum_.Add(Table::kKv, key, value);
      batch->Put(Table::kKv, key, value);
    } else if (orig) {
      batch->Delete(Table::kKv, key);
    }
  }
  kv_orig_.clear();
  kv_order_.clear();
}

std::string StateMachine::KvPut(std::string_view key, std::string_view value) {
  if (RC code = CheckKey(key); code != RC::ok) return CodeResult(&fbb_, code);
  if (value.size() > limits::kValueBytesMax) return CodeResult(&fbb_, RC::value_too_long);
  std::string k(key);
  MarkKvDirty(k);
  KvEntry& e = kv_[k];
  e.version = ++kv_revision_;
  e.value.assign(value);
  return CodeResult(&fbb_, RC::ok, e.version);
}

std::string StateMachine::KvDelete(std::string_view key) {
  if (RC code = CheckKey(key); code != RC::ok) return CodeResult(&fbb_, code);
  auto it = kv_.find(key);
  if (it == kv_.end()) return CodeResult(&fbb_, RC::not_found);
  MarkKvDirty(it->first);
  kv_.erase(it);
  return CodeResult(&fbb_, RC::ok, ++kv_revision_);
}

std::string StateMachine::KvCas(std::string_view key, uint64_t expected_version,
                                std::string_view value) {
  if (RC code = CheckKey(key); code != RC::ok) return CodeResult(&fbb_, code);
  if (value.size() > limits::kValueBytesMax) return CodeResult(&fbb_, RC::value_too_long);
  auto it = kv_.find(key);
  uint64_t current = it == kv_.end() ? 0 : it->second.version;
  if (current != expected_version) return CodeResult(&fbb_, RC::version_mismatch, current);
  return KvPut(key, value);
}

std::string StateMachine::KvGet(std::string_view key) {
  if (RC code = CheckKey(key); code != RC::ok) return CodeResult(&fbb_, code);
  auto it = kv_.find(key);
  if (it == kv_.end()) return CodeResult(&fbb_, RC::not_found);
  fbb_.Clear();
  auto item = fb::CreateKvItem(fbb_, Bytes(&fbb_, it->first), Bytes(&fbb_, it->second.value),
                               it->second.version);
  auto items = fbb_.CreateVector(&item, 1);
  fb::CommandResultBuilder b(fbb_);
  b.add_code(RC::ok);
  b.add_version(it->second.version);
  b.add_items(items);
  return Finish(&fbb_, b.Finish());
}

// At most `limit` items and about limits::kScanBytesMax bytes (always at least one item), so
// that a result stays under limits::kResultBytesMax.
std::string StateMachine::KvScan(std::string_view prefix, uint32_t limit) {
  if (prefix.size() > limits::kKeyBytesMax) return CodeResult(&fbb_, RC::key_too_long);
  limit = limit == 0 ? limits::kScanItemsMax : std::min(limit, limits::kScanItemsMax);
  fbb_.Clear();
  std::vector<flatbuffers::Offset<fb::KvItem>> items;
  size_t bytes = 0;
  bool more = false;
  for (auto it = kv_.lower_bound(prefix); it != kv_.end() && it->first.starts_with(prefix); ++it) {
    size_t item_bytes = it->first.size() + it->second.value.size() + limits::kScanItemFramingBytes;
    if (items.size() == limit || (!items.empty() && bytes + item_bytes > limits::kScanBytesMax)) {
      more = true;
      break;
    }
    bytes += item_bytes;
    items.push_back(fb::CreateKvItem(fbb_, Bytes(&fbb_, it->first), Bytes(&fbb_, it->second.value),
                                     it->second.version));
  }
  auto vec = fbb_.CreateVector(items);
  fb::CommandResultBuilder b(fbb_);
  b.add_code(RC::ok);
  b.add_items(vec);
  b.add_more(more);
  return Finish(&fbb_, b.Finish());
}

}  // namespace synod::ledger
