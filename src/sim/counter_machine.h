// CounterMachine: the simulator's state machine. A map of 64-bit counters; each command adds
// a delta to one counter and returns the new value. Adding is not idempotent, so a command
// applied twice changes the state: exactly-once bugs show up in the state hash.
//
// Exactly-once through the replicated SessionTable, like the real ledger. Deterministic.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "paxos/session_table.h"
#include "paxos/types.h"

namespace synod::sim {

class CounterMachine {
 public:
  struct Applied {
    uint64_t client_id = 0;
    uint64_t request_id = 0;
    std::string result;
    bool executed = false;  // False: answered from the session table (a retry).
  };

  static std::string EncodeCommand(uint64_t key, uint64_t delta);

  // Applies one decided batch. `skip_sessions` plants an exactly-once bug (tests only).
  std::vector<Applied> Apply(Slot slot, const Batch& batch, bool skip_sessions = false);

  std::string Encode() const;
  static Result<CounterMachine> Decode(std::string_view bytes);
  // FNV-1a 64 over the counters and the session table's digest: equal when states are equal.
  uint64_t Hash() const;
  Slot applied_slot() const { return applied_slot_; }

 private:
  Slot applied_slot_ = 0;
  std::map<uint64_t, uint64_t> counters_;
  SessionTable sessions_;
};

}  // namespace synod::sim
