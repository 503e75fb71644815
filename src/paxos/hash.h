// Stable 64-bit hashing for digests that must agree across nodes, builds and platforms
// (std::hash guarantees neither): FNV-1a, and the SplitMix64 finalizer to spread a value.
#pragma once

#include <cstdint>
#include <string_view>

namespace synod {

inline constexpr uint64_t kFnvOffsetBasis = 14695981039346656037ull;
inline constexpr uint64_t kFnvPrime = 1099511628211ull;

inline uint64_t Fnv1a64(std::string_view bytes, uint64_t h = kFnvOffsetBasis) {
  for (char c : bytes) h = (h ^ static_cast<uint8_t>(c)) * kFnvPrime;
  return h;
}

// FNV-1a over the 8 little-endian bytes of `v`.
inline uint64_t Fnv1a64Word(uint64_t h, uint64_t v) {
  for (int i = 0; i < 8; ++i) h = (h ^ ((v >> (8 * i)) & 0xff)) * kFnvPrime;
  return h;
}

// SplitMix64's finalizer: a bijection that spreads every input bit over the output.
inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace synod
