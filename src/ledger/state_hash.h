// The state hash: a 128-bit digest of the whole ledger state, equal on two replicas exactly
// when their states are equal (up to the chance of a 128-bit collision, ~2^-64 per lane).
//
// Hash function (stable across builds and machines; std::hash is not): Hash64(seed, bytes)
//   h := Mix(seed ^ ((len + 1) * 0x9E3779B97F4A7C15))   (mod 2^64; len in bytes)
//   for each 8-byte little-endian word w of bytes (the last one zero-padded): h := Mix(h ^ w)
//   result := Mix(h)
// where Mix is the splitmix64 finalizer (x ^= x>>30; x *= 0xBF58476D1CE4E5B9; x ^= x>>27;
// x *= 0x94D049BB133111EB; x ^= x>>31).
// A record (table t, key k, value v) hashes, per lane i in {0, 1}, to RecordHash_i:
//   h := Mix((kSeed_i + t) ^ ((len(k) << 32) ^ len(v)))   (lengths in bytes; both < 2^32)
//   for each 8-byte little-endian word w of k (the last one zero-padded), then each such word
//   of v: h := Mix(h ^ w)
//   RecordHash_i := Mix(h)
// with kSeed_0 = 0x5EED0000A11CE001 and kSeed_1 = 0x5EED0000B0B00002. The lengths make the
// word sequence name exactly one (k, v). Both lanes are computed in the same pass (format
// version 2 of this hash; version 1 was Hash64(Hash64(kSeed_i + t, k), v), two passes a lane).
// RecordSum is the lane-wise sum modulo 2^64 of RecordHash over every record of the kv,
// accounts, transfers and account_transfers tables: order-independent, so it is maintained
// incrementally (add a record's hash when it appears, subtract it when it goes) and costs O(1)
// per write. StateHash then mixes RecordSum with the meta counters and the session table.
// Not a cryptographic hash: it finds divergence, it does not resist an adversary.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ledger/records.h"

namespace synod::ledger {

uint64_t Hash64(uint64_t seed, std::string_view bytes);

struct Hash128 {
  uint64_t lo = 0;
  uint64_t hi = 0;
  std::string ToHex() const;  // 32 hex digits, hi first.
  friend bool operator==(const Hash128&, const Hash128&) = default;
};

// The incremental, order-independent sum of record hashes.
class RecordSum {
 public:
  void Add(Table table, std::string_view key, std::string_view value);
  void Remove(Table table, std::string_view key, std::string_view value);
  Hash128 sum() const { return sum_; }
  void Set(Hash128 sum) { sum_ = sum; }
  std::string Encode() const;  // u64le lo, u64le hi.
  bool Decode(std::string_view bytes);

 private:
  Hash128 sum_;
};

}  // namespace synod::ledger
