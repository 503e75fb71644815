// `synod status` (every node's view) and `synod check` (ledger invariants + replicas agree).
#include <chrono>
#include <map>
#include <thread>

#include "client/client.h"
#include "tools/commands.h"
#include "tools/common.h"

namespace synod::tools {

using nlohmann::json;

bool QueryAll(const ClientFlags& f, bool check, std::vector<NodeView>* out, int* rc) {
  client::ClientOptions o;
  if (!ResolveClient(f, &o.cluster, &o.security)) return (*rc = kExitUsage), false;
  auto c = client::Client::Connect(o);
  if (!c.ok()) return (*rc = Fail(kExitFailure, c.status().message())), false;
  out->clear();
  const int per_node_ms = std::max(200, std::min(2000, f.timeout_ms / int(o.cluster.nodes.size())));
  for (const net::NodeAddress& a : c.value()->cluster().nodes) {
    NodeView v;
    v.address = a;
    auto r = c.value()->QueryStatus(a.id, check, per_node_ms);
    if (r.ok()) {
      v.up = true;
      v.report = std::move(r.value());
    }
    out->push_back(std::move(v));
  }
  return true;
}

namespace {

// Slots each reachable node has applied fewer of than the most advanced reachable node.
std::map<NodeId, Slot> LagOf(const std::vector<NodeView>& views) {
  Slot most = 0;
  for (const NodeView& v : views) {
    if (v.up) most = std::max(most, v.report.applied_slot);
  }
  std::map<NodeId, Slot> lag;
  for (const NodeView& v : views) {
    if (v.up) lag[v.address.id] = most - v.report.applied_slot;
  }
  return lag;
}

// "1,2,3", or "-" for none.
std::string IdList(const std::vector<NodeId>& ids) {
  std::string out;
  for (NodeId id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
  return out.empty() ? "-" : out;
}

json StatusJson(const NodeView& v, Slot lag) {
  const net::NodeAddress& a = v.address;
  std::string address = a.host + ":" + std::to_string(a.port);
  if (!v.up) return {{"id", a.id}, {"address", address}, {"role", "unreachable"}};
  const StatusReportMsg& r = v.report;
  json rejected = json::object();
  for (const auto& [name, count] : r.rejected) rejected[name] = count;
  return {{"id", a.id},
          {"address", address},
          {"role", r.role},
          {"leader", r.leader},
          {"ballot", r.ballot.ToString()},
          {"next_slot", r.next_slot},
          {"decided_slot", r.decided_slot},
          {"applied_slot", r.applied_slot},
          {"snapshot_slot", r.snapshot_slot},
          {"state_hash", r.state_hash},
          {"lag", lag},
          {"rejected", rejected},
          {"voters", r.members},
          {"learners", r.learners},
          {"effective_slot", r.effective_slot},
          {"removed", r.removed},
          {"cluster_flag_mismatch", r.cluster_flag_mismatch}};
}

int Status(const ClientFlags& f) {
  std::vector<NodeView> views;
  int rc = 0;
  if (!QueryAll(f, false, &views, &rc)) return rc;
  bool any = false;
  const std::map<NodeId, Slot> lag = LagOf(views);
  for (const NodeView& v : views) {
    any |= v.up;
    json j = StatusJson(v, v.up ? lag.at(v.address.id) : 0);
    std::string human = "node " + std::to_string(v.address.id) + " " +
                        j["address"].get<std::string>() + " " + j["role"].get<std::string>();
    if (v.up) {
      human += " leader=" + std::to_string(v.report.leader) +
               " ballot=" + v.report.ballot.ToString() +
               " next=" + std::to_string(v.report.next_slot) +
               " decided=" + std::to_string(v.report.decided_slot) +
               " applied=" + std::to_string(v.report.applied_slot) +
               " snapshot=" + std::to_string(v.report.snapshot_slot) +
               " lag=" + std::to_string(lag.at(v.address.id)) + " hash=" + v.report.state_hash +
               " voters=" + IdList(v.report.members) + " learners=" + IdList(v.report.learners);
      if (v.report.removed) human += " REMOVED";
      if (v.report.cluster_flag_mismatch) human += " cluster_flag_mismatch";
      for (const auto& [name, count] : v.report.rejected) {
        if (count > 0) human += " rejected." + name + "=" + std::to_string(count);
      }
    }
    Print(f, j, human);
  }
  return any ? kExitOk : Fail(kExitFailure, "no node of the cluster answered");
}

// Waits (bounded) until every reachable node has applied the same slot, so hashes compare.
bool Converged(const std::vector<NodeView>& views) {
  Slot slot = 0;
  bool first = true;
  for (const NodeView& v : views) {
    if (!v.up) continue;
    if (!first && v.report.applied_slot != slot) return false;
    slot = v.report.applied_slot;
    first = false;
  }
  return true;
}

}  // namespace

int CheckCluster(const ClientFlags& f, nlohmann::json* out) {
  std::vector<NodeView> views;
  int rc = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(f.timeout_ms);
  do {
    if (!QueryAll(f, true, &views, &rc)) return rc;
    if (Converged(views)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (std::chrono::steady_clock::now() < deadline);
  // Compare state hashes among nodes at the same applied slot (the most advanced one).
  std::map<Slot, std::vector<const NodeView*>> by_slot;
  std::vector<std::string> violations;
  for (const NodeView& v : views) {
    if (!v.up) continue;
    by_slot[v.report.applied_slot].push_back(&v);
    for (const std::string& why : v.report.violations) {
      violations.push_back("node " + std::to_string(v.address.id) + ": " + why);
    }
  }
  if (by_slot.empty()) return Fail(kExitFailure, "no node of the cluster answered");
  const auto& [slot, nodes] = *by_slot.rbegin();
  bool agree = true;
  for (const NodeView* v : nodes) agree &= v->report.state_hash == nodes.front()->report.state_hash;
  if (!agree) {
    std::string hashes;
    for (const NodeView* v : nodes) {
      hashes += (hashes.empty() ? "" : ", ") + std::string("node ") +
                std::to_string(v->address.id) + " " + v->report.state_hash;
    }
    violations.push_back("state hashes differ at applied slot " + std::to_string(slot) + ": " +
                         hashes);
  }
  bool invariants = true;
  for (const NodeView& v : views) invariants &= !v.up || v.report.invariants_ok;
  if (!Converged(views)) {
    std::string where;
    for (const NodeView& v : views) {
      where += (where.empty() ? "" : ", ") + std::string("node ") + std::to_string(v.address.id) +
               (v.up ? " at " + std::to_string(v.report.applied_slot) : " unreachable");
    }
    violations.push_back("nodes did not reach a common applied slot within " +
                         std::to_string(f.timeout_ms) + " ms: " + where);
  }
  const bool ok = agree && invariants && Converged(views);
  json ledgers = json::parse(nodes.front()->report.ledgers_json, nullptr, false);
  if (ledgers.is_discarded()) ledgers = json::array();
  *out = {{"ok", ok},
          {"ledgers", ledgers},
          {"state_hash_agree", agree},
          {"applied_slot", slot},
          {"nodes_checked", nodes.size()},
          {"violations", violations}};
  return ok ? kExitOk : kExitFailure;
}

namespace {

int Check(const ClientFlags& f) {
  nlohmann::json j;
  int rc = CheckCluster(f, &j);
  if (rc == kExitUsage || j.is_null()) return rc;
  std::string human = std::string(j["ok"].get<bool>() ? "ok" : "NOT OK") + ": state hashes " +
                      (j["state_hash_agree"].get<bool>() ? "agree" : "differ") +
                      " at applied slot " + std::to_string(j["applied_slot"].get<uint64_t>()) +
                      " on " + std::to_string(j["nodes_checked"].get<size_t>()) + " node(s)";
  for (const auto& v : j["violations"]) human += "\n  " + v.get<std::string>();
  Print(f, j, human);
  return rc;
}

}  // namespace

void AddStatusCommands(CLI::App& app, int* rc) {
  auto sf = std::make_shared<ClientFlags>();
  sf->timeout_ms = 3000;
  CLI::App* status = app.add_subcommand("status", "Every node: role, leader, ballot, slots, hash");
  AddClientFlags(status, sf.get());
  status->callback([sf, rc] { *rc = Status(*sf); });
  auto cf = std::make_shared<ClientFlags>();
  cf->timeout_ms = 5000;
  CLI::App* check = app.add_subcommand("check", "Ledger invariants and replica agreement");
  AddClientFlags(check, cf.get());
  check->callback([cf, rc] { *rc = Check(*cf); });
}

}  // namespace synod::tools
