// Replica: the learner and the client-facing proposer ("Clustering by Consensus": Replica).
//
// - Takes client commands (Invoke), remembers them until they are decided, and forwards them
//   to the leader it believes in (Propose), again every propose_retry_ticks until decided.
// - Learns decisions (Decision, Decisions, Welcome), persists them as the decided log, and
//   hands them to the driver strictly in slot order (Ready::decisions), each slot once.
// - Tracks the leader: Active heartbeats with a ballot >= the highest seen name the leader; a
//   replica that hears nothing for leader_timeout_ticks moves to the next member in id order,
//   the same order on every node, and if that is itself its Leader starts a Scout.
// - Recovers lost decisions: a gap below a known decision, or a leader whose decided slot is
//   ahead, makes it send Catchup; the answer is Decisions, or a Welcome carrying a snapshot
//   when the asked-for slots were compacted away.
//
// Owned by one Core; single-threaded.
// Invariant: every slot in decided_ >= log_first_ (older ones are compacted).
// Invariant: slot_next_ - 1 <= the highest slot in decided_ or the snapshot slot.
// Invariant: pending_.size() <= limits::kPendingRequestsMax.
// Invariant: configs_ is non-empty, ascending in `from`, and holds the outcome of every
// membership command in the slots it handed out (Core, "Membership").
#pragma once

#include <map>
#include <string>
#include <utility>

#include "paxos/config.h"
#include "paxos/message.h"

namespace synod {

class Replica {
 public:
  // `configs`: the recovered configuration history (empty: the genesis configuration from
  // `config`, the cluster spec).
  Replica(const CoreConfig& config, Snapshot snapshot, std::map<Slot, BatchRef> decided,
          std::vector<ClusterConfig> configs = {});

  // Emits the recovered snapshot and decided log for the driver to rebuild its state.
  void Start(Ready* ready);

  // Returns false when the command cannot be taken (too many pending).
  bool OnInvoke(const Command& command, uint64_t tick, Ready* ready);
  void OnDecision(Slot slot, const BatchRef& batch, Ready* ready);
  void OnDecisions(const DecisionsMsg& msg, Ready* ready);
  // A Welcome answering Catchup or Join: installs the snapshot if it is ahead of us.
  void OnWelcome(const WelcomeMsg& msg, Ready* ready);
  void OnCatchup(NodeId from, const CatchupMsg& msg, Ready* ready) const;
  // Returns true when `from` is now the believed leader.
  bool OnActive(NodeId from, const ActiveMsg& msg, uint64_t tick, Ready* ready);
  // Learned (preemption) that `ballot` is the highest known; its owner is the likely leader.
  void ObserveBallot(const Ballot& ballot, uint64_t tick);
  // An acceptor reported that every slot below `slot` is decided (its compaction point): a
  // replica behind it catches up, even when it is the leader and hears no Active.
  void ObserveDecidedBelow(Slot slot) { known_decided_ = std::max(known_decided_, slot - 1); }
  // The driver took a snapshot of the applied state.
  void AdoptSnapshot(const Snapshot& snapshot, Ready* ready);

  // Returns true when this node should now try to lead.
  // `probe`: ask a peer for decisions now and then even without a sign of being behind (a
  // learner: no leader may be active until it votes; Core, "Membership").
  bool Tick(uint64_t tick, bool self_active, Ready* ready, bool probe = false);

  WelcomeMsg MakeWelcome(Slot slot_first) const;
  // Takes a joiner's configuration history from its Welcome (before OnWelcome), and persists it.
  void AdoptConfigs(std::vector<ClusterConfig> configs, Ready* ready);
  // Persists the history (kConfig). Also when a node becomes a member: from then on the
  // history on disk, not --cluster, is its configuration after a restart.
  void PersistConfigs(Ready* ready);

  // Membership (Core, "Membership"): the history, the configuration governing `slot`, the
  // latest one, and a counter that moves whenever the history changes.
  const std::vector<ClusterConfig>& configs() const { return configs_; }
  const ClusterConfig& ConfigAt(Slot slot) const;
  const ClusterConfig& latest_config() const { return configs_.back(); }
  uint64_t configs_version() const { return configs_version_; }
  Slot leader_decided_slot() const { return leader_decided_slot_; }

  Slot slot_next() const { return slot_next_; }  // First slot not yet handed to the driver.
  Slot max_decided() const { return decided_.empty() ? slot_next_ - 1 : decided_.rbegin()->first; }
  Slot log_first() const { return log_first_; }
  bool IsDecided(Slot slot) const { return slot < slot_next_ || decided_.count(slot) > 0; }
  uint64_t last_timestamp_ns() const { return last_timestamp_ns_; }
  NodeId leader() const { return leader_; }
  const Ballot& highest_ballot() const { return highest_ballot_; }
  const Snapshot& snapshot() const { return snapshot_; }
  size_t pending() const { return pending_.size(); }

  std::string CheckInvariants() const;

 private:
  struct Pending {
    Command command;
    uint64_t sent_tick = 0;
  };
  void Learn(Slot slot, const BatchRef& batch, Ready* ready);
  void ApplyMembership(Slot slot, const Batch& batch, Ready* ready);
  void HandOut(Ready* ready);
  // Contiguous decided batches from `from` on, at most limits::kDecisionsPerMessageMax.
  std::vector<Decision> DecisionsFrom(
      Slot from) const;  // Hands every contiguous decided slot to the driver.
  void Forward(std::vector<Command> commands, Ready* ready);
  void RetryPending(uint64_t tick, bool all, Ready* ready);
  void MaybeCatchup(uint64_t tick, bool probe, Ready* ready);
  NodeId NextMember(NodeId after) const;

  const CoreConfig& config_;
  Snapshot snapshot_;
  std::map<Slot, BatchRef> decided_;  // Decided batches kept for catch-up and not-yet-applied.
  Slot log_first_ = 1;                // decided_ holds nothing below this slot.
  Slot slot_next_ = 1;
  uint64_t last_timestamp_ns_ = 0;

  NodeId leader_ = 0;
  Ballot highest_ballot_;
  uint64_t leader_heard_tick_ = 0;
  Slot leader_decided_slot_ = 0;  // From the leader's last Active.
  Slot known_decided_ = 0;        // Decided somewhere (ObserveDecidedBelow).
  uint64_t catchup_tick_ = 0;
  uint64_t retry_scan_tick_ = 0;
  bool catchup_sent_ = false;
  NodeId catchup_peer_ = 0;
  uint64_t probe_tick_ = 0;
  NodeId probe_peer_ = 0;

  std::map<std::pair<uint64_t, uint64_t>, Pending> pending_;  // By (client_id, request_id).

  std::vector<ClusterConfig> configs_;  // Ascending `from`, never empty.
  uint64_t configs_version_ = 0;
};

}  // namespace synod
