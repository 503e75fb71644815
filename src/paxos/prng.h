// Prng: a small seeded generator (SplitMix64) for the core's randomized backoff and the
// simulator. Deterministic for a seed; never seeded from a clock inside the core.
#pragma once

#include <cstdint>

#include "paxos/check.h"
#include "paxos/hash.h"

namespace synod {

class Prng {
 public:
  explicit Prng(uint64_t seed) : state_(seed) {}
  uint64_t Next() { return Mix64(state_ += 0x9e3779b97f4a7c15ULL); }
  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  uint64_t Range(uint64_t lo, uint64_t hi) {
    SYNOD_CHECK(lo <= hi);
    return lo + Next() % (hi - lo + 1);
  }
  // True with probability p.
  bool Chance(double p) { return p > 0 && (Next() >> 11) * 0x1.0p-53 < p; }

 private:
  uint64_t state_;
};

}  // namespace synod
