#include "storage/retention.h"

#include "paxos/check.h"

namespace synod::storage {

RetentionPolicy::RetentionPolicy(uint64_t retention_slots) : retention_slots_(retention_slots) {
  SYNOD_CHECK(retention_slots_ >= 1);
}

Slot RetentionPolicy::KeepFrom(Slot snapshot_slot) const {
  if (snapshot_slot < retention_slots_) return 1;
  const Slot keep_from = snapshot_slot - retention_slots_ + 1;
  SYNOD_CHECK(keep_from >= 1);
  SYNOD_CHECK(keep_from <= snapshot_slot);  // The snapshot's own slot is always kept.
  return keep_from;
}

std::optional<DurableWrite> RetentionPolicy::CompactionFor(Slot snapshot_slot) const {
  const Slot keep_from = KeepFrom(snapshot_slot);
  if (keep_from <= 1) return std::nullopt;
  DurableWrite compact;
  compact.kind = DurableWrite::Kind::kCompact;
  compact.slot = keep_from;
  return compact;
}

}  // namespace synod::storage
