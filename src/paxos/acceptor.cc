#include "paxos/acceptor.h"

#include "paxos/limits.h"

namespace synod {

Acceptor::Acceptor(NodeId self, Ballot promised, std::map<Slot, PValue> accepted,
                   Slot compacted_below, size_t page_bytes)
    : self_(self),
      promised_(promised),
      accepted_(std::move(accepted)),
      compacted_below_(compacted_below),
      page_bytes_(page_bytes) {}

void Acceptor::Promise(const Ballot& ballot, Ready* ready) {
  if (ballot <= promised_) return;
  promised_ = ballot;
  DurableWrite w;
  w.kind = DurableWrite::Kind::kPromise;
  w.ballot = ballot;
  ready->to_persist.push_back(std::move(w));
}

void Acceptor::StartVoting(Slot floor, const Ballot& ballot, Ready* ready) {
  Compact(floor);
  Promise(ballot, ready);
  voting_ = true;
}

void Acceptor::OnPrepare(NodeId from, const PrepareMsg& msg, Ready* ready) {
  if (!voting_) return;
  const bool fresh = msg.ballot > promised_;
  Promise(msg.ballot, ready);
  // Reply even when the ballot is stale: the higher promised ballot preempts the scout.
  PromiseMsg reply{promised_, compacted_below_, {}, fresh, msg.slot_first, 0};
  if (promised_ == msg.ballot) {
    size_t bytes = 0;
    for (auto it = accepted_.lower_bound(msg.slot_first); it != accepted_.end(); ++it) {
      const size_t b = it->second.batch->PayloadBytes();
      if (!reply.accepted.empty() &&
          (bytes + b > page_bytes_ || reply.accepted.size() >= limits::kPromiseValuesPerPageMax)) {
        reply.more_from = it->first;  // The scout asks again from here.
        break;
      }
      bytes += b;
      reply.accepted.push_back(it->second);
    }
  }
  ready->messages.push_back({self_, from, std::move(reply)});
}

void Acceptor::OnAccept(NodeId from, const AcceptMsg& msg, Ready* ready) {
  if (!voting_) return;
  if (msg.ballot >= promised_ && msg.slot >= compacted_below_) {
    Promise(msg.ballot, ready);
    PValue& pv = accepted_[msg.slot];
    // Paxos Made Simple, P2c: a leader sends one value per (ballot, slot), so re-accepting at
    // the same ballot only happens on a retransmit and must carry the same batch.
    if (!(pv.ballot == msg.ballot && SameBatch(pv.batch, msg.batch))) {
      pv = PValue{msg.slot, msg.ballot, msg.batch};
      DurableWrite w;
      w.kind = DurableWrite::Kind::kAccept;
      w.slot = msg.slot;
      w.ballot = msg.ballot;
      w.batch = msg.batch;
      ready->to_persist.push_back(std::move(w));
    }
  }
  ready->messages.push_back({self_, from, AcceptedMsg{promised_, msg.slot}});
}

void Acceptor::OnConfirm(NodeId from, const ConfirmMsg& msg, Ready* ready) {
  if (!voting_) return;
  ready->messages.push_back({self_, from, ConfirmedMsg{promised_, msg.round}});
}

void Acceptor::Compact(Slot slot) {
  if (slot <= compacted_below_) return;
  compacted_below_ = slot;
  accepted_.erase(accepted_.begin(), accepted_.lower_bound(slot));
}

std::string Acceptor::CheckInvariants() const {
  for (const auto& [slot, pv] : accepted_) {
    if (pv.ballot > promised_) return "acceptor: accepted ballot above promised ballot";
    if (slot < compacted_below_) return "acceptor: pvalue below compaction point";
    if (pv.slot != slot || !pv.batch) return "acceptor: malformed pvalue";
  }
  return "";
}

}  // namespace synod
