// LogStore: where a node's consensus state survives a crash.
//
// The core never touches a disk; it emits DurableWrite records in Ready::to_persist. A driver
// hands them to a LogStore, and only after Persist() returned ok may it send the Ready's
// messages. On restart the driver calls Recover() and builds the core from what it returns.
// Implementations: storage/ (RocksDB, synced WriteBatch) and src/sim (in memory; a crash drops
// nothing that was persisted, because Persist() is the only way in).
//
// Not thread-safe: one driver thread owns a LogStore.
#pragma once

#include <map>
#include <vector>

#include "paxos/status.h"
#include "paxos/types.h"

namespace synod {

// Everything a node persisted, as Recover() returns it.
struct RecoveredState {
  bool joined = false;                 // A kJoined record was persisted.
  Membership membership;               // The latest kJoined record.
  Ballot promised;                     // Highest promised ballot persisted (zero if none).
  std::map<Slot, PValue> accepted;     // Latest accepted pvalue per slot, slots >= compacted.
  std::map<Slot, BatchRef> decided;    // Decided log, slots >= compacted.
  Snapshot snapshot;                   // Latest snapshot (slot 0 and null data if none).
  std::vector<ClusterConfig> configs;  // The latest kConfig record (empty if none).
};

class LogStore {
 public:
  virtual ~LogStore() = default;

  // Applies `writes` in order as ONE atomic, synced write. Returns ok only once they are
  // durable. On error, none or all of them may be durable, and the caller must stop acting
  // as an acceptor (it may not report any of them to a peer).
  virtual Status Persist(const std::vector<DurableWrite>& writes) = 0;

  // Reads back what was persisted.
  virtual Result<RecoveredState> Recover() = 0;
};

}  // namespace synod
