// Bootstrap and Seed: how a node becomes a member ("Clustering by Consensus").
//
// A node whose data dir holds no membership runs Bootstrap: it sends Join to every other
// member every join_retry_ticks until some member answers with a Welcome (the state to start
// from). Until then it is not an acceptor, has no replica state, and answers no client.
//
// A brand-new cluster has no member to answer. The Seed runs on the lowest-id node of the
// configuration while that node is not a member: it counts distinct Joins (its own included)
// and, once EVERY member has asked, forms the cluster: it persists its membership with the
// genesis set (each member's id and data-dir incarnation, from its Join) and welcomes every
// joiner with the empty state. Only one node can seed, and only when no member is a member
// already (a member never sends Join), so a second cluster cannot form beside a running one:
// not on the other side of a partition, and not by a wiped Seed while a member that was never
// welcomed still asks to join (a majority would be enough for the first, not for the second).
// The price: a brand-new cluster forms only once all its nodes have started.
//
// Owned by one Core; single-threaded.
// Invariant: joined_ holds member ids only.
#pragma once

#include <map>
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
  // Records a Join; returns true once every member has joined (the cluster may form).
  bool OnJoin(NodeId from, uint64_t incarnation);
  bool complete() const { return joined_.size() == config_.members.size(); }
  const std::map<NodeId, uint64_t>& joined() const { return joined_; }
  std::vector<GenesisMember> Genesis() const;

 private:
  const CoreConfig& config_;
  std::map<NodeId, uint64_t> joined_;  // Member -> incarnation its latest Join named.
};

}  // namespace synod
