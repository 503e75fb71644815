// ClusterSpec: the cluster's members and their addresses, parsed from `ID=HOST:PORT,...`.
// One address per node serves both peers and clients. Parsing is strict: every error names
// the offending entry. Value type; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "paxos/status.h"
#include "paxos/types.h"

namespace synod::net {

struct NodeAddress {
  NodeId id = 0;
  std::string host;
  uint16_t port = 0;
  std::string Endpoint() const { return "tcp://" + host + ":" + std::to_string(port); }
};

struct ClusterSpec {
  std::vector<NodeAddress> nodes;  // Sorted by id, ids unique.

  static Result<ClusterSpec> Parse(std::string_view text);
  std::string ToString() const;
  std::vector<NodeId> Ids() const;
  const NodeAddress* Find(NodeId id) const;
};

}  // namespace synod::net
