#include "net/screen.h"

#include <algorithm>

#include "paxos/limits.h"

namespace synod::net {
namespace {

// The first problem of a message, as (counter, reason); counter null when fine.
struct Verdict {
  uint64_t* counter = nullptr;
  std::string reason;
};

class Screener {
 public:
  Screener(const Envelope& e, const ScreenContext& ctx, Rejections* r) : e_(e), ctx_(ctx), r_(r) {}

  Verdict Run() {
    if (!Member(e_.from)) return Reject(&r_->not_member, "sender is not a member");
    std::visit([this](const auto& m) { Check(m); }, e_.body);
    return verdict_;
  }

 private:
  bool Member(NodeId id) const {
    return std::binary_search(ctx_.members->begin(), ctx_.members->end(), id);
  }
  Verdict Reject(uint64_t* counter, std::string reason) {
    if (verdict_.counter == nullptr) verdict_ = {counter, std::move(reason)};
    return verdict_;
  }
  // A ballot someone holds: zero (nobody's yet) or a member's.
  void BallotOfMember(const Ballot& b, const char* what) {
    if (b.round == 0 && b.node == 0) return;
    if (!Member(b.node)) {
      Reject(&r_->ballot_not_member,
             std::string(what) + " ballot of node " + std::to_string(b.node) + ", not a member");
    }
  }
  // A ballot the sender uses as its own (leaders only send their own).
  void OwnBallot(const Ballot& b, const char* what) {
    BallotOfMember(b, what);
    if (b.node != e_.from) {
      Reject(&r_->ballot_not_member, std::string(what) + " from node " + std::to_string(e_.from) +
                                         " with node " + std::to_string(b.node) + "'s ballot");
    }
  }
  void SlotInRange(Slot s, const char* what) {
    if (s > ctx_.decided_slot + limits::kSlotsAheadMax) {
      Reject(&r_->slot_outside_window,
             std::string(what) + " slot " + std::to_string(s) + " is beyond any honest sender");
    }
  }
  void CommandsWithinLimits(const std::vector<Command>& commands, const char* what) {
    size_t bytes = 0;
    for (const Command& c : commands) bytes += c.payload.size();
    if (commands.size() > limits::kCommandsPerBatchMax || bytes > limits::kBatchBytesMax) {
      Reject(&r_->batch_over_limits, std::string(what) + " beyond limits.h");
    }
  }
  void BatchWithinLimits(const BatchRef& b, const char* what) {
    if (b) CommandsWithinLimits(b->commands, what);
  }
  void Decisions(const std::vector<Decision>& ds, const char* what) {
    if (ds.size() > limits::kDecisionsPerMessageMax) {
      Reject(&r_->batch_over_limits, std::string(what) + ": too many decisions");
    }
    for (const Decision& d : ds) {
      SlotInRange(d.slot, what);
      BatchWithinLimits(d.batch, what);
    }
  }

  void Check(const PrepareMsg& m) {
    OwnBallot(m.ballot, "Prepare");
    SlotInRange(m.slot_first, "Prepare");
  }
  void Check(const PromiseMsg& m) {
    BallotOfMember(m.ballot, "Promise");
    SlotInRange(m.page_from, "Promise page");
    SlotInRange(m.more_from, "Promise next page");
    for (const PValue& p : m.accepted) {
      BallotOfMember(p.ballot, "Promise pvalue");
      SlotInRange(p.slot, "Promise pvalue");
      BatchWithinLimits(p.batch, "Promise pvalue batch");
    }
  }
  void Check(const AcceptMsg& m) {
    OwnBallot(m.ballot, "Accept");
    SlotInRange(m.slot, "Accept");
    BatchWithinLimits(m.batch, "Accept batch");
  }
  void Check(const AcceptedMsg& m) {
    BallotOfMember(m.ballot, "Accepted");
    SlotInRange(m.slot, "Accepted");
  }
  void Check(const ActiveMsg& m) {
    OwnBallot(m.ballot, "Active");
    SlotInRange(m.decided_slot, "Active");
  }
  void Check(const DecisionMsg& m) {
    OwnBallot(m.ballot, "Decision");
    SlotInRange(m.slot, "Decision");
    BatchWithinLimits(m.batch, "Decision batch");
  }
  void Check(const DecisionsMsg& m) { Decisions(m.decisions, "Decisions"); }
  void Check(const ConfirmMsg& m) { OwnBallot(m.ballot, "Confirm"); }
  void Check(const ConfirmedMsg& m) { BallotOfMember(m.ballot, "Confirmed"); }
  void Check(const WelcomeMsg& m) {
    SlotInRange(m.snapshot.slot, "Welcome snapshot");
    Decisions(m.decisions, "Welcome");
  }
  void Check(const CatchupMsg& m) { SlotInRange(m.slot_first, "Catchup"); }
  void Check(const ProposeMsg& m) { CommandsWithinLimits(m.commands, "Propose"); }
  void Check(const SnapshotFetchMsg& m) { SlotInRange(m.slot, "SnapshotFetch"); }
  void Check(const SnapshotChunkMsg& m) { SlotInRange(m.slot, "SnapshotChunk"); }
  template <typename Other>
  void Check(const Other&) {}  // Join, Invoke(d), status: nothing that needs the cluster.

  const Envelope& e_;
  const ScreenContext& ctx_;
  Rejections* r_;
  Verdict verdict_;
};

}  // namespace

bool Screen(const Envelope& e, const ScreenContext& ctx, Rejections* rejections,
            std::string* reason) {
  Verdict v = Screener(e, ctx, rejections).Run();
  if (v.counter == nullptr) return true;
  ++*v.counter;
  *reason = std::move(v.reason);
  return false;
}

}  // namespace synod::net
