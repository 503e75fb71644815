// Leader: the proposer of Multi-Paxos ("Clustering by Consensus": Leader with its Scout and
// Commanders).
//
// Life cycle: idle -> scouting (one Scout, phase 1 over every slot >= the replica's first
// undecided slot) -> active (adopted: re-propose every pvalue the promises reported, fill the
// holes below the highest of them with no-ops, then run phase 2 only, one Commander per slot,
// at most `window` in flight) -> idle again when any acceptor reports a higher ballot
// (preempted), after which it waits a random number of ticks before it may scout again, so
// two proposers do not duel forever.
//
// Commands arrive in Propose messages and wait in a bounded queue; whenever fewer than
// `window` slots are in flight the queue is flushed into one new slot (batches grow under load
// and shrink when idle, no timer). A chosen slot is announced with a Decision to every member.
// While active it sends Active heartbeats.
//
// Transfer (planned maintenance, `synod leader transfer`): an active leader asked to hand over
// to member T stops opening new slots (commands wait in the queue), and once every slot it had
// in flight is decided (so T got their Decisions, on the same ordered link, before what
// follows) it sends T a TakeOver with its ballot. T scouts at once with a higher ballot; its
// Active makes the old leader step down, and replicas re-send the queued commands to T. The
// pause is the drain plus one phase 1, well under a leader timeout. If T has not taken over
// within leader_timeout_ticks the old leader resumes (it never left the cluster leaderless).
// Safety is plain Paxos: T's scout is an ordinary scout, the transfer only times it.
//
// Owned by one Core; single-threaded. Reads its node's Replica (const) for the decided prefix.
// Invariant: scout_ is set exactly while scouting; commanders_ is empty unless active.
// Invariant: every commander's slot < next_slot_; commanders_.size() <= window.
// Invariant: adopt_next_ <= adopt_top_ == next_slot_ while slots found at adoption remain to be
// proposed; Flush proposes them (their pvalue, else a no-op) in slot order before any new
// batch, a window at a time, so a huge range (a hostile Promise naming a far slot; found by the
// wire fuzzer) costs no more memory than a window.
// Invariant: every commander's slot < the replica's slot_next + kConfigDelaySlots, and its
// Accepts go to the voters of that slot's configuration (Core, "Membership").
//
// Membership. Each slot has one configuration (membership.h) and the leader runs both phases
// for a slot with that configuration's voters: the Scout with those of its first slot; before
// opening the first slot of a later configuration, an extension scout with the same ballot
// asks that configuration's voters for phase 1 from its first slot on, and what they report
// is proposed exactly like what the first scout found. A leader whose next slot it is not a
// voter of hands leadership to one that is (Transfer).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "paxos/config.h"
#include "paxos/message.h"
#include "paxos/prng.h"
#include "paxos/scout.h"

namespace synod {

class Replica;

class Leader {
 public:
  enum class State { kIdle, kScouting, kActive };

  Leader(const CoreConfig& config, const Replica* replica, Prng* prng);

  // Starts phase 1 with a ballot above every ballot seen, unless already scouting or active,
  // or still backing off after a preemption (then it is retried on a later call). A `rejoin`
  // scout (Scout, Core "Rejoining") gives up after leader_timeout_ticks without adoption, so
  // that a member it waits for (down, or rejoining too) does not keep the cluster leaderless.
  void StartScout(uint64_t tick, Ready* ready, bool rejoin = false);

  void OnPromise(NodeId from, const PromiseMsg& msg, uint64_t tick, Ready* ready);
  void OnAccepted(NodeId from, const AcceptedMsg& msg, uint64_t tick, Ready* ready);
  void OnPropose(const ProposeMsg& msg, Ready* ready);
  // Any ballot seen anywhere (Active, Promise, Accepted). A higher one than ours makes an
  // active or scouting leader step down.
  void ObserveBallot(const Ballot& ballot, uint64_t tick);

  void Tick(uint64_t tick, uint64_t now_ns, Ready* ready);

  // Starts handing leadership to `to` (see "Transfer"). False when not active.
  bool BeginTransfer(NodeId to, uint64_t tick);
  // This node is the target of a transfer away from `from_ballot`: scout now.
  void TakeOver(const Ballot& from_ballot, uint64_t tick, Ready* ready);
  NodeId transfer_to() const { return transfer_to_; }

