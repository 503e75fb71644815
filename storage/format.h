// The on-disk format of a Synod data dir, version 1: column family names, key encodings and the
// FlatBuffers records of schemas/storage.fbs, translated to and from the core's value types.
//
// storage/FORMAT.md gives the whole layout as a grammar. In short:
//   meta      "node"                  -> NodeMeta
//   acceptor  0x01                    -> PromiseRecord
//             0x02                    -> JoinedRecord
//             0x03                    -> ConfigRecord
//             0x10 slot:be64          -> AcceptedRecord
//   decided   slot:be64               -> DecidedRecord
//   snapshot  0x01                    -> SnapshotRecord
//             0x02 slot:be64          -> raw snapshot bytes
// Slots are big-endian so that RocksDB's bytewise order is slot order.
//
// Pure functions, no I/O; thread-safe. Decoders never trust their input: every value goes
// through the FlatBuffers verifier and a meaning check, and bad bytes come back as a Corruption
// status that names the record, never as a crash. Encoders SYNOD_CHECK the limits that the
// decoders enforce, so what we write we can always read back.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "paxos/hash.h"
#include "paxos/status.h"
#include "paxos/types.h"
#include "storage/ledger/ledger_column_families.h"

namespace synod::storage {

// The layout version this build writes and the newest it reads.
inline constexpr uint32_t kFormatVersion = 1;

// Column families of the consensus layer (RocksDB's "default" is opened too and left empty).
inline constexpr std::string_view kMetaFamily = "meta";
inline constexpr std::string_view kAcceptorFamily = "acceptor";
inline constexpr std::string_view kDecidedFamily = "decided";
inline constexpr std::string_view kSnapshotFamily = "snapshot";
// Column families of the ledger state machine (named in storage/ledger), opened in the same
// database so that applying a batch and advancing applied_slot share one WriteBatch.
inline constexpr std::string_view kLedgerMetaFamily = ledger::kCfLedgerMeta;

// Every family of format version 1, "default" first (RocksDB requires it).
inline constexpr std::array<std::string_view, 10> kAllFamilies = {"default",
                                                                  kMetaFamily,
                                                                  kAcceptorFamily,
                                                                  kDecidedFamily,
                                                                  kSnapshotFamily,
                                                                  ledger::kLedgerColumnFamilies[0],
                                                                  ledger::kLedgerColumnFamilies[1],
                                                                  ledger::kLedgerColumnFamilies[2],
                                                                  ledger::kLedgerColumnFamilies[3],
                                                                  ledger::kLedgerColumnFamilies[4]};

// The identity of a data dir (table NodeMeta).
struct NodeMeta {
  uint32_t format_version = 0;
  uint64_t cluster_id = 0;
  NodeId node_id = 0;
  uint64_t created_at_unix_ns = 0;
  uint64_t incarnation = 0;  // Random, non-zero at creation; 0 in older data dirs.
};

// The bookkeeping of the current snapshot (table SnapshotRecord, storage Inline).
struct SnapshotInfo {
  Slot slot = 0;
  std::string data_key;  // Key of the raw bytes in the "snapshot" family.
  uint64_t size_bytes = 0;
  uint64_t data_hash = 0;  // Fnv1a64 of the bytes.
  uint64_t created_at_unix_ns = 0;
};

// --- Keys -------------------------------------------------------------------------------------
std::string NodeMetaKey();
std::string PromiseKey();
std::string JoinedKey();
std::string ConfigKey();
std::string AcceptedKey(Slot slot);
std::string DecidedKey(Slot slot);
std::string SnapshotRecordKey();
std::string SnapshotDataKey(Slot slot);
// First key of the accepted records (AcceptedKey(0)) and the end of the tag's key range.
std::string AcceptedKeyBegin();
std::string AcceptedKeyEnd();
// True if `key` is an accepted-record key (tag 0x10); the slot is checked by DecodeAccepted.
bool IsAcceptedKey(std::string_view key);

// --- Records ----------------------------------------------------------------------------------
std::string EncodeNodeMeta(const NodeMeta& meta);
std::string EncodeJoined(const Membership& membership);
// REQUIRES: CheckConfigHistory(configs) ok and !configs.empty().
std::string EncodeConfigs(const std::vector<ClusterConfig>& configs);
std::string EncodePromise(const Ballot& ballot);
// REQUIRES: pvalue.slot >= 1, pvalue.batch != nullptr, batch within limits.h.
std::string EncodeAccepted(const PValue& pvalue);
// REQUIRES: slot >= 1, batch within limits.h.
std::string EncodeDecided(Slot slot, const Batch& batch);
std::string EncodeSnapshotRecord(const SnapshotInfo& info);

// Decoders. REQUIRES: `value` starts 8-byte aligned (a std::string's buffer is); the verifier
// rejects a misaligned buffer as corrupt rather than reading unaligned scalars.
Result<NodeMeta> DecodeNodeMeta(std::string_view value);
Result<Membership> DecodeJoined(std::string_view value);
// Corruption unless the history passes CheckConfigHistory and is not empty.
Result<std::vector<ClusterConfig>> DecodeConfigs(std::string_view value);
Result<Ballot> DecodePromise(std::string_view value);
Result<PValue> DecodeAccepted(std::string_view key, std::string_view value);
Result<Decision> DecodeDecided(std::string_view key, std::string_view value);
Result<SnapshotInfo> DecodeSnapshotRecord(std::string_view value);

// FNV-1a, 64 bits: the snapshot bytes' hash in SnapshotRecord.data_hash.

// Hex of a key, for error messages ("acceptor key 10000000000000002a").
std::string HexKey(std::string_view key);

}  // namespace synod::storage
