#include "net/cluster_spec.h"

#include <algorithm>
#include <charconv>

#include "paxos/limits.h"

namespace synod::net {
namespace {

template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

Result<NodeAddress> ParseEntry(std::string_view entry) {
  const std::string quoted = "'" + std::string(entry) + "'";
  size_t eq = entry.find('=');
  size_t colon = entry.rfind(':');
  if (eq == std::string_view::npos || colon == std::string_view::npos || colon < eq) {
    return Status::InvalidArgument("cluster entry " + quoted + " is not ID=HOST:PORT");
  }
  NodeAddress a;
  uint32_t id = 0;
  if (!ParseNumber(entry.substr(0, eq), &id) || id == 0 || id > 65535) {
    return Status::InvalidArgument("cluster entry " + quoted + ": id must be 1..65535");
  }
  a.id = id;
  a.host = std::string(entry.substr(eq + 1, colon - eq - 1));
  if (a.host.empty() || a.host.find_first_of(" \t/,=") != std::string::npos) {
    return Status::InvalidArgument("cluster entry " + quoted + ": bad host");
  }
  uint32_t port = 0;
  if (!ParseNumber(entry.substr(colon + 1), &port) || port == 0 || port > 65535) {
    return Status::InvalidArgument("cluster entry " + quoted + ": port must be 1..65535");
  }
  a.port = static_cast<uint16_t>(port);
  return a;
}

}  // namespace

Result<ClusterSpec> ClusterSpec::Parse(std::string_view text) {
  ClusterSpec spec;
  while (!text.empty()) {
    size_t comma = text.find(',');
    auto entry = ParseEntry(text.substr(0, comma));
    if (!entry.ok()) return entry.status();
    spec.nodes.push_back(std::move(entry.value()));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
    if (text.empty()) return Status::InvalidArgument("cluster spec ends with ','");
  }
  if (spec.nodes.empty()) return Status::InvalidArgument("cluster spec is empty");
  if (spec.nodes.size() > limits::kNodesMax) {
    return Status::InvalidArgument("cluster spec has " + std::to_string(spec.nodes.size()) +
                                   " nodes; at most " + std::to_string(limits::kNodesMax));
  }
  std::sort(spec.nodes.begin(), spec.nodes.end(),
            [](const NodeAddress& a, const NodeAddress& b) { return a.id < b.id; });
  for (size_t i = 1; i < spec.nodes.size(); ++i) {
    if (spec.nodes[i].id == spec.nodes[i - 1].id) {
      return Status::InvalidArgument("cluster spec names node " + std::to_string(spec.nodes[i].id) +
                                     " twice");
    }
    for (size_t j = 0; j < i; ++j) {
      if (spec.nodes[i].host == spec.nodes[j].host && spec.nodes[i].port == spec.nodes[j].port) {
        return Status::InvalidArgument("cluster spec gives nodes " +
                                       std::to_string(spec.nodes[j].id) + " and " +
                                       std::to_string(spec.nodes[i].id) + " the same address");
      }
    }
  }
  return spec;
}

std::string ClusterSpec::ToString() const {
  std::string out;
  for (const NodeAddress& a : nodes) {
    if (!out.empty()) out += ",";
    out += std::to_string(a.id) + "=" + a.host + ":" + std::to_string(a.port);
  }
  return out;
}

std::vector<NodeId> ClusterSpec::Ids() const {
  std::vector<NodeId> ids;
  for (const NodeAddress& a : nodes) ids.push_back(a.id);
  return ids;
}

const NodeAddress* ClusterSpec::Find(NodeId id) const {
  for (const NodeAddress& a : nodes) {
    if (a.id == id) return &a;
  }
  return nullptr;
}

}  // namespace synod::net
