#include "sim/simulator.h"

#include <memory>
#include <queue>
#include <set>
#include <sstream>

#include "net/codec.h"
#include "paxos/core.h"
#include "paxos/membership.h"
#include "paxos/prng.h"
#include "sim/checker.h"
#include "sim/counter_machine.h"
#include "sim/mem_log_store.h"

namespace synod::sim {
namespace {

constexpr uint64_t kNsPerTick = 1000000;  // One tick is one millisecond of cluster time.
constexpr uint64_t kClientRetryTicks = 150;
constexpr uint64_t kAdminClientId = 999;  // Sends membership changes; nobody waits for them.

std::string SimAddress(NodeId id) { return "sim:" + std::to_string(id); }

ClusterConfig GenesisOf(uint32_t nodes) {
  ClusterConfig c;
  for (NodeId id = 1; id <= nodes; ++id) c.members.push_back({id, SimAddress(id), true});
  return c;
}

struct Packet {
  uint64_t deliver_tick = 0;
  uint64_t seq = 0;
  uint64_t client_id = 0;  // Receiving client when env.to == kClientEndpoint.
  Envelope env;
  bool operator>(const Packet& o) const {
    return std::tie(deliver_tick, seq) > std::tie(o.deliver_tick, o.seq);
  }
};

struct SimNode {
  NodeId id = 0;
  bool up = true;
  uint64_t down_until = 0;
  uint64_t incarnation = 0;       // Boots so far (seeds the core's randomness).
  uint64_t data_incarnation = 0;  // Of its data dir; a wipe makes a new one.
  MemLogStore store;
  std::unique_ptr<Core> core;
  CounterMachine machine;
  std::set<std::pair<uint64_t, uint64_t>> waiting;  // Requests invoked here, to answer.
  bool leading = false;
  bool rejoining = false;
};

struct SimClient {
  uint64_t id = 0;
  uint64_t next_request = 1;
  bool outstanding = false;
  Command command;
  uint64_t invoke_tick = 0;
  uint64_t sent_tick = 0;
  uint64_t next_invoke_tick = 0;
  size_t target = 0;  // Index into nodes.
};

class Simulation {
 public:
  explicit Simulation(const SimOptions& o) : o_(o), prng_(o.seed), checker_(GenesisOf(o.nodes)) {
    fault_end_ = o.ticks * 6 / 10;
    for (NodeId id = 1; id <= o.nodes; ++id) members_.push_back(id);
    const uint32_t spares = o.reconfig ? std::min<uint32_t>(2, 7 - o.nodes) : 0;
    for (NodeId id = 1; id <= o.nodes + spares; ++id) pool_.push_back(id);
    nodes_.resize(pool_.size());
    for (size_t i = 0; i < nodes_.size(); ++i) {
      nodes_[i].id = pool_[i];
      nodes_[i].data_incarnation = pool_[i];
      Boot(nodes_[i]);
    }
    for (uint32_t c = 0; c < o.clients; ++c) {
      SimClient client;
      client.id = 1000 + c;
      client.target = c % members_.size();
      clients_.push_back(client);
    }
  }

  SimResult Run() {
    for (tick_ = 1; tick_ <= o_.ticks && result_.violations.empty(); ++tick_) {
      if (tick_ < fault_end_) InjectFaults();
      if (tick_ == fault_end_) HealAll();
      Deliver();
      for (SimNode& n : nodes_) {
        if (!n.up || !result_.violations.empty()) continue;
        Ready ready;
        n.core->Tick(tick_ * kNsPerTick, &ready);
        Process(n, ready);
      }
      for (SimClient& c : clients_) DriveClient(c);
    }
    if (result_.violations.empty()) CheckLiveness();
    result_.seed = o_.seed;
    result_.nodes = o_.nodes;
    result_.ticks = o_.ticks;
    result_.decided_slots = checker_.log_end();
    result_.report_wipes = o_.wipes;
    result_.report_transfers = o_.transfers;
    result_.report_reconfig = o_.reconfig;
    result_.voters = checker_.configs().back().Voters();
    for (const ClusterConfig& c : checker_.configs()) result_.reconfigs_done += c.decided_at != 0;
    return result_;
  }

