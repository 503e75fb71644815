// Bootstrap and Seed: how a node becomes a member ("Clustering by Consensus").
//
// A node whose data dir holds no membership runs Bootstrap: it sends Join to every other
// member every join_retry_ticks until some member answers with a Welcome (the state to start
// from). Until then it is not an acceptor, has no replica state, and answers no client.
//
// A brand-new cluster has no member to answer. The Seed runs on the lowest-id node of the
// configuration while that node is not a member: it counts distinct Joins (its own included)
// and, once a majority of the configuration has asked, forms the cluster: it persists its
// membership and welcomes every joiner with the empty state. Only one node can seed, and only
// with a majority behind it, so two clusters cannot form on the two sides of a partition.
//
// Owned by one Core; single-threaded.
// Invariant: joined_ holds member ids only.
#pragma once

#include <set>
#include <vector>

#include "paxos/config.h"
#include "paxos/message.h"

namespace synod {

class Bootstrap {
 public:
  explicit Bootstrap(const CoreConfig& config) : config_(config) {}
  void Tick(uint64_t tick, Ready* ready);

 private:
  const CoreConfig& config_;
  uint64_t sent_tick_ = 0;
  bool sent_ = false;
};

class Seed {
 public:
  explicit Seed(const CoreConfig& config);
  // Records a Join; returns true once a majority has joined (the cluster may form).
  bool OnJoin(NodeId from);
  const std::set<NodeId>& joined() const { return joined_; }

 private:
  const CoreConfig& config_;
  std::set<NodeId> joined_;
};

}  // namespace synod
