// Checks on a configuration history (Core, "Membership") that comes from outside the core:
// read back from disk (storage/format.cc) or off the wire (net/codec.cc). Both decode their
// FlatBuffers tables with ConfigsFromTables, which bounds every count before it allocates and
// then runs CheckConfigHistory on the result; the encoders SYNOD_CHECK the same rules, so what
// a node writes it can always read back.
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "paxos/limits.h"
#include "paxos/status.h"
#include "paxos/types.h"

namespace synod {

// Ok when `configs` is a history the core could have made: at most kConfigHistoryMax
// configurations (none: a sender or record without one) with ascending `from` (and `decided_at`),
// each `from` > its `decided_at`; each configuration with 1..kNodesMax members, ids non-zero,
// sorted and unique, at least one voter, addresses at most kAddressBytesMax bytes. InvalidArgument
// naming the first problem.
Status CheckConfigHistory(const std::vector<ClusterConfig>& configs);

// Converts a verified FlatBuffers vector of configuration tables (from(), decided_at(),
// members() of tables with id(), address(), voter()) and checks it. A null vector is an empty
// history (Ok, no configurations). `what` names the record or message in errors.
template <typename Tables>
Result<std::vector<ClusterConfig>> ConfigsFromTables(const Tables* tables,
                                                     const std::string& what) {
  std::vector<ClusterConfig> out;
  if (tables == nullptr) return out;
  if (tables->size() > limits::kConfigHistoryMax) {
    return Status::InvalidArgument(what + ": " + std::to_string(tables->size()) +
                                   " configurations, more than " +
                                   std::to_string(limits::kConfigHistoryMax));
  }
  for (const auto* config : *tables) {
    ClusterConfig c;
    c.from = config->from();
    c.decided_at = config->decided_at();
    if (config->members() != nullptr) {
      if (config->members()->size() > limits::kNodesMax) {
        return Status::InvalidArgument(what + ": a configuration of " +
                                       std::to_string(config->members()->size()) +
                                       " members, more than " + std::to_string(limits::kNodesMax));
      }
      for (const auto* m : *config->members()) {
        ConfigMember member;
        member.id = m->id();
        member.voter = m->voter();
        if (m->address() != nullptr) {
          if (m->address()->size() > limits::kAddressBytesMax) {
            return Status::InvalidArgument(what + ": node " + std::to_string(member.id) +
                                           "'s address is longer than " +
                                           std::to_string(limits::kAddressBytesMax) + " bytes");
          }
          member.address = m->address()->str();
        }
        c.members.push_back(std::move(member));
      }
    }
    out.push_back(std::move(c));
  }
  if (Status s = CheckConfigHistory(out); !s.ok()) {
    return Status::InvalidArgument(what + ": " + s.message());
  }
  return out;
}

}  // namespace synod