 private:
  CoreConfig ConfigFor(const SimNode& n) const {
    CoreConfig c;
    c.self = n.id;
    // A spare knows the whole pool (whom to ask to join); a genesis node the genesis set.
    c.members = n.id <= o_.nodes ? members_ : pool_;
    for (NodeId id : c.members) c.addresses[id] = SimAddress(id);
    c.seed = o_.seed * 7919 + n.id * 104729 + n.incarnation;
    c.incarnation = n.data_incarnation;
    c.planted_bug = o_.planted_bug;
    if (o_.page_bytes != 0) c.page_bytes = o_.page_bytes;
    return c;
  }

  void Boot(SimNode& n) {
    auto recovered = n.store.Recover();
    SYNOD_CHECK(recovered.ok());
    n.core = std::make_unique<Core>(ConfigFor(n), std::move(recovered.value()));
    n.machine = CounterMachine();
    n.waiting.clear();
    n.leading = false;
    n.up = true;
    Ready ready;
    n.core->Start(&ready);
    Process(n, ready);
  }

  void Violation(const std::string& what) {
    if (!what.empty() && result_.violations.empty()) {
      result_.violations.push_back("tick " + std::to_string(tick_) + ": " + what);
    }
  }

  // The driver's loop body: persist, send, install, apply, answer clients, snapshot.
  void Process(SimNode& n, Ready& ready) {
    for (const DurableWrite& w : ready.to_persist) {
      if (w.kind == DurableWrite::Kind::kAccept) {
        Violation(checker_.OnAccepted(n.id, w.slot, w.ballot, w.batch));
      }
    }
    if (Status st = n.store.Persist(ready.to_persist); !st.ok()) {
      Violation("node " + std::to_string(n.id) + ": " + st.message());
    }
    for (Envelope& e : ready.messages) Send(std::move(e));
    if (ready.install) Install(n, *ready.install);
    for (const Decision& d : ready.decisions) Apply(n, d);
    if (auto e = n.core->CheckInvariants(); !e.empty())
      Violation("node " + std::to_string(n.id) + ": " + e);
    const bool leading = n.core->role() == Core::Role::kLeader;
    if (leading && !n.leading) ++result_.leader_changes;
    if (leading && !n.leading && n.id == transfer_to_) {
      ++result_.transfers_done;
      transfer_to_ = 0;
    }
    n.leading = leading;
    if (n.rejoining && !n.core->rejoining()) ++result_.rejoined;
    n.rejoining = n.core->rejoining();
    MaybeSnapshot(n);
  }

  void Install(SimNode& n, const Snapshot& snapshot) {
    auto machine = CounterMachine::Decode(*snapshot.data);
    if (!machine.ok() || machine.value().applied_slot() != snapshot.slot) {
      return Violation("snapshot at slot " + std::to_string(snapshot.slot) + " does not decode");
    }
    n.machine = std::move(machine.value());
    Violation(checker_.OnInstalled(n.id, snapshot.slot, n.machine.Hash()));
  }

  void Apply(SimNode& n, const Decision& d) {
    if (d.slot != n.machine.applied_slot() + 1) {
      return Violation("consistency: node " + std::to_string(n.id) + " handed slot " +
                       std::to_string(d.slot) + " after " +
                       std::to_string(n.machine.applied_slot()));
    }
    auto applied = n.machine.Apply(d.slot, *d.batch, o_.plant_skip_sessions);
    Violation(checker_.OnApplied(n.id, d.slot, d.batch, n.machine.Hash(), applied));
    for (auto& a : applied) {
      if (n.waiting.erase({a.client_id, a.request_id}) == 0) continue;
      InvokedMsg reply{a.client_id, a.request_id, true, a.result, n.id};
      Send({n.id, kClientEndpoint, std::move(reply)});
    }
  }

  void MaybeSnapshot(SimNode& n) {
    const Slot applied = n.machine.applied_slot();
    if (applied < n.core->replica().snapshot().slot + o_.snapshot_every_slots) return;
    Snapshot s{applied, std::make_shared<const std::string>(n.machine.Encode())};
    Ready ready;
    n.core->OnSnapshotTaken(s, &ready);
    Process(n, ready);
  }

