#include "ledger/state_hash.h"

#include <algorithm>
#include <cstring>

namespace synod::ledger {
namespace {

constexpr uint64_t kSeed0 = 0x5EED0000A11CE001ull;
constexpr uint64_t kSeed1 = 0x5EED0000B0B00002ull;

inline uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  return x;
}

inline uint64_t LoadLe(const char* p, size_t n) {
  if (n == 8) return GetU64Le(p);
  uint64_t w = 0;
  for (size_t i = 0; i < n; ++i) w |= uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return w;
}

// Both lanes in one pass over the words of the key, then of the value (see the header).
Hash128 RecordHash(Table table, std::string_view key, std::string_view value) {
  const uint64_t t = static_cast<uint64_t>(table);
  const uint64_t lengths = (uint64_t(key.size()) << 32) ^ uint64_t(value.size());
  uint64_t h0 = Mix((kSeed0 + t) ^ lengths);
  uint64_t h1 = Mix((kSeed1 + t) ^ lengths);
  for (std::string_view part : {key, value}) {
    const char* p = part.data();
    size_t n = part.size();
    for (; n > 0; p += std::min<size_t>(n, 8), n -= std::min<size_t>(n, 8)) {
      const uint64_t w = LoadLe(p, std::min<size_t>(n, 8));
      h0 = Mix(h0 ^ w);
      h1 = Mix(h1 ^ w);
    }
  }
  return Hash128{Mix(h0), Mix(h1)};
}

}  // namespace

uint64_t Hash64(uint64_t seed, std::string_view bytes) {
  uint64_t h = Mix(seed ^ ((uint64_t(bytes.size()) + 1) * 0x9E3779B97F4A7C15ull));
  const char* p = bytes.data();
  size_t n = bytes.size();
  for (; n >= 8; p += 8, n -= 8) h = Mix(h ^ LoadLe(p, 8));
  if (n > 0) h = Mix(h ^ LoadLe(p, n));
  return Mix(h);
}

std::string Hash128::ToHex() const {
  static const char* kDigits = "0123456789abcdef";
  std::string s(32, '0');
  for (int i = 0; i < 16; ++i) {
    s[15 - i] = kDigits[(hi >> (4 * i)) & 0xf];
    s[31 - i] = kDigits[(lo >> (4 * i)) & 0xf];
  }
  return s;
}

void RecordSum::Add(Table table, std::string_view key, std::string_view value) {
  Hash128 h = RecordHash(table, key, value);
  sum_.lo += h.lo;
  sum_.hi += h.hi;
}

void RecordSum::Remove(Table table, std::string_view key, std::string_view value) {
  Hash128 h = RecordHash(table, key, value);
  sum_.lo -= h.lo;
  sum_.hi -= h.hi;
}

std::string RecordSum::Encode() const {
  std::string s;
  PutU64Le(&s, sum_.lo);
  PutU64Le(&s, sum_.hi);
  return s;
}

bool RecordSum::Decode(std::string_view bytes) {
  if (bytes.size() != 16) return false;
  sum_ = Hash128{GetU64Le(bytes.data()), GetU64Le(bytes.data() + 8)};
  return true;
}

}  // namespace synod::ledger
