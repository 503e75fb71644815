#include "ledger/id_index.h"

#include "paxos/status.h"

namespace synod::ledger {

// Fibonacci hashing of both halves: sequential ids (the common client choice) spread evenly.
size_t IdIndex::Home(Id128 id) const {
  uint64_t x = uint64_t(id) ^ (uint64_t(id >> 64) * 0xC2B2AE3D27D4EB4Full);
  return size_t((x * 0x9E3779B97F4A7C15ull) >> shift_);
}

size_t IdIndex::Probe(Id128 id) const {
  const size_t mask = slots_.size() - 1;
  for (size_t s = Home(id);; s = (s + 1) & mask) {
    uint32_t p = slots_[s];
    if (p == 0 || ids_[p - 1] == id) return s;
  }
}

uint32_t IdIndex::Find(Id128 id) const {
  if (ids_.empty()) return kNone;
  uint32_t p = slots_[Probe(id)];
  return p == 0 ? kNone : p - 1;
}

uint32_t IdIndex::Insert(Id128 id) {
  bool inserted = false;
  uint32_t p = FindOrInsert(id, &inserted);
  SYNOD_CHECK(inserted);
  return p;
}

uint32_t IdIndex::FindOrInsert(Id128 id, bool* inserted) {
  SYNOD_CHECK(ids_.size() < kNone - 1);
  if (2 * (ids_.size() + 1) > slots_.size()) Grow();
  size_t s = Probe(id);
  *inserted = slots_[s] == 0;
  if (!*inserted) return slots_[s] - 1;
  ids_.push_back(id);
  slots_[s] = uint32_t(ids_.size());
  return uint32_t(ids_.size() - 1);
}

// Removes from the end, newest first (see the header for why emptying the slot is enough).
void IdIndex::Truncate(size_t n) {
  SYNOD_CHECK(n <= ids_.size());
  while (ids_.size() > n) {
    size_t s = Probe(ids_.back());
    SYNOD_CHECK(slots_[s] == ids_.size());
    slots_[s] = 0;
    ids_.pop_back();
  }
}

void IdIndex::Grow() {
  size_t size = slots_.empty() ? 1024 : 2 * slots_.size();
  slots_.assign(size, 0);
  shift_ = 64 - __builtin_ctzll(size);
  for (size_t p = 0; p < ids_.size(); ++p) {  // Insertion order (see the header).
    size_t s = Probe(ids_[p]);
    slots_[s] = uint32_t(p + 1);
  }
}

}  // namespace synod::ledger