  void Send(Envelope e) {
    uint64_t client_id = 0;
    if (e.to == kClientEndpoint) {
      const auto* invoked = std::get_if<InvokedMsg>(&e.body);
      if (invoked == nullptr) return;
      client_id = invoked->client_id;
    }
    if (prng_.Chance(o_.drop)) return;
    if (o_.wire) {
      auto decoded = net::Decode(net::Encode(e));
      if (!decoded.ok()) {
        return Violation("codec: " + std::string(BodyName(e.body)) +
                         " does not round-trip: " + decoded.status().ToString());
      }
      e = std::move(decoded.value());
    }
    const int copies = prng_.Chance(o_.duplicate) ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
      Packet p{tick_ + prng_.Range(o_.delay_min_ticks, o_.delay_max_ticks), seq_++, client_id, e};
      queue_.push(std::move(p));
    }
  }

  bool Blocked(NodeId from, NodeId to) const {
    return from != kClientEndpoint && to != kClientEndpoint && blocked_.count({from, to}) > 0;
  }

  void Deliver() {
    while (!queue_.empty() && queue_.top().deliver_tick <= tick_ && result_.violations.empty()) {
      Packet p = queue_.top();
      queue_.pop();
      if (Blocked(p.env.from, p.env.to)) continue;
      if (p.env.to == kClientEndpoint) {
        OnClientMessage(p.client_id, std::get<InvokedMsg>(p.env.body));
        continue;
      }
      SimNode& n = nodes_[p.env.to - 1];
      if (!n.up) continue;
      if (const auto* inv = std::get_if<InvokeMsg>(&p.env.body)) {
        n.waiting.insert({inv->command.client_id, inv->command.request_id});
      }
      Ready ready;
      n.core->Step(p.env, &ready);
      Process(n, ready);
    }
  }

  void InjectFaults() {
    for (SimNode& n : nodes_) {
      if (!n.up && tick_ >= n.down_until) {
        ++n.incarnation;
        Boot(n);
      }
    }
    if (o_.crashes && prng_.Chance(1.0 / 300)) {
      SimNode& n = nodes_[prng_.Range(0, nodes_.size() - 1)];
      if (n.up) {
        n.up = false;
        n.core.reset();
        n.down_until = tick_ + prng_.Range(20, 800);
      }
    }
    if (o_.wipes && prng_.Chance(1.0 / 1500)) Wipe(nodes_[prng_.Range(0, nodes_.size() - 1)]);
    if (o_.transfers && prng_.Chance(1.0 / 700)) Transfer(pool_[prng_.Range(0, pool_.size() - 1)]);
    if (o_.reconfig && prng_.Chance(1.0 / o_.reconfig_every_ticks)) Reconfigure();
    if (o_.partitions) {
      if (!blocked_.empty() && tick_ >= heal_tick_) blocked_.clear();
      if (blocked_.empty() && prng_.Chance(1.0 / 500)) Partition();
    }
  }

  // The node's data dir is gone: it restarts empty, with a new incarnation, and must rejoin.
  void Wipe(SimNode& target) {
    // Core, "Rejoining" and "Membership": a rejoin needs every other voter and a settled
    // configuration; wipe only when the run could recover (3+ voters, nothing pending).
    const ClusterConfig& latest = checker_.configs().back();
    const ClusterConfig& current = ConfigAt(checker_.configs(), checker_.log_end() + 1);
    if (current.from != latest.from || latest.Voters().size() < 3 || !target.up ||
        !latest.Has(target.id)) {
      return;
    }
    for (const SimNode& n : nodes_) {
      if (!latest.Has(n.id)) continue;
      const RecoveredState& s = n.store.state();
      if (!s.joined || s.membership.rejoining || s.membership.learning) return;
    }
    target.up = false;
    target.core.reset();
    target.store = MemLogStore();
    target.data_incarnation = 1000 + (++result_.wipes);
    target.down_until = tick_ + prng_.Range(20, 800);
  }

