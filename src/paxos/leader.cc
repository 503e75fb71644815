#include "paxos/leader.h"

#include <algorithm>

#include "paxos/limits.h"
#include "paxos/membership.h"
#include "paxos/replica.h"

namespace synod {

Leader::Leader(const CoreConfig& config, const Replica* replica, Prng* prng)
    : config_(config), replica_(replica), prng_(prng) {}

void Leader::StartScout(uint64_t tick, Ready* ready, bool rejoin) {
  if (state_ != State::kIdle || tick < backoff_until_tick_) return;
  ballot_ = Ballot{std::max(ballot_.round, highest_seen_.round) + 1, config_.self};
  highest_seen_ = ballot_;
  const Slot first = replica_->slot_next();
  scout_ = std::make_unique<Scout>(config_.self, replica_->ConfigAt(first).Voters(), ballot_, first,
                                   rejoin);
  state_ = State::kScouting;
  last_retransmit_tick_ = tick;
  scout_start_tick_ = tick;
  scout_->SendPrepares(ready);
}

void Leader::OnPromise(NodeId from, const PromiseMsg& msg, uint64_t tick, Ready* ready) {
  if (config_.planted_bug == PlantedBug::kScoutTakesFirstPage && msg.more_from != 0) {
    PromiseMsg first_page_only = msg;
    first_page_only.more_from = 0;  // The pvalues of later pages are never asked for.
    return OnPromise(from, first_page_only, tick, ready);
  }
  if (state_ == State::kActive && extension_) return OnExtensionPromise(from, msg, tick, ready);
  if (state_ != State::kScouting) return ObserveBallot(msg.ballot, tick);
  switch (scout_->OnPromise(from, msg, ready)) {
    case PhaseOutcome::kDone:
      return Adopt(tick, ready);
    case PhaseOutcome::kPreempted:
      return StepDown(scout_->preempted_by(), tick);
    case PhaseOutcome::kWaiting:
      return;
  }
}

// Adopted: a majority promised ballot_ for every slot >= slot_first. Re-propose what they
// accepted (highest ballot per slot wins, P2c), no-ops in the holes, then phase 2 only.
void Leader::Adopt(uint64_t tick, Ready* ready) {
  // Below the highest compaction point every slot is decided (acceptors compact only under a
  // durable snapshot) and the promises may lack their pvalues: never propose there; the
  // replica learns those slots by catch-up.
  const Slot floor = std::max(scout_->slot_first(), scout_->compacted_below());
  if (scout_->rejoin() && !RejoinSettled(*scout_)) {
    // Core, "Membership": a rejoin needs one configuration over the whole range it adopts.
    StepDown(ballot_, tick);
    return;
  }
  covered_.clear();
  covered_.insert(scout_->members());  // The voters it asked (the history may have moved).
  Slot top = floor;                    // One past the highest slot known to be in use.
  for (const auto& [slot, pv] : scout_->pvalues()) top = std::max(top, slot + 1);
  top = std::max(top, replica_->max_decided() + 1);
  state_ = State::kActive;
  answered_at_ballot_.clear();
  next_slot_ = top;
  confirmed_slot_ = 0;
  ForgetReadRounds();
  last_timestamp_ns_ = std::max(last_timestamp_ns_, replica_->last_timestamp_ns());
  adopt_timestamp_ns_ = last_timestamp_ns_;
  adopt_next_ = floor;
  adopt_top_ = top;
  adopt_values_.clear();
  if (scout_->rejoin()) {
    rejoin_top_ = top;
    rejoin_ballot_ = ballot_;
  }
  for (const auto& [slot, pv] : scout_->pvalues()) {
    if (slot < floor) continue;
    // New batches go above every re-proposed one in cluster time too.
    last_timestamp_ns_ = std::max(last_timestamp_ns_, pv.batch->timestamp_ns);
    if (config_.planted_bug != PlantedBug::kLeaderIgnoresPromises) {
      adopt_values_.emplace(slot, pv);
    }
  }
  scout_.reset();
  last_retransmit_tick_ = tick;
  Announce(ready);
  last_heartbeat_tick_ = tick;
  Flush(ready);
}

void Leader::OnAccepted(NodeId from, const AcceptedMsg& msg, uint64_t tick, Ready* ready) {
  if (state_ != State::kActive) return ObserveBallot(msg.ballot, tick);
  if (msg.ballot == ballot_) {  // Also for a slot decided already (a late answer).
    Slot& answered = answered_at_ballot_[from];
    answered = std::max(answered, msg.slot);
  }
  auto it = commanders_.find(msg.slot);
  if (it == commanders_.end()) return ObserveBallot(msg.ballot, tick);
  switch (it->second.OnAccepted(from, msg)) {
    case PhaseOutcome::kDone: {
      // An acceptor that accepted this batch at our ballot already has it: it gets the slot and
      // ballot only, and its replica takes the batch from its acceptor (its answer is in
      // answered_at_ballot_). So does one that is accepting this ballot's slots (it answered
      // one lately) but has not answered this one yet: our Accept reaches it before this Decision
      // (one connection, in order), so it most likely holds the batch by then. Otherwise (the
      // Accept was lost or refused) its replica's gap detection fetches the slot
      // (Core::OnDecision). In a 3-node cluster the slower follower got every batch twice before:
      // in the Accept and in the Decision.
      const Commander& c = it->second;
      confirmed_slot_ = std::max(confirmed_slot_, msg.slot);
      for (NodeId m : DecisionRecipients(msg.slot)) {
        const bool has_it = m != config_.self && AcceptingLately(c, m);
        ready->messages.push_back(
            {config_.self, m, DecisionMsg{msg.slot, ballot_, has_it ? nullptr : c.batch()}});
      }
      commanders_.erase(it);
      return Flush(ready);
    }
    case PhaseOutcome::kPreempted:
      return StepDown(it->second.preempted_by(), tick);
    case PhaseOutcome::kWaiting:
      return;
  }
}

void Leader::OnPropose(const ProposeMsg& msg, Ready* ready) {
  if (state_ != State::kActive) return;  // The replica retries at the next leader.
  for (const Command& c : msg.commands) {
    if (queue_.size() >= limits::kProposeQueueMax) break;
    if (queued_ids_.insert({c.client_id, c.request_id}).second) queue_.push_back(c);
  }
  Flush(ready);
}

void Leader::ObserveBallot(const Ballot& ballot, uint64_t tick) {
  if (ballot > highest_seen_) highest_seen_ = ballot;
  if (ballot > ballot_ && state_ != State::kIdle) StepDown(ballot, tick);
}

void Leader::StepDown(const Ballot& by, uint64_t tick) {
  if (by > highest_seen_) highest_seen_ = by;
  state_ = State::kIdle;
  transfer_to_ = 0;
  scout_.reset();
  extension_.reset();
  covered_.clear();
  commanders_.clear();
  adopt_values_.clear();
  adopt_next_ = adopt_top_ = 0;
  queue_.clear();
  queued_ids_.clear();
  confirmed_slot_ = barrier_slot_ = 0;
  ForgetReadRounds();
  backoff_until_tick_ = tick + prng_->Range(config_.backoff_min_ticks, config_.backoff_max_ticks);
}

// Packs everything queued into new slots while the window has room: one slot per flush, so
// batches grow while slots are in flight and shrink when idle.
void Leader::Flush(Ready* ready) {
  while (state_ == State::kActive && commanders_.size() < config_.window) {
    // First what adoption found in use, in slot order: the pvalue, else a no-op in a hole.
    // Everything below slot_next is decided (it may have jumped far: a Welcome's snapshot).
    if (adopt_next_ < adopt_top_ && adopt_next_ < replica_->slot_next()) {
      adopt_next_ = replica_->slot_next();
      adopt_values_.erase(adopt_values_.begin(), adopt_values_.lower_bound(adopt_next_));
    }
    const bool adopting = adopt_next_ < adopt_top_;
    // A slot may be decided without us: while an extension scout waits, a leader with a lower
    // ballot can still choose values in slots of that configuration (Core, "Membership").
    if (!adopting) SkipDecided();
    // A decided membership change governs from a later slot: an idle cluster gets there with
    // no-ops instead of waiting for traffic.
    const bool pending_config = next_slot_ < replica_->latest_config().from;
    // A read waits for a slot launched after it arrived; with no command queued, a no-op.
    const bool barrier = barrier_slot_ != 0 && barrier_slot_ >= next_slot_;
    if (!adopting && (transfer_to_ != 0 || (queue_.empty() && !pending_config && !barrier))) {
      return;
    }
    const Slot slot = adopting ? adopt_next_ : next_slot_;
    if (adopting && replica_->IsDecided(slot)) {
      adopt_values_.erase(adopt_next_++);
      continue;
    }
    if (!MayOpen(slot, ready)) return;
    BatchRef batch;
    if (adopting) {
      ++adopt_next_;
      if (auto it = adopt_values_.find(slot); it != adopt_values_.end()) {
        batch = std::move(it->second.batch);
        adopt_values_.erase(it);
      } else {
        auto noop = std::make_shared<Batch>();
        noop->timestamp_ns = adopt_timestamp_ns_;
        batch = std::move(noop);
      }
      adopt_timestamp_ns_ = std::max(adopt_timestamp_ns_, batch->timestamp_ns);
    } else {
      auto fresh = std::make_shared<Batch>();
      size_t bytes = 0;
      while (!queue_.empty() && fresh->commands.size() < limits::kCommandsPerBatchMax &&
             (fresh->commands.empty() ||
              bytes + queue_.front().payload.size() <= config_.batch_bytes)) {
        bytes += queue_.front().payload.size();
        queued_ids_.erase({queue_.front().client_id, queue_.front().request_id});
        fresh->commands.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      last_timestamp_ns_ = std::max(now_ns_, last_timestamp_ns_ + 1);
      fresh->timestamp_ns = last_timestamp_ns_;
      batch = std::move(fresh);
      ++next_slot_;
    }
    Launch(slot, std::move(batch), ready);
  }
}

void Leader::ConfirmLeadership(Slot after, Ready* ready) {
  if (state_ != State::kActive) return;
  if (after >= replica_->slot_next() + kConfigDelaySlots) {
    // n's configuration is not known yet: confirm with a slot launched after the reads.
    if (after < next_slot_) return;  // One was launched since: it will do.
    barrier_slot_ = after;
    return Flush(ready);
  }
  ReadRound r{++read_round_, after, replica_->ConfigAt(after).Voters()};
  SendReadRound(r, /*to_all=*/false, ready);
  read_rounds_.push_back(std::move(r));
  if (read_rounds_.size() > kReadRoundsMax) read_rounds_.pop_front();
}

// A round goes to a quorum only: this node's acceptor and the voters that answered the latest
// rounds (ties: the lower id). Followers that are not needed do no work for reads, and a quorum
// that falls silent is replaced at the next retransmission, which goes to every voter that has
// not answered (`to_all`).
void Leader::SendReadRound(const ReadRound& r, bool to_all, Ready* ready) const {
  // This node's acceptor first: it answers at once, without a message on the wire.
  auto rank = [&](NodeId m) { return m == config_.self ? UINT64_MAX : AnsweredRound(m); };
  std::vector<NodeId> to = r.voters;
  if (!to_all) {
    std::stable_sort(to.begin(), to.end(), [&](NodeId a, NodeId b) { return rank(a) > rank(b); });
    to.resize(to.size() / 2 + 1);
  }
  for (NodeId m : to) {
    if (m != config_.self && AnsweredRound(m) >= r.round) continue;
    ready->messages.push_back({config_.self, m, ConfirmMsg{ballot_, r.round}});
  }
}

uint64_t Leader::AnsweredRound(NodeId acceptor) const {
  auto it = confirmed_by_.find(acceptor);
  return it == confirmed_by_.end() ? 0 : it->second;
}

void Leader::OnConfirmed(NodeId from, const ConfirmedMsg& msg, uint64_t tick) {
  if (msg.ballot > ballot_) return ObserveBallot(msg.ballot, tick);
  if (state_ != State::kActive || msg.ballot != ballot_) return;
  uint64_t& answered = confirmed_by_[from];
  answered = std::max(answered, msg.round);
  // The newest round a majority of its voters answered confirms itself and the rounds before.
  for (auto r = read_rounds_.rbegin(); r != read_rounds_.rend(); ++r) {
    const size_t n = std::count_if(r->voters.begin(), r->voters.end(),
                                   [&](NodeId v) { return AnsweredRound(v) >= r->round; });
    const bool quorum =
        config_.planted_bug == PlantedBug::kReadConfirmsAlone ? n >= 1 : 2 * n > r->voters.size();
    if (!quorum) continue;
    confirmed_round_ = r->round;
    confirmed_round_after_ = r->after;
    read_rounds_.erase(read_rounds_.begin(), r.base());
    return;
  }
}

void Leader::ForgetReadRounds() {
  read_rounds_.clear();
  confirmed_by_.clear();
  confirmed_round_ = confirmed_round_after_ = 0;
}

Leader::ReadState Leader::ReadConfirmation(uint64_t round, Slot after) const {
  const bool by_slot = confirmed_slot_ != 0 && confirmed_slot_ >= after;
  const bool by_round = confirmed_round_ != 0 && confirmed_round_ >= round;
  if (!by_slot && !by_round) return ReadState::kWaiting;
  if ((by_slot && SameConfiguration(after, confirmed_slot_)) ||
      (by_round && SameConfiguration(after, confirmed_round_after_))) {
    return ReadState::kConfirmed;
  }
  return ReadState::kOtherConfiguration;
}

bool Leader::SameConfiguration(Slot a, Slot b) const {
  return replica_->ConfigAt(a).from == replica_->ConfigAt(b).from;
}

// Whether `slot` may be opened now (Core, "Membership"): its configuration must be known (every
// slot kConfigDelaySlots below it decided), this node must be one of its voters (else it hands
// leadership to one), and this ballot must have phase 1 from a majority of its voters (else an
// extension scout runs first).
bool Leader::MayOpen(Slot slot, Ready* ready) {
  if (slot >= replica_->slot_next() + kConfigDelaySlots) return false;
  const ClusterConfig& config = replica_->ConfigAt(slot);
  if (!config.IsVoter(config_.self)) return false;  // Tick hands over once nothing is in flight.

  // Phase 1 by a majority of the same voters at this ballot, from an earlier slot on, covers it.
  if (covered_.count(config.Voters()) > 0) return true;
  if (config_.planted_bug == PlantedBug::kReconfigSkipsExtension) return true;
  // One extension at a time, for the configuration the next slot needs (an older one may have
  // gone stale: its slots were decided meanwhile by a leader with a lower ballot).
  if (!extension_ || extension_->members() != config.Voters()) {
    extension_ = std::make_unique<Scout>(config_.self, config.Voters(), ballot_, config.from);
    extension_->SendPrepares(ready);
  }
  return false;
}

// An extension scout (same ballot, the next configuration's voters, from its first slot) was
// adopted: merge what it found into the range still to propose, exactly as Adopt does.
void Leader::OnExtensionPromise(NodeId from, const PromiseMsg& msg, uint64_t tick, Ready* ready) {
  switch (extension_->OnPromise(from, msg, ready)) {
    case PhaseOutcome::kWaiting:
      return;
    case PhaseOutcome::kPreempted:
      return StepDown(extension_->preempted_by(), tick);
    case PhaseOutcome::kDone:
      break;
  }
  const Slot first = extension_->slot_first();
  SkipDecided();
  // Slots already opened (or passed) were opened under a phase 1 of their own configuration;
  // only the ones still to open can need what this phase 1 found.
  const Slot cursor = adopt_next_ < adopt_top_ ? adopt_next_ : next_slot_;
  // Below an acceptor's compaction point every slot is decided (as in Adopt): never propose
  // there; the replica learns them by catch-up (Core feeds it the compaction points).
  const Slot floor = std::max(first, extension_->compacted_below());
  if (floor > cursor) {
    if (adopt_next_ < adopt_top_) {
      adopt_next_ = std::min(floor, adopt_top_);
      adopt_values_.erase(adopt_values_.begin(), adopt_values_.lower_bound(adopt_next_));
    }
    next_slot_ = std::max(next_slot_, floor);
  }
  Slot top = 0;
  for (const auto& [slot, pv] : extension_->pvalues()) {
    if (slot < std::max(floor, cursor) || replica_->IsDecided(slot)) continue;
    top = std::max(top, slot + 1);
    last_timestamp_ns_ = std::max(last_timestamp_ns_, pv.batch->timestamp_ns);
    if (config_.planted_bug == PlantedBug::kLeaderIgnoresPromises) continue;
    // Several acceptors may report the slot: the highest ballot's value (P2c). Values the
    // first scout found there are from other acceptors of the same configuration.
    auto [it, inserted] = adopt_values_.try_emplace(slot, pv);
    if (!inserted && pv.ballot > it->second.ballot) it->second = pv;
  }
  covered_.insert(extension_->members());
  extension_.reset();
  if (top > next_slot_) {
    // Nothing at or above `first` was opened (MayOpen refused it): propose the range up to top
    // before any new batch, no-ops in its holes.
    if (adopt_next_ >= adopt_top_) adopt_next_ = next_slot_;
    adopt_top_ = top;
    next_slot_ = top;
  }
  Flush(ready);
}

void Leader::Launch(Slot slot, BatchRef batch, Ready* ready) {
  auto [it, inserted] = commanders_.try_emplace(
      slot, config_.self, replica_->ConfigAt(slot).Voters(), ballot_, slot, std::move(batch));
  SYNOD_CHECK(inserted);
  it->second.SendAccepts(ready);
}

void Leader::Announce(Ready* ready) {
  ActiveMsg active{ballot_, replica_->slot_next() - 1};
  for (NodeId m : AllMembers(replica_->configs())) {
    ready->messages.push_back({config_.self, m, active});
  }
}

void Leader::Tick(uint64_t tick, uint64_t now_ns, Ready* ready) {
  now_ns_ = now_ns;
  const bool retransmit = tick - last_retransmit_tick_ >= config_.retransmit_ticks;
  if (state_ == State::kScouting && scout_->rejoin() &&
      tick - scout_start_tick_ >= config_.leader_timeout_ticks) {
    // Give the others time to elect a leader among themselves before the next try.
    StepDown(ballot_, tick);
    backoff_until_tick_ =
        tick + prng_->Range(config_.leader_timeout_ticks, 3 * config_.leader_timeout_ticks);
    return;
  }
  if (state_ == State::kScouting && retransmit) {
    scout_->SendPrepares(ready);
    last_retransmit_tick_ = tick;
  }
  if (state_ != State::kActive) return;
  if (tick - last_heartbeat_tick_ >= config_.heartbeat_ticks) {
    Announce(ready);
    last_heartbeat_tick_ = tick;
  }
  if (retransmit) {
    for (auto& [slot, commander] : commanders_) commander.SendAccepts(ready);
    if (extension_) extension_->SendPrepares(ready);
    if (!read_rounds_.empty()) SendReadRound(read_rounds_.back(), /*to_all=*/true, ready);
    last_retransmit_tick_ = tick;
  }
  if (transfer_to_ != 0) TickTransfer(tick, ready);
  Flush(ready);
  // No longer a voter of the next slot (removed) and nothing in flight: hand leadership to a
  // voter and stop leading, so that the voters stop hearing an Active that opens no slot.
  const ClusterConfig& next = replica_->ConfigAt(replica_->slot_next());
  if (state_ == State::kActive && commanders_.empty() && !next.IsVoter(config_.self)) {
    if (transfer_to_ == 0) {
      for (NodeId v : next.Voters()) {
        if (v != config_.self && BeginTransfer(v, tick)) break;
      }
      if (transfer_to_ != 0) TickTransfer(tick, ready);
    }
    StepDown(ballot_, tick);
  }
}

bool Leader::BeginTransfer(NodeId to, uint64_t tick) {
  if (state_ != State::kActive || to == config_.self) return false;
  transfer_to_ = to;
  transfer_tick_ = tick;
  take_over_sent_ = false;
  return true;
}

void Leader::TickTransfer(uint64_t tick, Ready* ready) {
  if (tick - transfer_tick_ >= config_.leader_timeout_ticks) {
    transfer_to_ = 0;  // The target did not take over: lead on.
    return;
  }
  if (take_over_sent_ || !commanders_.empty()) return;
  take_over_sent_ = true;
  ready->messages.push_back(
      {config_.self, transfer_to_, TakeOverMsg{ballot_, replica_->slot_next() - 1}});
}

void Leader::TakeOver(const Ballot& from_ballot, uint64_t tick, Ready* ready) {
  if (state_ != State::kIdle) return;
  if (from_ballot > highest_seen_) highest_seen_ = from_ballot;
  backoff_until_tick_ = 0;
  StartScout(tick, ready);
}

void Leader::SkipDecided() {
  next_slot_ = std::max(next_slot_, replica_->slot_next());  // One step, however far.
  while (replica_->IsDecided(next_slot_)) ++next_slot_;      // Held decisions: few.
}

bool Leader::AcceptingLately(const Commander& c, NodeId acceptor) const {
  if (!c.SentTo(acceptor)) return false;
  auto it = answered_at_ballot_.find(acceptor);
  return it != answered_at_ballot_.end() && it->second + 2 * Slot{config_.window} >= c.slot();
}

std::vector<NodeId> Leader::DecisionRecipients(Slot slot) const {
  // The slot's configuration, and learners added since (they catch up sooner).
  std::vector<NodeId> out;
  for (const ConfigMember& m : replica_->ConfigAt(slot).members) out.push_back(m.id);
  for (const ConfigMember& m : replica_->latest_config().members) out.push_back(m.id);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// A rejoin (Core, "Rejoining") relies on every other voter having promised its ballot for
// every slot it adopts: that holds only if one configuration governs them all, so no change
// may be pending in the history nor among the values the scout found.
bool Leader::RejoinSettled(const Scout& scout) const {
  const Slot first = scout.slot_first();
  if (replica_->ConfigAt(first).from != replica_->latest_config().from) return false;
  // The voters it asked are the latest ones (a snapshot may have moved the history meanwhile).
  if (scout.members() != replica_->latest_config().Voters()) return false;
  for (const auto& [slot, pv] : scout.pvalues()) {
    for (const Command& c : pv.batch->commands) {
      if (IsMembershipPayload(c.payload)) return false;
    }
  }
  return true;
}

std::string Leader::CheckInvariants() const {
  if ((scout_ != nullptr) != (state_ == State::kScouting)) return "leader: scout without scouting";
  if (state_ != State::kActive && !commanders_.empty()) return "leader: commanders while inactive";
  if (!ballot_.IsZero() && ballot_.node != config_.self) return "leader: ballot of another node";
  if (ballot_ > highest_seen_) return "leader: own ballot above highest seen";
  if (!commanders_.empty() && commanders_.rbegin()->first >= next_slot_) {
    return "leader: commander at or above next slot";
  }
  if (queue_.size() != queued_ids_.size()) return "leader: queue index out of sync";
  if (extension_ && state_ != State::kActive) return "leader: extension scout while inactive";
  if (!adopt_values_.empty() && adopt_values_.begin()->first < adopt_next_) {
    return "leader: adopted value kept below the adoption cursor";
  }
  for (const auto& [slot, c] : commanders_) {
    if (slot >= replica_->slot_next() + kConfigDelaySlots) {
      return "leader: slot " + std::to_string(slot) + " opened before its configuration was known";
    }
  }
  return "";
}

}  // namespace synod
