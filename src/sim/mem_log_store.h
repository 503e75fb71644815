// MemLogStore: the simulator's LogStore. Persist() applies records to an in-memory
// RecoveredState; a simulated crash destroys the node's Core and keeps only this store, so a
// restarted node knows exactly what it persisted and nothing more (the driver persists before
// it sends, as the real node does).
//
// Not thread-safe; one per simulated node.
#pragma once

#include "paxos/persist.h"

namespace synod::sim {

class MemLogStore : public LogStore {
 public:
  Status Persist(const std::vector<DurableWrite>& writes) override;
  Result<RecoveredState> Recover() override { return state_; }

  const RecoveredState& state() const { return state_; }
  size_t persist_calls() const { return persist_calls_; }

 private:
  RecoveredState state_;
  size_t persist_calls_ = 0;
};

}  // namespace synod::sim
