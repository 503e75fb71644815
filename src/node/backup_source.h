// BackupSource: the node's side of `synod backup`. A client asks with SnapshotFetch messages
// (the same ones peers use for Welcome snapshots, but from the client endpoint):
//
//   {kBackupLatest, M}   "a backup of a state at applied slot >= M". Answer: the first chunk
//                        of the backup blob at slot S >= M ({S, 0, total, data}), or
//                        {kBackupLatest, 0, 0, ""} while one is being made (ask again). A new
//                        one is begun once this node has applied M. (The codec refuses slot 0,
//                        hence the all-ones sentinel, which no real slot reaches.)
//   {slot S, offset o}   the chunk at `o` of the backup at S; total 0 if it is gone (replaced).
//
// A backup is taken like the periodic snapshot (node.cc): a consistent view begun on the loop
// thread, read and encoded on another thread, so the loop never stalls. At most one is in the
// making and one kept (the newest), so memory is bounded by one snapshot; the kept one is
// dropped once no client asked for it for kBackupKeepSeconds.
//
// Owned by the node's loop thread; not thread-safe.
#pragma once

#include <chrono>
#include <future>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "node/ledger_app.h"
#include "node/metrics.h"
#include "paxos/message.h"

namespace synod::node {

inline constexpr Slot kBackupLatest = std::numeric_limits<Slot>::max();
inline constexpr int kBackupKeepSeconds = 60;

class BackupSource {
 public:
  BackupSource(NodeId self, LedgerApp* app, NodeMetrics* metrics)
      : self_(self), app_(app), metrics_(metrics) {}

  SnapshotChunkMsg OnFetch(const SnapshotFetchMsg& fetch);
  // Once per loop pass: collects a finished backup, begins a wanted one.
  Status Poll();

 private:
  SnapshotChunkMsg ChunkAt(uint64_t offset) const;

  const NodeId self_;
  LedgerApp* app_;
  NodeMetrics* metrics_;
  Slot wanted_ = 0;  // Highest slot a client asked for that the kept backup does not reach.
  struct Making {
    Slot slot = 0;
    std::future<Result<std::string>> blob;
    std::chrono::steady_clock::time_point started;
  };
  std::optional<Making> making_;
  Slot slot_ = 0;                                // Of the kept backup; 0: none.
  std::shared_ptr<const std::string> blob_;      // Invariant: non-null iff slot_ > 0.
  std::chrono::steady_clock::time_point asked_;  // Last fetch of any kind.
};

}  // namespace synod::node
