// Limits of the ledger state machine. They belong with the others in src/paxos/limits.h; they
// live here until the owner of that shared file moves them (see the ledger README section).
// Changing one of these changes what a node accepts: every replica must use the same values.
#pragma once

#include <cstddef>
#include <cstdint>

#include "paxos/limits.h"

namespace synod::ledger::limits {

inline constexpr size_t kKeyBytesMax = 1024;               // KV key (issue 4).
inline constexpr size_t kValueBytesMax = 64 * 1024;        // KV value (issue 4).
inline constexpr size_t kEventsPerCommandMax = 8190;       // Accounts/transfers/ids per command.
inline constexpr uint32_t kScanItemsMax = 1000;            // KV scan, and its default limit.
inline constexpr size_t kScanBytesMax = 48 * 1024;         // Scan result: keys + values + framing.
inline constexpr size_t kScanItemFramingBytes = 32;        // Counted per item against the above.
inline constexpr uint32_t kAccountTransfersMax = 500;      // Account-transfer lookup limit.
inline constexpr size_t kLookupIdsMax = 500;               // Ids in one account/transfer lookup.
inline constexpr size_t kSnapshotChunkBytesMax = 1 << 20;  // One snapshot chunk.
inline constexpr size_t kSessionCheckpointPartBytes = 256 * 1024;  // One stored part.
inline constexpr size_t kSessionLogBytesMin = 1 << 20;  // Log before a session checkpoint.

// A scan result holds at most kScanBytesMax, or one item if that item alone is larger; either
// fits one result. A get result holds one item.
static_assert(kScanBytesMax + 1024 <= synod::limits::kResultBytesMax);
static_assert(kKeyBytesMax + kValueBytesMax + 1024 <= synod::limits::kResultBytesMax);
// One KV record (and so one snapshot record) fits a chunk with room for framing.
static_assert(kKeyBytesMax + kValueBytesMax + 64 < kSnapshotChunkBytesMax / 4);
static_assert(kSessionCheckpointPartBytes + 64 < kSnapshotChunkBytesMax / 2);
// A transfer record is ~100 bytes in a result: a full account-transfer page fits a result.
static_assert(kAccountTransfersMax * 128 <= synod::limits::kResultBytesMax);
static_assert(kLookupIdsMax * 128 <= synod::limits::kResultBytesMax);

}  // namespace synod::ledger::limits
