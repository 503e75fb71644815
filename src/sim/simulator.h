// The deterministic whole-cluster simulator.
//
// One process runs N nodes (each a Core, a MemLogStore and a CounterMachine) and a few
// clients over a simulated network, in logical ticks. Everything random comes from one seed:
// message delay and jitter (hence reordering), drops, duplicates, symmetric and one-way
// partitions that come and heal, node crashes where a restarted node keeps only what it
// persisted, wipes where it comes back with nothing (a new data dir), and membership changes
// (nodes added as learners and promoted, members removed). After every event the
// checkers run:
//   agreement     never two different batches chosen for one slot (accepted by a majority of
//                 the voters of that slot's configuration, which the checker derives itself);
//   validity      a decided batch was chosen, and holds only commands clients invoked;
//   consistency   every node applies the same batch and reaches the same state hash per slot;
//   exactly-once  no client request executes twice; every answer equals the first execution;
//   invariants    every role's CheckInvariants() after every Step and Tick;
//   liveness      once faults stop and all nodes are up, every request is answered within
//                 liveness_bound_ticks.
// The first violation ends the run. Same options, same output, byte for byte.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "paxos/config.h"

namespace synod::sim {

struct SimOptions {
  uint64_t seed = 1;
  uint32_t nodes = 3;
  uint64_t ticks = 10000;
  double drop = 0.0;        // Probability that a message is lost.
  double duplicate = 0.01;  // Probability that a message is delivered twice.
  bool partitions = false;
  bool crashes = false;
  // Crash a node and restart it with an empty data dir (it must rejoin). One at a time: only
  // while every member is joined and none is rejoining (two rejoining at once never recover).
  bool wipes = false;
  bool transfers = false;  // Now and then the leader is asked to hand over to a random member.
  // Membership changes: up to two spare nodes (ids after `nodes`, at most 7 in all) start
  // outside the cluster; now and then one is added (as a learner; it asks to be promoted) or
  // a member is removed (never below two voters), through the log (paxos/membership.h).
  bool reconfig = false;
  uint32_t reconfig_every_ticks = 600;  // Mean ticks between two changes asked for.
  uint32_t clients = 4;
  uint32_t delay_min_ticks = 1;
  uint32_t delay_max_ticks = 8;
  uint64_t snapshot_every_slots = 40;
  uint64_t liveness_bound_ticks = 4000;
  bool wire = false;  // Send every message through the FlatBuffers codec (encode + decode).
  // CoreConfig::page_bytes (0: its default). Small values make Promises and catch-up replies
  // come in many pages.
  size_t page_bytes = 0;
  // Test-only: plant a bug to show the checkers catch it.
  PlantedBug planted_bug = PlantedBug::kNone;
  bool plant_skip_sessions = false;  // Exactly-once broken in the state machine.

  // The `synod sim` command line that reproduces a run with these options.
  std::string ReproduceCommand() const;
};

struct SimResult {
  uint64_t seed = 0;
  uint32_t nodes = 0;
  uint64_t ticks = 0;
  uint64_t decided_slots = 0;
  uint64_t requests_done = 0;
  uint64_t leader_changes = 0;
  uint64_t wipes = 0;     // Nodes wiped (reported with --wipes only).
  uint64_t rejoined = 0;  // Wiped nodes that voted again.
  bool report_wipes = false;
  uint64_t transfers = 0;       // Leader transfers started (reported with --transfers only).
  uint64_t transfers_done = 0;  // ... after which the target led.
  bool report_transfers = false;
  uint64_t reconfigs = 0;       // Membership changes asked for (reported with --reconfig only).
  uint64_t reconfigs_done = 0;  // ... that changed the configuration.
  std::vector<NodeId> voters;   // In the last configuration (reported with --reconfig only).
  bool report_reconfig = false;
  std::vector<std::string> violations;  // Empty on success; a run stops at the first.

  std::string ToJson() const;
};

SimResult RunSimulation(const SimOptions& options);

}  // namespace synod::sim