  // Asks the active leader (if any) to hand leadership to `to`.
  void Transfer(NodeId to) {
    for (SimNode& n : nodes_) {
      if (!n.up || n.core->role() != Core::Role::kLeader) continue;
      if (!n.core->TransferLeadership(to)) return;
      ++result_.transfers;
      transfer_to_ = to;
      return;
    }
  }

  // Asks a random member to add a spare (as a learner) or to remove a member, as a client
  // command; the history the checker derives from the log is the reference.
  void Reconfigure() {
    const ClusterConfig& latest = checker_.configs().back();
    for (const SimNode& n : nodes_) {
      const RecoveredState& s = n.store.state();
      if (s.membership.rejoining || (latest.Has(n.id) && !s.joined)) return;  // A wipe heals.
    }
    std::vector<NodeId> outside;
    for (NodeId id : pool_) {
      if (!latest.Has(id)) outside.push_back(id);
    }
    MembershipChange change;
    if (!outside.empty() && prng_.Chance(0.5)) {
      change.op = MembershipChange::Op::kAdd;
      change.id = outside[prng_.Range(0, outside.size() - 1)];
      change.address = SimAddress(change.id);
    } else {
      const ConfigMember& m = latest.members[prng_.Range(0, latest.members.size() - 1)];
      if (m.voter && latest.Voters().size() <= 2) return;
      change.op = MembershipChange::Op::kRemove;
      change.id = m.id;
    }
    Command c{kAdminClientId, ++admin_requests_, EncodeMembershipChange(change)};
    checker_.OnInvoke(c);
    ++result_.reconfigs;
    const NodeId to = latest.members[prng_.Range(0, latest.members.size() - 1)].id;
    Send({kClientEndpoint, to, InvokeMsg{c}});
  }

  void Partition() {
    heal_tick_ = tick_ + prng_.Range(50, 1500);
    if (prng_.Chance(0.5)) {  // One-way: `a` cannot reach `b`.
      NodeId a = pool_[prng_.Range(0, pool_.size() - 1)];
      NodeId b = pool_[prng_.Range(0, pool_.size() - 1)];
      if (a != b) blocked_.insert({a, b});
      return;
    }
    std::vector<bool> side(pool_.size());
    for (size_t i = 0; i < side.size(); ++i) side[i] = prng_.Chance(0.5);
    for (size_t i = 0; i < side.size(); ++i) {
      for (size_t j = 0; j < side.size(); ++j) {
        if (side[i] != side[j]) blocked_.insert({pool_[i], pool_[j]});
      }
    }
  }

  void HealAll() {
    blocked_.clear();
    for (SimNode& n : nodes_) {
      if (!n.up) {
        ++n.incarnation;
        Boot(n);
      }
    }
  }

  void DriveClient(SimClient& c) {
    if (!c.outstanding) {
      if (tick_ < c.next_invoke_tick) return;
      c.outstanding = true;
      c.command.client_id = c.id;
      c.command.request_id = c.next_request++;
      c.command.payload = CounterMachine::EncodeCommand(prng_.Range(0, 7), prng_.Range(1, 100));
      c.invoke_tick = tick_;
      checker_.OnInvoke(c.command);
    } else if (tick_ - c.sent_tick < kClientRetryTicks) {
      return;
    } else {
      c.target = (c.target + 1) % nodes_.size();  // No answer: try another node.
    }
    c.sent_tick = tick_;
    Send({kClientEndpoint, nodes_[c.target].id, InvokeMsg{c.command}});
  }

  void OnClientMessage(uint64_t client_id, const InvokedMsg& m) {
    if (client_id == kAdminClientId || client_id >= kPromoteClientBase) return;
    SimClient& c = clients_[client_id - 1000];
    if (!c.outstanding || m.request_id != c.command.request_id) return;
    if (!m.ok) {
      if (m.leader_hint != 0) c.target = m.leader_hint - 1;
      return;
    }
    Violation(checker_.OnAnswer(client_id, m.request_id, m.result));
    c.outstanding = false;
    c.next_invoke_tick = tick_ + prng_.Range(0, 20);
    ++result_.requests_done;
  }

