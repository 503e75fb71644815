#include "paxos/scout.h"

#include <algorithm>

namespace synod {
namespace {

bool IsMember(const std::vector<NodeId>& members, NodeId id) {
  return std::find(members.begin(), members.end(), id) != members.end();
}

size_t Majority(const std::vector<NodeId>& members) { return members.size() / 2 + 1; }

}  // namespace

Scout::Scout(NodeId self, const std::vector<NodeId>& members, Ballot ballot, Slot slot_first,
             bool rejoin)
    : self_(self),
      members_(members),
      ballot_(ballot),
      slot_first_(slot_first),
      rejoin_(rejoin),
      needed_(rejoin ? static_cast<size_t>(std::count_if(members.begin(), members.end(),
                                                         [&](NodeId m) { return m != self; }))
                     : Majority(members)) {}

void Scout::SendPrepares(Ready* ready) {
  if (outcome_ != PhaseOutcome::kWaiting) return;
  for (NodeId m : members_) {
    if (answered_.count(m) > 0) continue;
    auto page = paging_.find(m);
    ready->messages.push_back(
        {self_, m, PrepareMsg{ballot_, page == paging_.end() ? slot_first_ : page->second}});
  }
}

PhaseOutcome Scout::OnPromise(NodeId from, const PromiseMsg& msg, Ready* ready) {
  if (outcome_ != PhaseOutcome::kWaiting || !IsMember(members_, from)) return outcome_;
  if (rejoin_ && from == self_) return outcome_;  // Our own acceptor's vote does not count.
  auto page = paging_.find(from);
  // Only a first page can tell whether this Prepare raised the promise; later ones answer
  // Prepares of a ballot already promised.
  const bool first_page = page == paging_.end();
  if (msg.ballot > ballot_ || (rejoin_ && msg.ballot == ballot_ && !msg.fresh && first_page &&
                               answered_.count(from) == 0)) {
    preempted_by_ = msg.ballot;
    return outcome_ = PhaseOutcome::kPreempted;
  }
  // A promise for an older ballot of ours is a late duplicate: ignore it. So is a page other
  // than the one asked for (a duplicate, or an answer to an older Prepare).
  if (msg.ballot != ballot_ || answered_.count(from) > 0) return outcome_;
  const Slot page_from = msg.page_from == 0 ? slot_first_ : msg.page_from;  // 0: unpaged.
  if (page_from != (first_page ? slot_first_ : page->second)) return outcome_;
  if (msg.more_from != 0 && msg.more_from <= page_from) return outcome_;  // No progress.
  compacted_below_ = std::max(compacted_below_, msg.compacted_below);
  for (const PValue& pv : msg.accepted) {
    if (pv.slot < slot_first_ || (msg.more_from != 0 && pv.slot >= msg.more_from)) continue;
    auto [it, inserted] = pvalues_.try_emplace(pv.slot, pv);
    if (!inserted && pv.ballot > it->second.ballot) it->second = pv;
  }
  if (msg.more_from != 0) {
    paging_[from] = msg.more_from;
    ready->messages.push_back({self_, from, PrepareMsg{ballot_, msg.more_from}});
    return outcome_;
  }
  paging_.erase(from);
  answered_.insert(from);
  if (answered_.size() >= needed_) outcome_ = PhaseOutcome::kDone;
  return outcome_;
}

Commander::Commander(NodeId self, const std::vector<NodeId>& members, Ballot ballot, Slot slot,
                     BatchRef batch)
    : self_(self), members_(members), ballot_(ballot), slot_(slot), batch_(std::move(batch)) {}

void Commander::SendAccepts(Ready* ready) {
  if (outcome_ != PhaseOutcome::kWaiting) return;
  for (NodeId m : members_) {
    if (answered_.count(m) == 0) {
      ready->messages.push_back({self_, m, AcceptMsg{ballot_, slot_, batch_}});
    }
  }
}

PhaseOutcome Commander::OnAccepted(NodeId from, const AcceptedMsg& msg) {
  if (outcome_ != PhaseOutcome::kWaiting || !IsMember(members_, from) || msg.slot != slot_) {
    return outcome_;
  }
  if (msg.ballot > ballot_) {
    preempted_by_ = msg.ballot;
    return outcome_ = PhaseOutcome::kPreempted;
  }
  if (msg.ballot != ballot_) return outcome_;  // Late answer to an older ballot.
  answered_.insert(from);
  if (answered_.size() >= Majority(members_)) outcome_ = PhaseOutcome::kDone;
  return outcome_;
}

}  // namespace synod
