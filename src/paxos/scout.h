// Scout and Commander: the two sub-protocols a Leader runs (Paxos Made Moderately Complex;
// "Clustering by Consensus" spawns them as short-lived roles).
//
// A Scout runs phase 1 for one ballot over every slot >= slot_first at once (Multi-Paxos: one
// Prepare covers the whole future). It collects Promises until a majority promised its ballot
// (adopted) or one acceptor reports a higher ballot (preempted). For each slot it keeps the
// pvalue with the highest ballot, which the leader must re-propose (P2c).
//
// A Commander runs phase 2 for one (ballot, slot, batch): Accept to every acceptor until a
// majority accepted (chosen) or one reports a higher ballot (preempted). Retransmits go only to
// acceptors that have not answered.
//
// Both are owned by a Leader; single-threaded; they only append to a Ready.
// Invariant (both): answered_ holds member ids only, and the outcome never goes back to
// kWaiting once decided.
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "paxos/message.h"

namespace synod {

enum class PhaseOutcome { kWaiting, kDone, kPreempted };

class Scout {
 public:
  // A rejoin scout (Core, "Rejoining") counts only the OTHER members' promises, needs every
  // one of them, and only fresh ones (each acceptor's promise was below `ballot` until this
  // Prepare): a promise that was already at `ballot` may date from a forgotten earlier life of
  // this node that used the same ballot, so it preempts instead.
  Scout(NodeId self, const std::vector<NodeId>& members, Ballot ballot, Slot slot_first,
        bool rejoin = false);

  // To every acceptor that has not promised yet (from the page it is at, see OnPromise).
  void SendPrepares(Ready* ready);
  // A Promise may come in pages (PromiseMsg::more_from): the scout asks for each next page
  // with a Prepare of the same ballot, takes pages only in the order asked, and counts the
  // acceptor once its last page arrived.
  PhaseOutcome OnPromise(NodeId from, const PromiseMsg& msg, Ready* ready);

  const Ballot& ballot() const { return ballot_; }
  Slot slot_first() const { return slot_first_; }
  const std::vector<NodeId>& members() const { return members_; }
  // Highest-ballot pvalue per slot, from the promises of the adopting majority.
  const std::map<Slot, PValue>& pvalues() const { return pvalues_; }
  // Highest compaction point reported: every slot below it is decided somewhere.
  Slot compacted_below() const { return compacted_below_; }
  const Ballot& preempted_by() const { return preempted_by_; }
  bool rejoin() const { return rejoin_; }

 private:
  NodeId self_;
  std::vector<NodeId> members_;
  Ballot ballot_;
  Slot slot_first_;
  bool rejoin_;
  size_t needed_;  // Promises that adopt the ballot.
  std::set<NodeId> answered_;
  std::map<NodeId, Slot> paging_;  // Acceptors part-way through their pages: the next page's slot.
  std::map<Slot, PValue> pvalues_;
  Slot compacted_below_ = 0;
  Ballot preempted_by_;
  PhaseOutcome outcome_ = PhaseOutcome::kWaiting;
};

class Commander {
 public:
  Commander(NodeId self, const std::vector<NodeId>& members, Ballot ballot, Slot slot,
            BatchRef batch);

  void SendAccepts(Ready* ready);  // To every acceptor that has not accepted yet.
  PhaseOutcome OnAccepted(NodeId from, const AcceptedMsg& msg);

  Slot slot() const { return slot_; }
  const BatchRef& batch() const { return batch_; }
  // True when `acceptor` is one this commander sends its Accepts to.
  bool SentTo(NodeId acceptor) const {
    return std::find(members_.begin(), members_.end(), acceptor) != members_.end();
  }
  const Ballot& preempted_by() const { return preempted_by_; }

 private:
  NodeId self_;
  std::vector<NodeId> members_;
  Ballot ballot_;
  Slot slot_;
  BatchRef batch_;
  std::set<NodeId> answered_;
  Ballot preempted_by_;
  PhaseOutcome outcome_ = PhaseOutcome::kWaiting;
};

}  // namespace synod
