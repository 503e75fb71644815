#include "paxos/membership.h"

#include <algorithm>
#include <cstring>

#include "paxos/check.h"
#include "paxos/limits.h"

namespace synod {
namespace {

constexpr size_t kHeaderBytes = 4 + 1 + 4;  // Magic, op, id (little endian).
constexpr size_t kAddressBytesMax = 255;

std::string Answer(const MembershipChange& c, Slot from, bool already = false) {
  return std::string("{\"ok\":true,\"op\":\"") + OpName(c.op) +
         "\",\"id\":" + std::to_string(c.id) + ",\"effective_slot\":" + std::to_string(from) +
         (already ? ",\"already\":true}" : "}");
}

std::string Refusal(const MembershipChange& c, const std::string& why) {
  return std::string("{\"ok\":false,\"op\":\"") + OpName(c.op) +
         "\",\"id\":" + std::to_string(c.id) + ",\"error\":\"" + why + "\"}";
}

}  // namespace

const char* OpName(MembershipChange::Op op) {
  switch (op) {
    case MembershipChange::Op::kAdd:
      return "add";
    case MembershipChange::Op::kRemove:
      return "remove";
    case MembershipChange::Op::kPromote:
      return "promote";
  }
  return "unknown";
}

std::string EncodeMembershipChange(const MembershipChange& change) {
  SYNOD_CHECK(change.address.size() <= kAddressBytesMax);
  std::string out(kMembershipMagic);
  out.push_back(static_cast<char>(change.op));
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((change.id >> (8 * i)) & 0xff));
  out += change.address;
  return out;
}

bool IsMembershipPayload(std::string_view payload) {
  return payload.size() >= kMembershipMagic.size() &&
         payload.substr(0, kMembershipMagic.size()) == kMembershipMagic;
}

Result<MembershipChange> DecodeMembershipChange(std::string_view payload) {
  if (!IsMembershipPayload(payload) || payload.size() < kHeaderBytes) {
    return Status::InvalidArgument("membership change: shorter than its header");
  }
  MembershipChange c;
  const auto op = static_cast<uint8_t>(payload[4]);
  if (op < 1 || op > 3) {
    return Status::InvalidArgument("membership change: unknown operation " + std::to_string(op));
  }
  c.op = static_cast<MembershipChange::Op>(op);
  for (int i = 0; i < 4; ++i) c.id |= NodeId{static_cast<uint8_t>(payload[5 + i])} << (8 * i);
  if (c.id == 0) return Status::InvalidArgument("membership change: node id 0");
  c.address = std::string(payload.substr(kHeaderBytes));
  if (c.address.size() > kAddressBytesMax) {
    return Status::InvalidArgument("membership change: address longer than " +
                                   std::to_string(kAddressBytesMax) + " bytes");
  }
  if ((c.op == MembershipChange::Op::kAdd) == c.address.empty()) {
    return Status::InvalidArgument(c.address.empty() ? "membership change: add without an address"
                                                     : "membership change: address given for " +
                                                           std::string(OpName(c.op)));
  }
  return c;
}

const ClusterConfig& ConfigAt(const std::vector<ClusterConfig>& configs, Slot slot) {
  SYNOD_CHECK(!configs.empty());
  auto it = std::upper_bound(configs.begin(), configs.end(), slot,
                             [](Slot s, const ClusterConfig& c) { return s < c.from; });
  return it == configs.begin() ? configs.front() : *std::prev(it);
}

std::string ApplyMembershipChange(std::vector<ClusterConfig>* configs, Slot slot,
                                  std::string_view payload) {
  SYNOD_CHECK(!configs->empty());
  Result<MembershipChange> decoded = DecodeMembershipChange(payload);
  if (!decoded.ok()) {
    return "{\"ok\":false,\"error\":\"" + decoded.status().message() + "\"}";
  }
  const MembershipChange& c = decoded.value();
  const ClusterConfig& latest = configs->back();
  SYNOD_CHECK(latest.decided_at <= slot);
  ClusterConfig next = latest;
  next.decided_at = slot;
  next.from = slot + kConfigDelaySlots;
  auto it = std::find_if(next.members.begin(), next.members.end(),
                         [&](const ConfigMember& m) { return m.id == c.id; });
  switch (c.op) {
    case MembershipChange::Op::kAdd:
      if (it != next.members.end()) {
        // A retried add (the client lost the answer, e.g. to a leader killed after the
        // decision) finds the node there at the same address: the same outcome, so the same
        // answer, with "already" and the slot of the oldest configuration kept that holds it.
        // Another address is a different request: refused.
        if (it->address != c.address) return Refusal(c, "already a member");
        auto first = std::find_if(configs->begin(), configs->end(),
                                  [&](const ClusterConfig& k) { return k.Has(c.id); });
        SYNOD_CHECK(first != configs->end());
        return Answer(c, first->from, /*already=*/true);
      }
      if (next.members.size() >= limits::kNodesMax) {
        return Refusal(c,
                       "a cluster has at most " + std::to_string(limits::kNodesMax) + " members");
      }
      for (const ConfigMember& m : next.members) {
        if (m.address == c.address) {
          return Refusal(c, "address " + c.address + " is node " + std::to_string(m.id) + "'s");
        }
      }
      next.members.push_back({c.id, c.address, /*voter=*/false});
      std::sort(next.members.begin(), next.members.end(),
                [](const ConfigMember& a, const ConfigMember& b) { return a.id < b.id; });
      break;
    case MembershipChange::Op::kPromote:
      if (it == next.members.end()) return Refusal(c, "not a member");
      if (it->voter) return Refusal(c, "already a voter");
      it->voter = true;
      break;
    case MembershipChange::Op::kRemove:
      if (it == next.members.end()) return Refusal(c, "not a member");
      if (it->voter && next.Voters().size() == 1) return Refusal(c, "the last voter");
      next.members.erase(it);
      break;
  }
  // Two changes decided in the same slot: the later one rewrites the configuration it begins.
  if (configs->back().decided_at == slot) configs->pop_back();
  const Slot from = next.from;
  configs->push_back(std::move(next));
  return Answer(c, from);
}

bool MembershipApplied(const std::vector<ClusterConfig>& configs, Slot slot) {
  return !configs.empty() && configs.back().decided_at != 0 && configs.back().decided_at >= slot;
}

void PruneConfigs(std::vector<ClusterConfig>* configs, Slot slot) {
  auto governing = std::upper_bound(configs->begin(), configs->end(), slot,
                                    [](Slot s, const ClusterConfig& c) { return s < c.from; });
  if (governing == configs->begin()) return;
  configs->erase(configs->begin(), std::prev(governing));
}

std::vector<NodeId> AllMembers(const std::vector<ClusterConfig>& configs) {
  std::vector<NodeId> out;
  for (const ClusterConfig& c : configs) {
    for (const ConfigMember& m : c.members) out.push_back(m.id);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string ConfigToString(const ClusterConfig& config) {
  std::string out;
  for (const ConfigMember& m : config.members) {
    if (!out.empty()) out += ",";
    out += std::to_string(m.id) + "=" + m.address + (m.voter ? "" : "(learner)");
  }
  return out;
}

}  // namespace synod
