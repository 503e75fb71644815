// Every limit of the system in one place (TigerBeetle style: a bound on everything).
// Changing one of these changes what a node accepts from the network or from disk.
#pragma once

#include <cstddef>
#include <cstdint>

namespace synod::limits {

inline constexpr size_t kNodesMax = 7;                // Cluster members.
inline constexpr size_t kCommandsPerBatchMax = 8190;  // TigerBeetle's batch size.
// One command: 8,190 transfer events of 88 bytes plus FlatBuffers framing, or a 64 KiB value.
inline constexpr size_t kPayloadBytesMax = 1024 * 1024;
inline constexpr size_t kBatchBytesMax = 8 * 1024 * 1024;
inline constexpr size_t kWindowMax = 64;               // Slots in flight per leader.
inline constexpr size_t kDecisionsPerMessageMax = 64;  // Catch-up reply size.
// A Promise carries at most this many pvalues, and (beyond its first) batches of at most
// kBatchBytesMax payload bytes in all; the rest follows in further pages (Scout).
inline constexpr size_t kPromiseValuesPerPageMax = 1024;
inline constexpr size_t kProposeQueueMax = 65536;           // Commands queued at a leader.
inline constexpr size_t kPendingRequestsMax = 65536;        // Commands a replica tracks for retry.
inline constexpr size_t kSessionsMax = 100000;              // Client sessions in the session table.
inline constexpr size_t kSessionResultsMax = 4096;          // Remembered results per session.
inline constexpr size_t kResultBytesMax = 96 * 1024;        // One command's result.
inline constexpr size_t kFrameBytesMax = 16 * 1024 * 1024;  // One wire frame.
// Coalescing (wire.fbs Envelope.more): envelopes in one frame, and the payload and result
// bytes a sender packs into one before it starts the next (far below kFrameBytesMax, which
// also has to hold the framing of kEnvelopesPerFrameMax envelopes and one oversized item).
inline constexpr size_t kEnvelopesPerFrameMax = 4096;
inline constexpr size_t kCoalescedBytesMax = 4 * 1024 * 1024;
inline constexpr size_t kSnapshotChunkBytes = 1024 * 1024;  // One SnapshotChunk's data.
// A configuration history (Core, "Membership") as it travels in a Welcome or lies on disk:
// the governing configuration plus the pending ones. A change governs from its slot + 64
// (kConfigDelaySlots), changes of one slot merge, and the core prunes the configurations no
// slot uses any more, so an honest history holds at most 65.
inline constexpr size_t kConfigHistoryMax = 128;
inline constexpr size_t kAddressBytesMax = 255;  // HOST:PORT of one member.
// How far past a node's decided slot a peer's message may name a slot: 2^48 slots is 89 years
// at 100,000 slots/s, so no honest peer gets there, and slot + window never overflows.
inline constexpr uint64_t kSlotsAheadMax = uint64_t{1} << 48;

static_assert(kCommandsPerBatchMax * 16 < kBatchBytesMax);
static_assert(kPayloadBytesMax <= kBatchBytesMax);
static_assert(kBatchBytesMax < kFrameBytesMax);
static_assert(kCoalescedBytesMax + kPayloadBytesMax + kEnvelopesPerFrameMax * 256 < kFrameBytesMax);

}  // namespace synod::limits