  // Reads without the log (the node's read path). ConfirmLeadership asks that a slot at or
  // above `after` (a next_slot() the caller saw) be launched soon: the next batch of commands,
  // or a no-op when none is queued; nothing when one was launched since. confirmed_slot() is the
  // highest slot a commander of the current ballot saw chosen (0 after an adoption or a step-down).
  // Once confirmed_slot() >= next_slot() as it was when a read arrived, a majority accepted at our
  // ballot after the read arrived, so no higher ballot had been adopted by then and every value
  // chosen by then is below that next_slot() (ours, or found at adoption): a read of the state
  // with every slot below it applied is linearizable (node/node.h, "Reads"). That quorum
  // argument needs one set of voters: SameConfiguration(after, confirmed_slot()) must hold
  // (Core, "Membership"), else the read goes through the log.
  void ConfirmLeadership(Slot after, Ready* ready);
  Slot next_slot() const { return next_slot_; }
  Slot confirmed_slot() const { return confirmed_slot_; }
  bool SameConfiguration(Slot a, Slot b) const;

  State state() const { return state_; }
  bool active() const { return state_ == State::kActive; }
  const Ballot& ballot() const { return ballot_; }
  size_t in_flight() const { return commanders_.size(); }
  // One past the highest slot in use when a rejoin scout was last adopted (0: never), and
  // that scout's ballot.
  Slot rejoin_top() const { return rejoin_top_; }
  const Ballot& rejoin_ballot() const { return rejoin_ballot_; }
  size_t queued() const { return queue_.size(); }

  std::string CheckInvariants() const;

 private:
  void Adopt(uint64_t tick, Ready* ready);
  void StepDown(const Ballot& by, uint64_t tick);
  void Flush(Ready* ready);
  void Launch(Slot slot, BatchRef batch, Ready* ready);
  void Announce(Ready* ready);
  void TickTransfer(uint64_t tick, Ready* ready);
  bool MayOpen(Slot slot, Ready* ready);
  void OnExtensionPromise(NodeId from, const PromiseMsg& msg, uint64_t tick, Ready* ready);
  std::vector<NodeId> DecisionRecipients(Slot slot) const;
  // `acceptor` gets c's Accepts and answered one of this ballot at most 2 * window slots
  // before c's (c's own included).
  bool AcceptingLately(const Commander& c, NodeId acceptor) const;
  void SkipDecided();
  bool RejoinSettled(const Scout& scout) const;

  const CoreConfig& config_;
  const Replica* replica_;
  Prng* prng_;

  State state_ = State::kIdle;
  Ballot ballot_;
  Ballot highest_seen_;
  uint64_t backoff_until_tick_ = 0;
  uint64_t last_retransmit_tick_ = 0;
  uint64_t scout_start_tick_ = 0;
  uint64_t last_heartbeat_tick_ = 0;
  uint64_t now_ns_ = 0;
  uint64_t last_timestamp_ns_ = 0;  // Highest batch timestamp this leader proposed or saw.
  std::unique_ptr<Scout> scout_;
  std::map<Slot, Commander> commanders_;
  // Per acceptor, the highest slot it answered an Accept for at ballot_ (cleared at each
  // adoption). One that answered within the last 2 * window slots is taken to be accepting
  // the slots after: it gets Decisions without the batch even before it answers (OnAccepted).
  std::map<NodeId, Slot> answered_at_ballot_;
  Slot next_slot_ = 1;
  Slot confirmed_slot_ = 0;  // Highest slot chosen by a commander of ballot_ (0: none yet).
  Slot barrier_slot_ = 0;    // Launch a slot >= this even if no command is queued (0: none).
  Slot adopt_next_ = 0;      // Next slot of [floor, top) found at adoption.
  Slot adopt_top_ = 0;       // top at adoption.
  uint64_t adopt_timestamp_ns_ = 0;      // Running batch timestamp over that range.
  std::map<Slot, PValue> adopt_values_;  // Its pvalues not proposed yet.
  // Phase 1 of ballot_ is done with a majority of each of these voter sets, for every slot of a
  // configuration with those voters (Core, "Membership"); extension_ runs it for the next one.
  std::set<std::vector<NodeId>> covered_;
  std::unique_ptr<Scout> extension_;
  NodeId transfer_to_ = 0;  // Handing over to this member (0: no transfer).
  uint64_t transfer_tick_ = 0;
  bool take_over_sent_ = false;
  Slot rejoin_top_ = 0;
  Ballot rejoin_ballot_;
  std::deque<Command> queue_;
  std::set<std::pair<uint64_t, uint64_t>> queued_ids_;  // (client_id, request_id) in queue_.
};

}  // namespace synod
