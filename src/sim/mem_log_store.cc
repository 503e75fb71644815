#include "sim/mem_log_store.h"

namespace synod::sim {

Status MemLogStore::Persist(const std::vector<DurableWrite>& writes) {
  ++persist_calls_;
  Status status;
  for (const DurableWrite& w : writes) {
    switch (w.kind) {
      case DurableWrite::Kind::kJoined:
        state_.joined = true;
        state_.membership = w.membership;
        break;
      case DurableWrite::Kind::kPromise:
        // A promise never regresses; the simulator reports it if a (planted) bug tries.
        if (w.ballot < state_.promised && status.ok()) {
          status = Status::Corruption("durability: promise regressed from " +
                                      state_.promised.ToString() + " to " + w.ballot.ToString());
        }
        state_.promised = w.ballot;
        break;
      case DurableWrite::Kind::kAccept:
        state_.accepted[w.slot] = PValue{w.slot, w.ballot, w.batch};
        break;
      case DurableWrite::Kind::kDecide:
        state_.decided[w.slot] = w.batch;
        break;
      case DurableWrite::Kind::kSnapshot:
        if (w.snapshot.slot > state_.snapshot.slot) state_.snapshot = w.snapshot;
        break;
      case DurableWrite::Kind::kCompact:
        state_.accepted.erase(state_.accepted.begin(), state_.accepted.lower_bound(w.slot));
        state_.decided.erase(state_.decided.begin(), state_.decided.lower_bound(w.slot));
        break;
      case DurableWrite::Kind::kConfig:
        state_.configs = w.configs;
        break;
    }
  }
  return status;
}

}  // namespace synod::sim
