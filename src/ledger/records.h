// The ledger's records: in-memory value types and their byte layout in the tables.
//
// Grammar of every table (format version 1). All integers are fixed width; keys use big-endian
// so that byte order is numeric order, values use little-endian.
//   u128be := 16 bytes big-endian        u64be := 8 bytes big-endian
//   kv                key := user key (1..1024 bytes)
//                     value := u64le version, then the value bytes
//   accounts          key := u128be id
//                     value := u32le ledger, u16le code, u16le flags, u64le debits_posted,
//                              credits_posted, debits_pending, credits_pending, timestamp_ns
//   transfers         key := 'T' u128be id      value := transfer (see EncodeTransfer)
//                     key := 'P' u128be id      value := u8 PendingState, u64le expires_at_ns
//                     key := 'E' u64be expires_at_ns u128be id      value := empty
//   account_transfers key := u128be account_id, u64be (2^64-1 - seq)  value := u128be id
//                     (so a forward scan of one account's prefix is most recent first)
//   meta              key := one of the kMeta* names below    value := u64le or bytes
//                     key := "sess_ckpt/" u64be part    value := a part of SessionTable::Encode()
//                     key := "sess_log/" u64be slot u64be part
//                     value := { u64le client_id, u64le request_id, u64le n, n bytes result }*
//                              (results recorded in that slot, in command order; a part is
//                              cut after it reaches kSessionCheckpointPartBytes)
// Plain values; no I/O; thread-compatible.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "schemas/ledger_generated.h"

namespace synod::ledger {

using Id128 = unsigned __int128;

enum class Table : uint8_t {
  kKv = 0,
  kAccounts = 1,
  kTransfers = 2,
  kAccountTransfers = 3,
  kMeta = 4
};
inline constexpr size_t kTableCount = 5;
const char* TableName(Table table);

inline Id128 ToId(const fb::U128& v) { return (Id128(v.hi()) << 64) | v.lo(); }
inline fb::U128 FromId(Id128 id) { return fb::U128(uint64_t(id), uint64_t(id >> 64)); }
std::string IdToString(Id128 id);  // Decimal.

// Flag bits as plain integers (schemas/ledger.fbs).
inline constexpr uint16_t kLinked = uint16_t(fb::TransferFlags::linked);
inline constexpr uint16_t kPending = uint16_t(fb::TransferFlags::pending);
inline constexpr uint16_t kPost = uint16_t(fb::TransferFlags::post_pending);
inline constexpr uint16_t kVoid = uint16_t(fb::TransferFlags::void_pending);
inline constexpr uint16_t kDebitsLimited =
    uint16_t(fb::AccountFlags::debits_must_not_exceed_credits);
inline constexpr uint16_t kCreditsLimited =
    uint16_t(fb::AccountFlags::credits_must_not_exceed_debits);

struct Account {
  Id128 id = 0;
  uint32_t ledger = 0;
  uint16_t code = 0;
  uint16_t flags = 0;
  uint64_t debits_posted = 0;
  uint64_t credits_posted = 0;
  uint64_t debits_pending = 0;
  uint64_t credits_pending = 0;
  uint64_t timestamp_ns = 0;
};
inline constexpr size_t kAccountValueBytes = 48;

struct Transfer {
  Id128 id = 0;
  Id128 debit = 0;
  Id128 credit = 0;
  Id128 pending_id = 0;
  uint64_t amount = 0;
  uint64_t timeout_ns = 0;
  uint64_t timestamp_ns = 0;
  uint64_t seq = 0;  // Position among all transfers, 1, 2, 3, ...
  uint32_t ledger = 0;
  uint16_t code = 0;
  uint16_t flags = 0;
};
inline constexpr size_t kTransferValueBytes = 4 * 16 + 4 * 8 + 8;

struct PendingStatus {
  fb::PendingState state = fb::PendingState::none;
  uint64_t expires_at_ns = 0;  // 0: never expires.
};

// Meta keys.
inline constexpr std::string_view kMetaAppliedSlot = "applied_slot";
inline constexpr std::string_view kMetaKvRevision = "kv_revision";
inline constexpr std::string_view kMetaTransferSeq = "transfer_seq";
inline constexpr std::string_view kMetaClusterTime = "cluster_time_ns";
inline constexpr std::string_view kMetaRecordHash = "record_hash";  // u64le lane0, lane1.
inline constexpr std::string_view kMetaSessionParts = "sess_ckpt_parts";
inline constexpr std::string_view kMetaSessionPartPrefix = "sess_ckpt/";  // + u64be part.
inline constexpr std::string_view kMetaSessionLogPrefix = "sess_log/";    // + slot, part.

// Fixed-width stores into a caller's buffer (the Put* functions append to a string) and
// loads; the byte order is the one named, whatever the host's. Inline: they are on the path
// of every record of every batch.
inline void StoreU64Le(char* out, uint64_t v) {
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  std::memcpy(out, &v, 8);
}
inline void StoreU64Be(char* out, uint64_t v) {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  std::memcpy(out, &v, 8);
}
inline uint64_t GetU64Le(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}
inline uint64_t GetU64Be(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}
inline void StoreId(char* out, Id128 id) {  // u128be.
  StoreU64Be(out, uint64_t(id >> 64));
  StoreU64Be(out + 8, uint64_t(id));
}
void PutU64Le(std::string* out, uint64_t v);
void PutU64Be(std::string* out, uint64_t v);
void PutId(std::string* out, Id128 id);  // u128be.
Id128 GetId(const char* p);
std::string U64Value(uint64_t v);
// Decodes an 8-byte u64le value; false if the size is wrong.
bool ParseU64Value(std::string_view bytes, uint64_t* v);

// Key and value sizes of the fixed-size records, for the *To encoders that write into a
// caller's buffer of exactly that size (no allocation on the apply path).
inline constexpr size_t kAccountKeyBytes = 16;
inline constexpr size_t kTransferKeyBytes = 17;
inline constexpr size_t kAccountTransferKeyBytes = 24;

std::string AccountKey(Id128 id);
std::string EncodeAccount(const Account& a);
void EncodeAccountTo(const Account& a, char out[kAccountValueBytes]);
bool DecodeAccount(std::string_view key, std::string_view value, Account* a);

std::string TransferKey(Id128 id);
std::string PendingKey(Id128 id);
std::string ExpiryKey(uint64_t expires_at_ns, Id128 id);
std::string AccountTransferKey(Id128 account, uint64_t seq);
void TransferKeyTo(Id128 id, char out[kTransferKeyBytes]);
void AccountTransferKeyTo(Id128 account, uint64_t seq, char out[kAccountTransferKeyBytes]);
std::string EncodeTransfer(const Transfer& t);
void EncodeTransferTo(const Transfer& t, char out[kTransferValueBytes]);
bool DecodeTransfer(std::string_view value, Transfer* t);
std::string EncodePending(const PendingStatus& p);
bool DecodePending(std::string_view value, PendingStatus* p);

std::string EncodeKvValue(uint64_t version, std::string_view value);
bool DecodeKvValue(std::string_view stored, uint64_t* version, std::string_view* value);

}  // namespace synod::ledger
