// CoreConfig: everything a node's consensus core is told at construction. Times are in ticks
// (the driver maps real time to ticks; the simulator counts them).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "paxos/limits.h"
#include "paxos/types.h"

namespace synod {

// Bugs that a test can plant to prove the simulator's checkers fail. Never set in production.
enum class PlantedBug {
  kNone,
  kAcceptorForgetsOnRestart,  // The reference design: promise and accepted lost on restart.
  kLeaderIgnoresPromises,     // An adopted leader proposes no-ops instead of accepted values.
  kRejoinVotesAtOnce,         // A node with a wiped data dir votes as soon as it is welcomed.
  kReconfigSkipsExtension,    // A leader opens slots of a new configuration without phase 1.
  kScoutTakesFirstPage,       // A scout counts a paged Promise as complete after its first page.
  kReadConfirmsAlone,         // A leader's own Confirmed confirms a read round (no majority).
};

struct CoreConfig {
  NodeId self = 0;
  // The nodes of the cluster spec (--cluster), sorted ascending, includes self. Before the
  // node joined: whom Bootstrap asks, and (on the Seed) the genesis configuration. After it
  // joined, the configuration history (Core, "Membership") decides, not this list.
  std::vector<NodeId> members;
  std::map<NodeId, std::string> addresses;  // HOST:PORT of `members`, for the genesis config.
  uint64_t seed = 1;                        // Seeds the backoff randomness.
  uint64_t incarnation = 0;                 // Of the data dir: random at its creation, 0 = unknown.

  uint32_t window = 8;                         // Slots a leader keeps in flight.
  uint32_t heartbeat_ticks = 20;               // Leader sends Active this often.
  uint32_t leader_timeout_ticks = 100;         // Replica moves to the next candidate after this.
  uint32_t retransmit_ticks = 30;              // Scouts and commanders resend to the silent.
  uint32_t backoff_min_ticks = 10;             // A preempted leader waits a random number of ticks
  uint32_t backoff_max_ticks = 150;            //   in [min, max] before it may scout again.
  uint32_t propose_retry_ticks = 60;           // Replica re-forwards undecided commands.
  uint32_t catchup_retry_ticks = 40;           // Replica re-asks for missing decisions.
  uint32_t join_retry_ticks = 40;              // Bootstrap resends Join.
  uint64_t snapshot_retention_slots = 64;      // Decided log kept below a snapshot for catch-up,
  size_t snapshot_retention_bytes = 32 << 20;  // but no more payload bytes than this.
  // Payload bytes of the batches one Promise page or one catch-up reply (Decisions, Welcome)
  // carries beyond its first batch, so that every message stays under limits::kFrameBytesMax
  // however far behind the asker is. The simulator makes it small to page often.
  size_t page_bytes = 8 * 1024 * 1024;
  // Payload bytes a leader packs into one fresh slot (a slot always takes at least one
  // command, however large). A real node keeps slots to about one client request, because a
  // slot is applied in one piece: see kSlotBytes in src/node/node.cc.
  size_t batch_bytes = limits::kBatchBytesMax;

  PlantedBug planted_bug = PlantedBug::kNone;

  size_t Majority() const { return members.size() / 2 + 1; }
};

}  // namespace synod
