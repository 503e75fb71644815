#include "paxos/config_history.h"

#include "paxos/membership.h"

namespace synod {
namespace {

static_assert(limits::kConfigHistoryMax > kConfigDelaySlots + 1,
              "a history holds the governing configuration and one per pending slot");

Status CheckConfig(const ClusterConfig& c, size_t index) {
  const std::string where =
      "configuration " + std::to_string(index) + " (from slot " + std::to_string(c.from) + ")";
  if (c.from == 0 || c.from <= c.decided_at) {
    return Status::InvalidArgument(where + ": governs from slot " + std::to_string(c.from) +
                                   " but was decided in slot " + std::to_string(c.decided_at));
  }
  if (c.members.empty() || c.members.size() > limits::kNodesMax) {
    return Status::InvalidArgument(where + ": " + std::to_string(c.members.size()) +
                                   " members, want 1.." + std::to_string(limits::kNodesMax));
  }
  bool voter = false;
  for (size_t i = 0; i < c.members.size(); ++i) {
    const ConfigMember& m = c.members[i];
    if (m.id == 0) return Status::InvalidArgument(where + ": node id 0");
    if (i > 0 && m.id <= c.members[i - 1].id) {
      return Status::InvalidArgument(where + ": node ids not sorted and unique at node " +
                                     std::to_string(m.id));
    }
    if (m.address.size() > limits::kAddressBytesMax) {
      return Status::InvalidArgument(where + ": node " + std::to_string(m.id) +
                                     "'s address is longer than " +
                                     std::to_string(limits::kAddressBytesMax) + " bytes");
    }
    voter = voter || m.voter;
  }
  if (!voter) return Status::InvalidArgument(where + ": no voter");
  return Status::Ok();
}

}  // namespace

Status CheckConfigHistory(const std::vector<ClusterConfig>& configs) {
  if (configs.size() > limits::kConfigHistoryMax) {
    return Status::InvalidArgument(std::to_string(configs.size()) + " configurations, more than " +
                                   std::to_string(limits::kConfigHistoryMax));
  }
  for (size_t i = 0; i < configs.size(); ++i) {
    if (Status s = CheckConfig(configs[i], i); !s.ok()) return s;
    if (i > 0 && (configs[i].from <= configs[i - 1].from ||
                  configs[i].decided_at <= configs[i - 1].decided_at)) {
      return Status::InvalidArgument("configuration " + std::to_string(i) + " (from slot " +
                                     std::to_string(configs[i].from) +
                                     ") does not come after the one before it");
    }
  }
  return Status::Ok();
}

}  // namespace synod
