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
// Reads. A read needs every value chosen before it arrived, and those all sit below the
// next_slot() n it noted (ours, or found at adoption), unless a higher ballot had been adopted
// by then. That is ruled out once a majority of the voters of n's configuration is seen, after
// the read arrived, to hold our ballot as the highest it promised: a higher ballot needs
// promises from a majority of those voters too (Raft's ReadIndex, Ongaro's thesis 6.4, is the
// same round). Two ways show it:
// - a read round: ConfirmLeadership sends Confirm{ballot, round} to a quorum of the voters of
//   ConfigAt(n) (its own acceptor and the voters that answered the latest rounds; a
//   retransmission asks every voter that has not answered) and each acceptor answers with its
//   promised ballot, writing nothing (Acceptor::OnConfirm);
//   once a majority of them answered a round r' >= r with our ballot, every read that noted a
//   round <= r' (it arrived before r' was sent) is confirmed. Rounds are numbered once per
//   leader, unanswered ones are resent with the Accepts, and at most kReadRoundsMax wait (a
//   dropped older round is covered by any later one).
// - a slot: confirmed_slot() >= n, a slot launched after the read arrived was accepted by a
//   majority at our ballot (the read path before read rounds; writes in flight still give it).
// Either way the quorum argument needs one set of voters: n's configuration must be the one of
// the round's own n' (or of the confirming slot), else the read goes through the log (Core,
// "Membership"). When n's configuration is not known yet (n >= slot_next + kConfigDelaySlots)
// ConfirmLeadership launches a slot instead (a no-op when nothing is queued). An adoption or a
// step-down forgets every confirmation.
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

  // Reads without the log (see "Reads"). A read arriving at the active leader notes ballot(),
  // next_slot() (its `after`) and read_round(); ConfirmLeadership(after) then sends that round.
  // ReadConfirmation says whether the read may be answered from a state with every slot below
  // `after` applied, must wait, or must go through the log.
  void ConfirmLeadership(Slot after, Ready* ready);
  void OnConfirmed(NodeId from, const ConfirmedMsg& msg, uint64_t tick);
  enum class ReadState { kWaiting, kConfirmed, kOtherConfiguration };
  ReadState ReadConfirmation(uint64_t round, Slot after) const;
  uint64_t read_round() const { return read_round_ + 1; }  // The next ConfirmLeadership's.
  Slot next_slot() const { return next_slot_; }
  Slot confirmed_slot() const { return confirmed_slot_; }
  uint64_t confirmed_round() const { return confirmed_round_; }
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
  // Read rounds (see "Reads"). read_round_ is the last round sent; read_rounds_ the ones sent at
  // ballot_ and not confirmed yet, ascending; confirmed_by_ the highest round each acceptor
  // answered with ballot_; confirmed_round_ the highest confirmed round and after_ its n.
  struct ReadRound {
    uint64_t round = 0;
    Slot after = 0;
    std::vector<NodeId> voters;
  };
  static constexpr size_t kReadRoundsMax = 64;
  void SendReadRound(const ReadRound& r, bool to_all, Ready* ready) const;
  uint64_t AnsweredRound(NodeId acceptor) const;  // Its confirmed_by_ entry, 0 if none.
  void ForgetReadRounds();
  uint64_t read_round_ = 0;
  std::deque<ReadRound> read_rounds_;
  std::map<NodeId, uint64_t> confirmed_by_;
  uint64_t confirmed_round_ = 0;
  Slot confirmed_round_after_ = 0;
  Slot adopt_next_ = 0;                  // Next slot of [floor, top) found at adoption.
  Slot adopt_top_ = 0;                   // top at adoption.
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
