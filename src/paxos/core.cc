#include "paxos/core.h"

#include <algorithm>

#include "paxos/membership.h"

namespace synod {
namespace {

Acceptor MakeAcceptor(const CoreConfig& config, const RecoveredState& r) {
  if (config.planted_bug == PlantedBug::kAcceptorForgetsOnRestart) {
    return Acceptor(config.self, Ballot{}, {}, 0, config.page_bytes);  // The reference's amnesia.
  }
  Slot compacted = r.decided.empty() ? r.snapshot.slot + 1 : r.decided.begin()->first;
  if (!r.accepted.empty()) compacted = std::min(compacted, r.accepted.begin()->first);
  Acceptor acceptor(config.self, r.promised, r.accepted, r.snapshot.slot > 0 ? compacted : 0,
                    config.page_bytes);
  acceptor.Compact(r.membership.vote_floor);  // A rejoined acceptor holds nothing below it.
  if (r.joined && (r.membership.rejoining || r.membership.learning)) acceptor.StopVoting();
  return acceptor;
}

}  // namespace

const char* RoleName(Core::Role role) {
  switch (role) {
    case Core::Role::kLearner:
      return "learner";
    case Core::Role::kFollower:
      return "follower";
    case Core::Role::kLeader:
      return "leader";
  }
  return "unknown";
}

Core::Core(CoreConfig config, RecoveredState recovered)
    : config_(std::move(config)),
      prng_(config_.seed),
      joined_(recovered.joined),
      membership_(recovered.membership),
      acceptor_(MakeAcceptor(config_, recovered)),
      bootstrap_(config_) {
  SYNOD_CHECK(std::is_sorted(config_.members.begin(), config_.members.end()));
  SYNOD_CHECK(std::binary_search(config_.members.begin(), config_.members.end(), config_.self));
  replica_ = std::make_unique<Replica>(config_, recovered.snapshot, std::move(recovered.decided),
                                       std::move(recovered.configs));
  leader_ = std::make_unique<Leader>(config_, replica_.get(), &prng_);
  // Our next ballot must be above what our own acceptor promised, or a restarted leader could
  // reuse a ballot whose values its acceptor never accepted (a rejoined acceptor's promise).
  leader_->ObserveBallot(acceptor_.promised(), 0);
  if (!joined_ && config_.self == config_.members.front()) seed_.emplace(config_);
}

void Core::Start(Ready* ready) {
  if (joined_) replica_->Start(ready);
  if (seed_ && seed_->complete()) Form(ready);  // A one-node cluster: nobody else to ask.
}

Core::Role Core::role() const {
  if (!joined_) return Role::kLearner;
  if (leader_->active()) return Role::kLeader;
  return membership_.rejoining || membership_.learning || removed() ? Role::kLearner
                                                                    : Role::kFollower;
}

const std::vector<ClusterConfig>& Core::configs() const { return replica_->configs(); }

const ClusterConfig& Core::current_config() const {
  return replica_->ConfigAt(replica_->slot_next());
}

bool Core::removed() const {
  if (!joined_) return false;
  const Slot from = current_config().from;
  for (const ClusterConfig& c : replica_->configs()) {
    if (c.from >= from && c.Has(config_.self)) return false;
  }
  return true;
}

bool Core::CanLead() const {
  return joined_ && !membership_.learning && current_config().IsVoter(config_.self);
}

// Before joining: the nodes of the cluster spec. After: every node the configuration history
// names, voter or learner (a learner must be able to Join and ask for catch-up).
bool Core::IsMember(NodeId id) {
  if (!joined_) return std::binary_search(config_.members.begin(), config_.members.end(), id);
  if (known_version_ != replica_->configs_version() || known_.empty()) {
    known_ = AllMembers(replica_->configs());
    known_version_ = replica_->configs_version();
  }
  return std::binary_search(known_.begin(), known_.end(), id);
}

void Core::Step(const Envelope& envelope, Ready* ready) {
  // Peers must be members; clients (from == kClientEndpoint) may only Invoke.
  const bool from_client = envelope.from == kClientEndpoint;
  if (from_client != std::holds_alternative<InvokeMsg>(envelope.body)) return;
  if (!from_client && !IsMember(envelope.from)) return;
  size_t mark = ready->messages.size();
  Handle(envelope, ready);
  DeliverLocal(ready, mark);
}

void Core::Tick(uint64_t now_ns, Ready* ready) {
  ++tick_;
  now_ns_ = now_ns;
  size_t mark = ready->messages.size();
  if (!joined_) {
    bootstrap_.Tick(tick_, ready);
  } else {
    leader_->Tick(tick_, now_ns_, ready);
    const bool rejoin_scout = membership_.rejoining && vote_floor_ == 0;
    const bool probe =
        (membership_.learning || !current_config().IsVoter(config_.self)) && !removed();
    if (replica_->Tick(tick_, leader_->active(), ready, probe) && CanLead()) {
      leader_->StartScout(tick_, ready, rejoin_scout);
    }
    if (membership_.rejoining) RecoverVote(ready);
    const ClusterConfig& latest = replica_->latest_config();
    if (membership_.learning || (latest.Has(config_.self) && !latest.IsVoter(config_.self))) {
      Promote(ready);
    }
  }
  DeliverLocal(ready, mark);
}

// Moves messages addressed to this node out of the Ready and handles them, in order, until
// no role has anything more to say to itself.
void Core::DeliverLocal(Ready* ready, size_t mark) {
  for (;;) {
    auto& out = ready->messages;
    size_t kept = mark;
    for (size_t i = mark; i < out.size(); ++i) {
      if (out[i].to == config_.self) {
        local_.push_back(std::move(out[i]));
      } else {
        if (kept != i) out[kept] = std::move(out[i]);
        ++kept;
      }
    }
    out.resize(kept);
    if (local_.empty()) return;
    Envelope next = std::move(local_.front());
    local_.pop_front();
    mark = out.size();
    Handle(next, ready);
  }
}

void Core::Handle(const Envelope& e, Ready* ready) {
  const NodeId from = e.from;
  if (auto* m = std::get_if<JoinMsg>(&e.body)) return OnJoin(from, *m, ready);
  if (auto* m = std::get_if<WelcomeMsg>(&e.body)) return OnWelcome(*m, ready);
  if (auto* m = std::get_if<InvokeMsg>(&e.body)) return OnInvoke(*m, ready);
  if (!joined_) return;  // Everything below is for members only.
  if (auto* m = std::get_if<ProposeMsg>(&e.body)) return leader_->OnPropose(*m, ready);
  if (auto* m = std::get_if<DecisionMsg>(&e.body)) return OnDecision(*m, ready);
  if (auto* m = std::get_if<PrepareMsg>(&e.body)) return acceptor_.OnPrepare(from, *m, ready);
  if (auto* m = std::get_if<AcceptMsg>(&e.body)) return acceptor_.OnAccept(from, *m, ready);
  if (auto* m = std::get_if<ConfirmMsg>(&e.body)) return acceptor_.OnConfirm(from, *m, ready);
  if (auto* m = std::get_if<ConfirmedMsg>(&e.body)) {
    leader_->OnConfirmed(from, *m, tick_);
    return replica_->ObserveBallot(m->ballot, tick_);
  }
  if (auto* m = std::get_if<PromiseMsg>(&e.body)) {
    if (m->compacted_below > 0) replica_->ObserveDecidedBelow(m->compacted_below);
    leader_->OnPromise(from, *m, tick_, ready);
    return replica_->ObserveBallot(m->ballot, tick_);
  }
  if (auto* m = std::get_if<AcceptedMsg>(&e.body)) {
    leader_->OnAccepted(from, *m, tick_, ready);
    return replica_->ObserveBallot(m->ballot, tick_);
  }
  if (auto* m = std::get_if<ActiveMsg>(&e.body)) {
    leader_->ObserveBallot(m->ballot, tick_);
    replica_->OnActive(from, *m, tick_, ready);
    return;
  }
  if (auto* m = std::get_if<CatchupMsg>(&e.body)) return replica_->OnCatchup(from, *m, ready);
  if (auto* m = std::get_if<TakeOverMsg>(&e.body)) {
    // A rejoining node takes over only through its rejoin scout.
    if (!membership_.rejoining && CanLead()) leader_->TakeOver(m->ballot, tick_, ready);
    return;
  }
  if (auto* m = std::get_if<DecisionsMsg>(&e.body)) return replica_->OnDecisions(*m, ready);
  // InvokedMsg is for clients; a node ignores it.
}

void Core::ConfirmLeadership(Slot after, Ready* ready) {
  if (!joined_ || membership_.rejoining) return;
  const size_t mark = ready->messages.size();
  leader_->ConfirmLeadership(after, ready);
  DeliverLocal(ready, mark);
}

void Core::OnJoin(NodeId from, const JoinMsg& msg, Ready* ready) {
  if (joined_) {
    WelcomeMsg welcome = replica_->MakeWelcome(1);
    welcome.genesis = membership_.genesis;
    ready->messages.push_back({config_.self, from, std::move(welcome)});
    return;
  }
  if (seed_ && seed_->OnJoin(from, msg.incarnation)) Form(ready);
}

// Every member asked to join a cluster that does not exist yet: form it, empty.
void Core::Form(Ready* ready) {
  membership_.genesis = seed_->Genesis();
  BecomeMember(ready);
  WelcomeMsg welcome = replica_->MakeWelcome(1);
  welcome.genesis = membership_.genesis;
  for (const auto& [id, incarnation] : seed_->joined()) {
    if (id != config_.self) ready->messages.push_back({config_.self, id, welcome});
  }
  seed_.reset();
}

void Core::OnWelcome(const WelcomeMsg& msg, Ready* ready) {
  if (!joined_) {
    const GenesisMember me{config_.self, config_.incarnation};
    const bool genesis = config_.incarnation != 0 &&
                         std::find(msg.genesis.begin(), msg.genesis.end(), me) != msg.genesis.end();
    membership_.genesis = msg.genesis;
    replica_->AdoptConfigs(msg.configs, ready);  // The cluster's history, not our --cluster.
    if (!genesis && !replica_->latest_config().IsVoter(config_.self)) {
      membership_.learning = true;  // Added by `member add`: learn, then ask to be promoted.
      acceptor_.StopVoting();
    } else if (!genesis && config_.planted_bug != PlantedBug::kRejoinVotesAtOnce) {
      membership_.rejoining = true;
      acceptor_.StopVoting();
    }
    BecomeMember(ready);
    seed_.reset();
  }
  replica_->OnWelcome(msg, ready);
  acceptor_.Compact(replica_->log_first());
}

// A Decision without a batch names one our acceptor accepted at the deciding ballot; if it is
// gone (compacted, or we never had it) the replica's gap detection fetches it instead.
void Core::OnDecision(const DecisionMsg& m, Ready* ready) {
  BatchRef batch = m.batch;
  if (!batch) {
    auto it = acceptor_.accepted().find(m.slot);
    if (it == acceptor_.accepted().end() || it->second.ballot != m.ballot) return;
    batch = it->second.batch;
  }
  replica_->OnDecision(m.slot, batch, ready);
}

void Core::OnInvoke(const InvokeMsg& msg, Ready* ready) {
  if (joined_ && replica_->OnInvoke(msg.command, tick_, ready)) return;
  InvokedMsg busy{msg.command.client_id, msg.command.request_id, false, "", replica_->leader()};
  ready->messages.push_back({config_.self, kClientEndpoint, std::move(busy)});
}

void Core::BecomeMember(Ready* ready) {
  joined_ = true;
  PersistMembership(ready);
  // The configuration it joins with (the genesis one when forming) goes to disk now: after a
  // restart with another --cluster the node must still know it (the disk wins).
  replica_->PersistConfigs(ready);
}

void Core::PersistMembership(Ready* ready) {
  DurableWrite w;
  w.kind = DurableWrite::Kind::kJoined;
  w.membership = membership_;
  ready->to_persist.push_back(std::move(w));
}

// While rejoining: lead once through a rejoin scout (learning H), then wait until the replica
// decided every slot below H, then vote again (see "Rejoining" in core.h).
void Core::RecoverVote(Ready* ready) {
  if (vote_floor_ == 0) {
    if (leader_->rejoin_top() == 0) return leader_->StartScout(tick_, ready, /*rejoin=*/true);
    vote_floor_ = std::max<Slot>(leader_->rejoin_top(), 1);
  }
  if (replica_->slot_next() < vote_floor_) return;
  membership_.rejoining = false;
  membership_.vote_floor = vote_floor_;
  PersistMembership(ready);  // Before the promise and any vote, in the same synced write.
  acceptor_.StartVoting(vote_floor_, leader_->rejoin_ballot(), ready);
}

// A learner caught up with the leader asks to become a voter (a kPromote command, retried
// while it stays a learner). A node that joined as a learner (a new data dir) starts voting
// once a configuration that counts it governs its first undecided slot: every slot below that
// configuration's first one is decided here, so its floor goes there (see "Membership"). A
// member removed and added back with its data dir kept its acceptor and never stopped voting.
void Core::Promote(Ready* ready) {
  const auto& configs = replica_->configs();
  if (membership_.learning && current_config().IsVoter(config_.self)) {
    size_t i = static_cast<size_t>(&current_config() - configs.data());
    while (i > 0 && configs[i - 1].IsVoter(config_.self)) --i;
    const Slot floor = configs[i].from;
    membership_.learning = false;
    membership_.vote_floor = std::max(membership_.vote_floor, floor);
    PersistMembership(ready);  // Before the promise and any vote, in the same synced write.
    acceptor_.StartVoting(membership_.vote_floor, Ballot{}, ready);
    return;
  }
  const ClusterConfig& latest = replica_->latest_config();
  if (!latest.Has(config_.self) || latest.IsVoter(config_.self)) return;  // Not asked, or done.
  const NodeId leader = replica_->leader();
  const bool caught_up =
      leader != 0 && leader != config_.self &&
      replica_->slot_next() + kConfigDelaySlots > replica_->leader_decided_slot();
  if (!caught_up) return;
  if (promote_tick_ != 0 && tick_ - promote_tick_ < 4 * config_.leader_timeout_ticks) return;
  promote_tick_ = tick_;
  promote_seq_ = std::max(promote_seq_ + 1, now_ns_);
  Command c{kPromoteClientBase + config_.self, promote_seq_,
            EncodeMembershipChange({MembershipChange::Op::kPromote, config_.self, ""})};
  replica_->OnInvoke(c, tick_, ready);
}

bool Core::TransferLeadership(NodeId to) {
  if (!joined_ || membership_.rejoining || !current_config().IsVoter(to)) return false;
  return leader_->BeginTransfer(to, tick_);
}

void Core::OnSnapshotTaken(const Snapshot& snapshot, Ready* ready) {
  replica_->AdoptSnapshot(snapshot, ready);
  acceptor_.Compact(replica_->log_first());
}

std::string Core::CheckInvariants() const {
  std::string e = acceptor_.CheckInvariants();
  if (e.empty()) e = replica_->CheckInvariants();
  if (e.empty()) e = leader_->CheckInvariants();
  if (e.empty() && !joined_ && leader_->state() != Leader::State::kIdle) {
    e = "core: leader acting before the node joined";
  }
  if (e.empty() && joined_ &&
      acceptor_.voting() == (membership_.rejoining || membership_.learning)) {
    e = "core: acceptor votes while rejoining or learning, or not after";
  }
  if (e.empty() && membership_.rejoining && membership_.learning) {
    e = "core: rejoining and learning at once";
  }
  return e;
}

}  // namespace synod
