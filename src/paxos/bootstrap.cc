#include "paxos/bootstrap.h"

#include <algorithm>

namespace synod {

void Bootstrap::Tick(uint64_t tick, Ready* ready) {
  if (sent_ && tick - sent_tick_ < config_.join_retry_ticks) return;
  sent_ = true;
  sent_tick_ = tick;
  for (NodeId m : config_.members) {
    if (m != config_.self) ready->messages.push_back({config_.self, m, JoinMsg{}});
  }
}

Seed::Seed(const CoreConfig& config) : config_(config) { joined_.insert(config_.self); }

bool Seed::OnJoin(NodeId from) {
  const auto& m = config_.members;
  if (std::find(m.begin(), m.end(), from) != m.end()) joined_.insert(from);
  return joined_.size() >= config_.Majority();
}

}  // namespace synod
