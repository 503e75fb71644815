#include "sim/checker.h"

#include "paxos/membership.h"

namespace synod::sim {
namespace {

std::string SlotText(Slot slot) { return "slot " + std::to_string(slot); }

}  // namespace

std::string Checker::OnAccepted(NodeId node, Slot slot, const Ballot& ballot,
                                const BatchRef& batch) {
  SlotState& s = slots_[slot];
  Votes& v = s.votes[ballot];
  if (v.batch && !SameBatch(v.batch, batch)) {
    return "agreement: two batches proposed at ballot " + ballot.ToString() + " for " +
           SlotText(slot);
  }
  v.batch = batch;
  v.nodes.insert(node);
  if (slot > log_end() + kConfigDelaySlots) return "";  // Evaluated once its config is known.
  return Evaluate(slot);
}

std::string Checker::Evaluate(Slot slot) {
  auto found = slots_.find(slot);
  if (found == slots_.end()) return "";
  SlotState& s = found->second;
  const ClusterConfig& config = ConfigAt(configs_, slot);
  const size_t majority = config.Voters().size() / 2 + 1;
  for (const auto& [ballot, v] : s.votes) {
    size_t voters = 0;
    for (NodeId n : v.nodes) voters += config.IsVoter(n) ? 1 : 0;
    if (voters < majority) continue;
    if (s.chosen && !SameBatch(s.chosen, v.batch)) {
      return "agreement: " + SlotText(slot) + " chose two different batches (second at ballot " +
             ballot.ToString() + ")";
    }
    s.chosen = v.batch;
  }
  return "";
}

void Checker::OnInvoke(const Command& command) {
  invoked_.emplace(RequestKey{command.client_id, command.request_id}, command.payload);
}

std::string Checker::OnApplied(NodeId node, Slot slot, const BatchRef& batch, uint64_t hash,
                               const std::vector<CounterMachine::Applied>& applied) {
  const std::string where = "node " + std::to_string(node) + " " + SlotText(slot);
  if (std::string e = Evaluate(slot); !e.empty()) return e;
  auto chosen = slots_.find(slot);
  if (chosen == slots_.end() || !chosen->second.chosen) {
    return "validity: " + where + " applied a batch no majority accepted";
  }
  if (!SameBatch(chosen->second.chosen, batch)) {
    return "validity: " + where + " applied a batch other than the chosen one";
  }
  auto [it, first] = log_.try_emplace(slot, Entry{batch, hash});
  if (!first) {
    if (!SameBatch(it->second.batch, batch)) return "consistency: " + where + " differs";
    if (it->second.hash != hash) return "consistency: " + where + " reached another state hash";
    return "";
  }
  for (const Command& c : batch->commands) {
    // A learner's promotion request is the core's own command, not a client's.
    if (c.client_id >= kPromoteClientBase && IsMembershipPayload(c.payload)) continue;
    auto inv = invoked_.find({c.client_id, c.request_id});
    if (inv == invoked_.end() || inv->second != c.payload) {
      return "validity: " + where + " decided a command no client invoked";
    }
  }
  if (!MembershipApplied(configs_, slot)) {
    for (const Command& c : batch->commands) {
      if (IsMembershipPayload(c.payload)) ApplyMembershipChange(&configs_, slot, c.payload);
    }
  }
  // The slot kConfigDelaySlots above has its configuration now.
  if (std::string e = Evaluate(slot + kConfigDelaySlots); !e.empty()) return e;
  for (const auto& a : applied) {
    if (!a.executed) continue;
    if (!executed_.emplace(RequestKey{a.client_id, a.request_id}, a.result).second) {
      return "exactly-once: request " + std::to_string(a.client_id) + "/" +
             std::to_string(a.request_id) + " executed twice (" + where + ")";
    }
  }
  return "";
}

std::string Checker::OnInstalled(NodeId node, Slot slot, uint64_t hash) const {
  auto it = log_.find(slot);
  if (it != log_.end() && it->second.hash != hash) {
    return "consistency: node " + std::to_string(node) + " installed a snapshot at " +
           SlotText(slot) + " with another state hash";
  }
  return "";
}

std::string Checker::OnAnswer(uint64_t client_id, uint64_t request_id,
                              const std::string& result) const {
  auto it = executed_.find({client_id, request_id});
  if (it == executed_.end()) {
    return "exactly-once: request " + std::to_string(client_id) + "/" + std::to_string(request_id) +
           " answered but never executed";
  }
  if (it->second != result) {
    return "exactly-once: request " + std::to_string(client_id) + "/" + std::to_string(request_id) +
           " answered '" + result + "', executed as '" + it->second + "'";
  }
  return "";
}

}  // namespace synod::sim