  void CheckLiveness() {
    for (const SimClient& c : clients_) {
      if (!c.outstanding) continue;
      uint64_t since = std::max(c.invoke_tick, fault_end_);
      if (o_.ticks - since > o_.liveness_bound_ticks) {
        tick_ = o_.ticks;
        Violation("liveness: request " + std::to_string(c.id) + "/" +
                  std::to_string(c.command.request_id) + " unanswered " +
                  std::to_string(o_.ticks - since) + " ticks after faults stopped");
        return;
      }
    }
  }

  const SimOptions& o_;
  Prng prng_;
  Checker checker_;
  std::vector<NodeId> members_;  // The genesis configuration.
  std::vector<NodeId> pool_;     // Every node of the run, spares included.
  uint64_t admin_requests_ = 0;
  std::vector<SimNode> nodes_;
  std::vector<SimClient> clients_;
  std::priority_queue<Packet, std::vector<Packet>, std::greater<Packet>> queue_;
  std::set<std::pair<NodeId, NodeId>> blocked_;
  uint64_t heal_tick_ = 0;
  NodeId transfer_to_ = 0;  // Target of the latest transfer, until it leads.
  uint64_t seq_ = 0;
  uint64_t tick_ = 0;
  uint64_t fault_end_ = 0;
  SimResult result_;
};

std::string FormatProbability(double p) {
  std::ostringstream s;
  s << p;
  return s.str();
}

}  // namespace

std::string SimOptions::ReproduceCommand() const {
  std::string cmd = "synod sim --seed " + std::to_string(seed) + " --nodes " +
                    std::to_string(nodes) + " --ticks " + std::to_string(ticks) + " --drop " +
                    FormatProbability(drop);
  if (duplicate != SimOptions().duplicate) cmd += " --dup " + FormatProbability(duplicate);
  if (partitions) cmd += " --partitions";
  if (crashes) cmd += " --crashes";
  if (wipes) cmd += " --wipes";
  if (transfers) cmd += " --transfers";
  if (reconfig) cmd += " --reconfig";
  if (reconfig_every_ticks != SimOptions().reconfig_every_ticks) {
    cmd += " --reconfig-every " + std::to_string(reconfig_every_ticks);
  }
  if (planted_bug == PlantedBug::kReconfigSkipsExtension)
    cmd += " --plant reconfig-skips-extension";
  if (planted_bug == PlantedBug::kScoutTakesFirstPage) cmd += " --plant scout-takes-first-page";
  if (page_bytes != 0) cmd += " --page-bytes " + std::to_string(page_bytes);
  if (planted_bug == PlantedBug::kRejoinVotesAtOnce) cmd += " --plant rejoin-votes-at-once";
  if (planted_bug == PlantedBug::kAcceptorForgetsOnRestart) cmd += " --plant acceptor-amnesia";
  if (planted_bug == PlantedBug::kLeaderIgnoresPromises) cmd += " --plant leader-ignores-promises";
  if (plant_skip_sessions) cmd += " --plant skip-sessions";
  if (wire) cmd += " --wire";
  return cmd;
}

std::string SimResult::ToJson() const {
  return "{\"seed\": " + std::to_string(seed) + ", \"nodes\": " + std::to_string(nodes) +
         ", \"ticks\": " + std::to_string(ticks) +
         ", \"decided_slots\": " + std::to_string(decided_slots) +
         ", \"requests_done\": " + std::to_string(requests_done) +
         ", \"leader_changes\": " + std::to_string(leader_changes) +
         (report_wipes ? ", \"wipes\": " + std::to_string(wipes) +
                             ", \"rejoined\": " + std::to_string(rejoined)
                       : "") +
         (report_transfers ? ", \"transfers\": " + std::to_string(transfers) +
                                 ", \"transfers_done\": " + std::to_string(transfers_done)
                           : "") +
         (report_reconfig ? ", \"reconfigs\": " + std::to_string(reconfigs) +
                                ", \"reconfigs_done\": " + std::to_string(reconfigs_done) +
                                ", \"voters\": " + std::to_string(voters.size())
                          : "") +
         ", \"violations\": " + std::to_string(violations.size()) + "}";
}

SimResult RunSimulation(const SimOptions& options) {
  SYNOD_CHECK(options.nodes >= 1 && options.nodes <= 7);
  return Simulation(options).Run();
}

}  // namespace synod::sim
