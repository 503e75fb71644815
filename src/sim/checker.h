// Checker: the simulator's global view of a run, and the safety properties it asserts.
// Fed by the simulation driver with every persisted accept, every applied slot, every client
// invocation and answer. Each method returns an empty string, or the violation it found.
//
// Not thread-safe; one per run.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "paxos/types.h"
#include "sim/counter_machine.h"

namespace synod::sim {

class Checker {
 public:
  // `genesis`: the configuration the cluster forms with. The checker follows membership
  // changes in the log it sees applied, and counts a batch chosen at a slot when a majority of
  // THAT slot's voters accepted it (paxos/membership.h).
  explicit Checker(ClusterConfig genesis) : configs_{std::move(genesis)} {}

  // An acceptor on `node` durably accepted (ballot, batch) for slot.
  std::string OnAccepted(NodeId node, Slot slot, const Ballot& ballot, const BatchRef& batch);
  // A client invoked a command.
  void OnInvoke(const Command& command);
  // `node` applied `batch` at `slot`, reaching state `hash`; `applied` are its results.
  std::string OnApplied(NodeId node, Slot slot, const BatchRef& batch, uint64_t hash,
                        const std::vector<CounterMachine::Applied>& applied);
  // `node` installed a snapshot at `slot` with state `hash`.
  std::string OnInstalled(NodeId node, Slot slot, uint64_t hash) const;
  // A client received the answer `result` for (client_id, request_id).
  std::string OnAnswer(uint64_t client_id, uint64_t request_id, const std::string& result) const;

  Slot log_end() const { return log_.empty() ? 0 : log_.rbegin()->first; }
  // The configuration history implied by the applied log (the truth the nodes must agree on).
  const std::vector<ClusterConfig>& configs() const { return configs_; }

 private:
  struct Votes {
    BatchRef batch;
    std::set<NodeId> nodes;
  };
  struct SlotState {
    std::map<Ballot, Votes> votes;
    BatchRef chosen;
  };
  struct Entry {
    BatchRef batch;
    uint64_t hash = 0;
  };
  using RequestKey = std::pair<uint64_t, uint64_t>;

  // Decides whether a majority of the slot's voters accepted one batch; needs the slot's
  // configuration, known once every slot kConfigDelaySlots below it is in the log.
  std::string Evaluate(Slot slot);

  std::vector<ClusterConfig> configs_;
  std::map<Slot, SlotState> slots_;
  std::map<Slot, Entry> log_;                   // First application of each slot.
  std::map<RequestKey, std::string> invoked_;   // Payload of every invoked command.
  std::map<RequestKey, std::string> executed_;  // Result of the one execution.
};

}  // namespace synod::sim
