// Acceptor: the memory of the cluster (Paxos Made Simple, phase 1b and 2b).
//
// It promises never to accept below the highest ballot it has promised, and remembers the
// latest (ballot, batch) it accepted per slot. Both facts are handed to the driver as
// DurableWrite records in the SAME Ready as the Promise/Accepted that reports them, so a
// driver that persists before sending never reports what it could forget (P2c relies on it).
//
// Owned by one Core; single-threaded.
// Invariant: every accepted pvalue's ballot <= promised_.
// Invariant: every accepted slot >= compacted_below_.
#pragma once

#include <map>
#include <string>

#include "paxos/config.h"
#include "paxos/message.h"

namespace synod {

class Acceptor {
 public:
  // A Promise holds pvalues of at most `page_bytes` payload bytes beyond its first and at
  // most limits::kPromiseValuesPerPageMax of them; the scout asks for the rest page by page.
  Acceptor(NodeId self, Ballot promised, std::map<Slot, PValue> accepted, Slot compacted_below,
           size_t page_bytes = CoreConfig{}.page_bytes);

  void OnPrepare(NodeId from, const PrepareMsg& msg, Ready* ready);
  void OnAccept(NodeId from, const AcceptMsg& msg, Ready* ready);
  // Reads without the log (Leader, "Reads"): answers with the promise as it is in memory, which
  // is never below any promise this acceptor reported (Promises and Accepteds leave after their
  // write), so nothing is written or awaited. A rejoining acceptor is silent.
  void OnConfirm(NodeId from, const ConfirmMsg& msg, Ready* ready);

  // Drops pvalues below `slot` (they are decided and covered by a durable snapshot).
  void Compact(Slot slot);

  // A rejoining node's acceptor may have forgotten votes, so it answers no Prepare or Accept
  // (Core, "Rejoining") until StartVoting: from then on it holds nothing below `floor` (its
  // Promises say so, and it refuses Accepts there) and has promised at least `ballot`.
  void StopVoting() { voting_ = false; }
  void StartVoting(Slot floor, const Ballot& ballot, Ready* ready);
  bool voting() const { return voting_; }

  const Ballot& promised() const { return promised_; }
  const std::map<Slot, PValue>& accepted() const { return accepted_; }
  Slot compacted_below() const { return compacted_below_; }

  // Empty when every invariant holds, else a description of the first broken one.
  std::string CheckInvariants() const;

 private:
  void Promise(const Ballot& ballot, Ready* ready);

  NodeId self_;
  Ballot promised_;
  std::map<Slot, PValue> accepted_;
  Slot compacted_below_ = 0;
  size_t page_bytes_;
  bool voting_ = true;
};

}  // namespace synod
