// Every limit of the system in one place (TigerBeetle style: a bound on everything).
// Changing one of these changes what a node accepts from the network or from disk.
#pragma once

#include <cstddef>
#include <cstdint>

namespace synod::limits {

inline constexpr size_t kNodesMax = 7;                 // Cluster members.
inline constexpr size_t kCommandsPerBatchMax = 8190;   // TigerBeetle's batch size.
inline constexpr size_t kPayloadBytesMax = 96 * 1024;  // One command (a 64 KiB KV value + key).
inline constexpr size_t kBatchBytesMax = 8 * 1024 * 1024;
inline constexpr size_t kWindowMax = 64;                    // Slots in flight per leader.
inline constexpr size_t kDecisionsPerMessageMax = 64;       // Catch-up reply size.
inline constexpr size_t kProposeQueueMax = 65536;           // Commands queued at a leader.
inline constexpr size_t kPendingRequestsMax = 65536;        // Commands a replica tracks for retry.
inline constexpr size_t kSessionsMax = 100000;              // Client sessions in the session table.
inline constexpr size_t kSessionResultsMax = 4096;          // Remembered results per session.
inline constexpr size_t kResultBytesMax = 96 * 1024;        // One command's result.
inline constexpr size_t kFrameBytesMax = 16 * 1024 * 1024;  // One wire frame.
inline constexpr size_t kSnapshotChunkBytes = 1024 * 1024;  // One SnapshotChunk's data.

static_assert(kCommandsPerBatchMax * 16 < kBatchBytesMax);
static_assert(kPayloadBytesMax <= kBatchBytesMax);
static_assert(kBatchBytesMax < kFrameBytesMax);

}  // namespace synod::limits
