// What the crash-test child (crash_child.cc) and its parent (crash_test.cc, refusal_test.cc)
// agree on: the command line, the batch each slot carries, and the announcement lines.
//
//   storage_crash_child open DIR CLUSTER NODE
//       Opens the store once; prints "ok" or the refusal on stdout; exit 0, or kRefusedExit.
//   storage_crash_child write DIR CLUSTER NODE SEED [announce-early]
//       Opens the store, recovers, then loops forever: each pass persists, as ONE Persist call,
//       a promise of a fresh, higher round and 1 to 4 new accepted slots (sometimes also
//       re-accepting the previous slot at the new round), and only after Persist returned ok
//       writes one line per accepted slot to stdout:  "A <slot> <round>\n".
//       `announce-early` plants a bug for the checker's own test: it announces BEFORE Persist.
//       Dies with its parent (PR_SET_PDEATHSIG) and after kPassesMax passes at the latest.
#pragma once

#include <cstdint>
#include <memory>

#include "paxos/types.h"

namespace synod::storage::testing {

inline constexpr int kRefusedExit = 3;
inline constexpr int kWriteFailedExit = 2;
inline constexpr uint64_t kPassesMax = 200000;
inline constexpr size_t kCrashPayloadBytes = 256;

// The batch accepted for `slot` in the crash test: one 256-byte command, a function of slot.
inline BatchRef CrashBatch(Slot slot) {
  auto batch = std::make_shared<Batch>();
  batch->timestamp_ns = slot;
  Command command;
  command.client_id = 1;
  command.request_id = slot;
  command.payload.resize(kCrashPayloadBytes);
  for (size_t i = 0; i < command.payload.size(); ++i) {
    command.payload[i] = static_cast<char>((slot * 131 + i * 7) & 0xff);
  }
  batch->commands.push_back(std::move(command));
  return batch;
}

}  // namespace synod::storage::testing
