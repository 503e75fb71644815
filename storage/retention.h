// RetentionPolicy: how much decided log a node keeps below its latest durable snapshot, and the
// kCompact record that enforces it. The node layer calls it after a snapshot became durable.
//
// Why a margin: a replica that lags by a few slots catches up by asking peers for the
// decisions it missed (Decision messages, limits::kDecisionsPerMessageMax per reply). If the
// peers had deleted everything below their snapshot, every short lag would cost a full
// snapshot transfer. Keeping `retention_slots` slots at and below the snapshot lets a node
// that is at most that far behind the snapshot catch up from the log; one further behind gets
// the snapshot (Welcome). Disk stays bounded: at most retention_slots records at or below the
// snapshot, plus the slots above it (bounded by the snapshot interval and the window).
//
// Usage (node layer, after the snapshot at slot s is durable, i.e. persisted in an earlier
// call or earlier in the same to_persist list):
//     if (auto compact = policy.CompactionFor(s)) ready.to_persist.push_back(*compact);
//
// A value type: copyable, immutable, thread-safe.
#pragma once

#include <cstdint>
#include <optional>

#include "paxos/types.h"

namespace synod::storage {

class RetentionPolicy {
 public:
  // REQUIRES: retention_slots >= 1 (the snapshot's own slot is always kept).
  explicit RetentionPolicy(uint64_t retention_slots);

  uint64_t retention_slots() const { return retention_slots_; }

  // The lowest slot kept when the latest durable snapshot is at `snapshot_slot`: the
  // retention_slots slots snapshot_slot - retention_slots + 1 .. snapshot_slot stay, and
  // everything below goes. 1 (nothing deleted) while the log is shorter than the margin.
  Slot KeepFrom(Slot snapshot_slot) const;

  // The kCompact record for a durable snapshot at `snapshot_slot`, or nothing when nothing
  // would be deleted.
  std::optional<DurableWrite> CompactionFor(Slot snapshot_slot) const;

 private:
  uint64_t retention_slots_;  // Invariant: >= 1.
};

}  // namespace synod::storage
