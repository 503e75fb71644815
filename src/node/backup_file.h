// Backup files: one consistent snapshot of the ledger at one applied slot, as `synod backup`
// writes it and `synod restore` reads it. Little-endian; u64 as in paxos/wire_bytes.h:
//
//   backup        := header blob
//   header        := magic version slot state_hash blob_bytes blob_checksum header_checksum
//   magic         := "SYNODBAK"                      8 bytes
//   version       := u64                             kBackupFormatVersion (1)
//   slot          := u64                             the applied slot of the snapshot (>= 1)
//   state_hash    := 32 bytes                        lower-case hex, StateMachine::StateHash()
//   blob_bytes    := u64                             length of blob (<= kBackupBlobBytesMax)
//   blob_checksum := u64                             FNV-1a 64 (paxos/hash.h) of blob
//   header_checksum := u64                           FNV-1a 64 of the 72 header bytes before it
//   blob          := (u64 length, SnapshotChunk)*   the node's snapshot blob (node/ledger_app.h):
//                                                    the ledger's chunks in order, the last one
//                                                    carrying the slot and the state hash
//
// Readers check, in order: size, magic, version, header checksum, length, blob checksum; then
// (VerifyBackup) install the blob into in-memory tables and compare the slot and the state
// hash the ledger computes with the header's. Nothing here writes a data dir (node/restore.h).
// Stateless functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "paxos/status.h"
#include "paxos/types.h"

namespace synod::node {

inline constexpr char kBackupMagic[] = "SYNODBAK";
inline constexpr uint64_t kBackupFormatVersion = 1;
inline constexpr size_t kBackupHeaderBytes = 80;
// A backup holds one inline snapshot (storage keeps snapshots inline up to 64 MiB).
inline constexpr uint64_t kBackupBlobBytesMax = 64 << 20;

struct Backup {
  Slot slot = 0;
  std::string state_hash;  // 32 hex digits.
  std::string blob;
};

// The file's bytes. REQUIRES: slot >= 1, state_hash is 32 hex digits.
std::string EncodeBackup(const Backup& backup);
// Corruption naming the first check that failed; InvalidArgument for a newer version.
Result<Backup> DecodeBackup(std::string_view bytes);
// Loads the blob into in-memory ledger tables: Corruption unless it installs cleanly at
// `backup.slot` and the ledger's own state hash equals `backup.state_hash`.
Status VerifyBackup(const Backup& backup);
// The state hash of a snapshot blob at `slot`, computed by installing it in memory.
Result<std::string> SnapshotBlobHash(Slot slot, const std::string& blob);

// Writes `bytes` to `path` through a temp file in the same dir: written, fsynced, renamed,
// dir fsynced. An existing `path` is refused (AlreadyExists-like InvalidArgument).
Status WriteFileDurably(const std::string& path, const std::string& bytes);
// Reads a whole file of at most `max_bytes`.
Result<std::string> ReadWholeFile(const std::string& path, uint64_t max_bytes);

}  // namespace synod::node
