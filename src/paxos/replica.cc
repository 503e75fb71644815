#include "paxos/replica.h"

#include <algorithm>
#include <limits>

#include "paxos/check.h"
#include "paxos/limits.h"
#include "paxos/membership.h"

namespace synod {

namespace {

ClusterConfig Genesis(const CoreConfig& config) {
  ClusterConfig genesis;
  for (NodeId id : config.members) {
    auto it = config.addresses.find(id);
    genesis.members.push_back({id, it == config.addresses.end() ? "" : it->second, true});
  }
  return genesis;
}

}  // namespace

Replica::Replica(const CoreConfig& config, Snapshot snapshot, std::map<Slot, BatchRef> decided,
                 std::vector<ClusterConfig> configs)
    : config_(config),
      snapshot_(std::move(snapshot)),
      decided_(std::move(decided)),
      configs_(std::move(configs)) {
  if (configs_.empty()) configs_.push_back(Genesis(config_));
  slot_next_ = snapshot_.slot + 1;
  log_first_ = decided_.empty() ? slot_next_ : std::min(decided_.begin()->first, slot_next_);
  leader_ = ConfigAt(slot_next_).Voters().front();
}

const ClusterConfig& Replica::ConfigAt(Slot slot) const { return synod::ConfigAt(configs_, slot); }

void Replica::AdoptConfigs(std::vector<ClusterConfig> configs, Ready* ready) {
  if (configs.empty() || configs == configs_) return;
  configs_ = std::move(configs);
  PersistConfigs(ready);
}

void Replica::PersistConfigs(Ready* ready) {
  // A Welcome we send carries the history from our snapshot on: keep what governs it.
  PruneConfigs(&configs_, snapshot_.slot + 1);
  ++configs_version_;
  DurableWrite w;
  w.kind = DurableWrite::Kind::kConfig;
  w.configs = configs_;
  ready->to_persist.push_back(std::move(w));
}

// Applies the membership commands of a slot being handed out, in command order, unless the
// history already has that slot's outcome (membership.h, MembershipApplied).
void Replica::ApplyMembership(Slot slot, const Batch& batch, Ready* ready) {
  bool any = false;
  const bool replay = MembershipApplied(configs_, slot);
  for (const Command& c : batch.commands) {
    if (!IsMembershipPayload(c.payload)) continue;
    std::string answer = replay ? std::string("{\"ok\":false,\"error\":\"already applied\"}")
                                : ApplyMembershipChange(&configs_, slot, c.payload);
    ready->membership_results.push_back({{c.client_id, c.request_id}, std::move(answer)});
    any = true;
  }
  if (any && !replay) PersistConfigs(ready);
}

void Replica::Start(Ready* ready) {
  if (snapshot_.slot > 0) ready->install = snapshot_;
  // Replays the decided log above the snapshot: the driver rebuilds its state from both.
  HandOut(ready);
}

void Replica::HandOut(Ready* ready) {
  for (auto it = decided_.find(slot_next_); it != decided_.end(); it = decided_.find(slot_next_)) {
    for (const Command& c : it->second->commands) pending_.erase({c.client_id, c.request_id});
    last_timestamp_ns_ = std::max(last_timestamp_ns_, it->second->timestamp_ns);
    ApplyMembership(slot_next_, *it->second, ready);
    ready->decisions.push_back({slot_next_++, it->second});
  }
}

bool Replica::OnInvoke(const Command& command, uint64_t tick, Ready* ready) {
  auto key = std::make_pair(command.client_id, command.request_id);
  auto it = pending_.find(key);
  if (it == pending_.end()) {
    if (pending_.size() >= limits::kPendingRequestsMax) return false;
    it = pending_.emplace(key, Pending{command, tick}).first;
  }
  it->second.sent_tick = tick;
  Forward({command}, ready);
  return true;
}

void Replica::Learn(Slot slot, const BatchRef& batch, Ready* ready) {
  if (slot < slot_next_ || slot < log_first_ || !batch) return;
  if (!decided_.emplace(slot, batch).second) return;  // Already known.
  DurableWrite w;
  w.kind = DurableWrite::Kind::kDecide;
  w.slot = slot;
  w.batch = batch;
  ready->to_persist.push_back(std::move(w));
  HandOut(ready);
}

void Replica::OnDecision(Slot slot, const BatchRef& batch, Ready* ready) {
  Learn(slot, batch, ready);
}

void Replica::OnDecisions(const DecisionsMsg& msg, Ready* ready) {
  for (const Decision& d : msg.decisions) Learn(d.slot, d.batch, ready);
}

void Replica::OnWelcome(const WelcomeMsg& msg, Ready* ready) {
  // A snapshot at the last slot number leaves no next slot (slot_next_ would wrap to 0): no
  // honest peer sends one (slots grow by one per decision), so it is ignored. Found by the
  // wire fuzzer (tests/fuzz/wire_message/corpus/regression-welcome-at-the-last-slot).
  const bool next_exists = msg.snapshot.slot < std::numeric_limits<Slot>::max();
  if (msg.snapshot.slot >= slot_next_ && next_exists && msg.snapshot.data) {
    // Everything this Ready already handed out is older than the snapshot and inside it.
    ready->decisions.clear();
    ready->install = msg.snapshot;
    snapshot_ = msg.snapshot;
    slot_next_ = snapshot_.slot + 1;
    decided_.erase(decided_.begin(), decided_.lower_bound(slot_next_));
    log_first_ = slot_next_;
    DurableWrite snap;
    snap.kind = DurableWrite::Kind::kSnapshot;
    snap.snapshot = snapshot_;
    ready->to_persist.push_back(std::move(snap));
    DurableWrite compact;
    compact.kind = DurableWrite::Kind::kCompact;
    compact.slot = log_first_;
    ready->to_persist.push_back(std::move(compact));
    // The sender's history covers the snapshot; changes it holds from slots we are yet to
    // hand out are recognised as applied when we get there.
    AdoptConfigs(msg.configs, ready);
    HandOut(ready);  // Decisions we held beyond the snapshot may now be next.
  }
  for (const Decision& d : msg.decisions) Learn(d.slot, d.batch, ready);
}

void Replica::AdoptSnapshot(const Snapshot& snapshot, Ready* ready) {
  SYNOD_CHECK(snapshot.slot < slot_next_);
  if (snapshot.slot <= snapshot_.slot) return;
  snapshot_ = snapshot;
  DurableWrite snap;
  snap.kind = DurableWrite::Kind::kSnapshot;
  snap.snapshot = snapshot_;
  ready->to_persist.push_back(std::move(snap));
  // Configurations no slot above the snapshot uses go too (the history stays short).
  if (configs_.size() > 1 && ConfigAt(snapshot_.slot + 1).from > configs_.front().from) {
    PersistConfigs(ready);
  }
  // Keep a margin of decided log below the snapshot so a briefly lagging peer catches up
  // without a snapshot transfer.
  Slot below = snapshot.slot + 1 > config_.snapshot_retention_slots
                   ? snapshot.slot + 1 - config_.snapshot_retention_slots
                   : 1;
  // Large slots (megabytes each under bulk load) keep fewer: memory stays bounded in bytes.
  size_t bytes = 0;
  for (auto it = decided_.upper_bound(snapshot.slot); it != decided_.begin();) {
    --it;
    if (it->first < below) break;
    bytes += it->second->PayloadBytes();
    if (bytes > config_.snapshot_retention_bytes) {
      below = it->first + 1;
      break;
    }
  }
  if (below <= log_first_) return;
  log_first_ = below;
  decided_.erase(decided_.begin(), decided_.lower_bound(below));
  DurableWrite compact;
  compact.kind = DurableWrite::Kind::kCompact;
  compact.slot = below;
  ready->to_persist.push_back(std::move(compact));
}

std::vector<Decision> Replica::DecisionsFrom(Slot from) const {
  std::vector<Decision> out;
  size_t bytes = 0;  // Beyond the first batch at most config_.page_bytes (CoreConfig).
  for (auto it = decided_.find(from); it != decided_.end() && it->first == from; ++it, ++from) {
    const size_t b = it->second->PayloadBytes();
    if (out.size() >= limits::kDecisionsPerMessageMax ||
        (!out.empty() && bytes + b > config_.page_bytes)) {
      break;
    }
    bytes += b;
    out.push_back({it->first, it->second});
  }
  return out;
}

WelcomeMsg Replica::MakeWelcome(Slot slot_first) const {
  WelcomeMsg msg;
  if (slot_first <= snapshot_.slot) msg.snapshot = snapshot_;
  msg.decisions = DecisionsFrom(std::max(slot_first, msg.snapshot.slot + 1));
  msg.configs = configs_;
  return msg;
}

void Replica::OnCatchup(NodeId from, const CatchupMsg& msg, Ready* ready) const {
  if (msg.slot_first == 0) return;
  if (msg.slot_first >= log_first_) {
    std::vector<Decision> decisions = DecisionsFrom(msg.slot_first);
    if (decisions.empty()) return;  // We do not know it either.
    ready->messages.push_back({config_.self, from, DecisionsMsg{std::move(decisions)}});
  } else if (snapshot_.slot > 0) {
    // Compacted away: only the snapshot can bring the asker up to date.
    ready->messages.push_back({config_.self, from, MakeWelcome(msg.slot_first)});
  }
}

bool Replica::OnActive(NodeId from, const ActiveMsg& msg, uint64_t tick, Ready* ready) {
  if (msg.ballot < highest_ballot_) return false;
  // A leader that is not a voter here opens no slot we need (it was removed): do not wait on it.
  if (!ConfigAt(slot_next_).IsVoter(from)) return false;
  const bool new_leader = from != leader_ || msg.ballot != highest_ballot_;
  highest_ballot_ = msg.ballot;
  leader_ = from;
  leader_heard_tick_ = tick;
  leader_decided_slot_ = msg.decided_slot;
  if (new_leader) RetryPending(tick, /*all=*/true, ready);
  return true;
}

void Replica::ObserveBallot(const Ballot& ballot, uint64_t tick) {
  if (ballot <= highest_ballot_) return;
  highest_ballot_ = ballot;
  leader_ = ballot.node;
  leader_heard_tick_ = tick;
}

bool Replica::Tick(uint64_t tick, bool self_active, Ready* ready, bool probe) {
  if (self_active) {
    leader_ = config_.self;
    leader_heard_tick_ = tick;
  } else if (tick - leader_heard_tick_ >= config_.leader_timeout_ticks) {
    // Every replica walks the members in the same order, so they agree on the next candidate.
    leader_ = NextMember(leader_);
    leader_heard_tick_ = tick;
  }
  // Scanning every pending command each tick costs O(pending) on the hot path; a quarter of the
  // retry interval is precise enough.
  if (tick - retry_scan_tick_ >= std::max<uint32_t>(1, config_.propose_retry_ticks / 4)) {
    retry_scan_tick_ = tick;
    RetryPending(tick, /*all=*/false, ready);
  }
  MaybeCatchup(tick, probe, ready);
  return leader_ == config_.self && !self_active;
}

void Replica::RetryPending(uint64_t tick, bool all, Ready* ready) {
  std::vector<Command> retry;
  for (auto& [key, p] : pending_) {
    if (all || tick - p.sent_tick >= config_.propose_retry_ticks) {
      p.sent_tick = tick;
      retry.push_back(p.command);
    }
  }
  if (!retry.empty()) Forward(std::move(retry), ready);
}

// In Proposes within a batch's limits (count and bytes), as the leader's screen requires.
void Replica::Forward(std::vector<Command> commands, Ready* ready) {
  size_t i = 0;
  while (i < commands.size()) {
    size_t end = i, bytes = 0;
    while (end < commands.size() && end - i < limits::kCommandsPerBatchMax &&
           (end == i || bytes + commands[end].payload.size() <= limits::kBatchBytesMax)) {
      bytes += commands[end++].payload.size();
    }
    ProposeMsg msg{{std::make_move_iterator(commands.begin() + i),
                    std::make_move_iterator(commands.begin() + end)}};
    ready->messages.push_back({config_.self, leader_, std::move(msg)});
    i = end;
  }
}

void Replica::MaybeCatchup(uint64_t tick, bool probe, Ready* ready) {
  const bool gap = !decided_.empty() && decided_.rbegin()->first >= slot_next_;
  const bool behind = leader_decided_slot_ >= slot_next_ || known_decided_ >= slot_next_;
  if (!gap && !behind) {
    catchup_sent_ = false;
    if (probe && tick - probe_tick_ >= config_.catchup_retry_ticks) {
      probe_tick_ = tick;
      probe_peer_ = NextMember(probe_peer_);
      if (probe_peer_ == config_.self) probe_peer_ = NextMember(probe_peer_);
      if (probe_peer_ != config_.self) {
        ready->messages.push_back({config_.self, probe_peer_, CatchupMsg{slot_next_}});
      }
    }
    return;
  }
  if (catchup_sent_ && tick - catchup_tick_ < config_.catchup_retry_ticks) return;
  // First ask the leader; if that does not help, walk the other members in turn.
  NodeId peer = catchup_sent_ ? NextMember(catchup_peer_) : leader_;
  if (peer == config_.self) peer = NextMember(peer);
  if (peer == config_.self) return;  // A cluster of one has nobody to ask.
  catchup_peer_ = peer;
  catchup_sent_ = true;
  catchup_tick_ = tick;
  ready->messages.push_back({config_.self, peer, CatchupMsg{slot_next_}});
}

NodeId Replica::NextMember(NodeId after) const {
  const std::vector<NodeId> voters = ConfigAt(slot_next_).Voters();
  for (NodeId m : voters) {
    if (m > after) return m;
  }
  return voters.front();
}

std::string Replica::CheckInvariants() const {
  if (!decided_.empty() && decided_.begin()->first < log_first_) return "replica: log below first";
  if (slot_next_ <= snapshot_.slot) return "replica: applied behind snapshot";
  if (decided_.count(slot_next_) > 0) {
    return "replica: decided slot " + std::to_string(slot_next_) + " not handed out";
  }
  if (pending_.size() > limits::kPendingRequestsMax) return "replica: too many pending";
  if (configs_.empty()) return "replica: no configuration";
  for (size_t i = 1; i < configs_.size(); ++i) {
    if (configs_[i].from <= configs_[i - 1].from) return "replica: configurations out of order";
  }
  if (ConfigAt(slot_next_).Voters().empty()) return "replica: a configuration without voters";
  return "";
}

}  // namespace synod
