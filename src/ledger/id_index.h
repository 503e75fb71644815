// IdIndex: an insertion-ordered set of 128-bit ids, each numbered by its position (0, 1, 2, ...
// in insertion order), with O(1) lookup. The state machine keeps its per-batch working sets in
// it (transfers created in the batch, accounts touched by the batch) and holds the values in
// its own vectors at the same positions, so a batch costs no heap allocation per event.
//
// Open addressing with linear probing over a power-of-two table of positions. Entries are only
// removed from the end (Truncate: a linked chain rolled back) or all at once (Clear), which is
// why removal can simply empty a slot: an id inserted earlier never probed past a slot that
// was empty when it was inserted, and every id inserted later is already gone. Rehashing
// re-inserts in insertion order to keep that property.
//
// Memory: 16 bytes per id plus 4 bytes per slot, at least two slots per id, kept at the high-water
// mark of one batch. Lookup order never affects what the caller computes: positions follow
// insertion order, which is the deterministic order of the batch. Not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "ledger/records.h"

namespace synod::ledger {

class IdIndex {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // Position of `id`, or kNone.
  uint32_t Find(Id128 id) const;
  // Adds `id` and returns its position (size() before the call). REQUIRES: Find(id) == kNone.
  uint32_t Insert(Id128 id);
  // Position of `id`, added first if absent (*inserted says which).
  uint32_t FindOrInsert(Id128 id, bool* inserted);
  // Removes the ids at positions >= n. REQUIRES: n <= size().
  void Truncate(size_t n);
  void Clear() { Truncate(0); }

  size_t size() const { return ids_.size(); }
  Id128 id(uint32_t position) const { return ids_[position]; }
  const std::vector<Id128>& ids() const { return ids_; }  // In insertion order.

 private:
  size_t Home(Id128 id) const;
  // Slot of `id`, or of the empty slot where it would go.
  size_t Probe(Id128 id) const;
  void Grow();

  std::vector<Id128> ids_;
  // 0: empty; else position + 1. Invariant: size is 0 or a power of two >= 2 * ids_.size().
  std::vector<uint32_t> slots_;
  int shift_ = 64;  // 64 - log2(slots_.size()).
};

}  // namespace synod::ledger
