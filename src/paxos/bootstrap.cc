#include "paxos/bootstrap.h"

#include <algorithm>

namespace synod {

void Bootstrap::Tick(uint64_t tick, Ready* ready) {
  if (sent_ && tick - sent_tick_ < config_.join_retry_ticks) return;
  sent_ = true;
  sent_tick_ = tick;
  for (NodeId m : config_.members) {
    if (m != config_.self) {
      ready->messages.push_back({config_.self, m, JoinMsg{config_.incarnation}});
    }
  }
}

Seed::Seed(const CoreConfig& config) : config_(config) {
  joined_[config_.self] = config_.incarnation;
}

bool Seed::OnJoin(NodeId from, uint64_t incarnation) {
  const auto& m = config_.members;
  if (std::find(m.begin(), m.end(), from) != m.end()) joined_[from] = incarnation;
  return complete();
}

std::vector<GenesisMember> Seed::Genesis() const {
  std::vector<GenesisMember> out;
  for (const auto& [id, incarnation] : joined_) out.push_back({id, incarnation});
  return out;
}

}  // namespace synod
