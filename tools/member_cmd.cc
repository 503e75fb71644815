// `synod member add ID=HOST:PORT` and `synod member remove ID`: membership changes through the
// replicated log (src/paxos/membership.h). The change is a client command; the cluster answers
// with a JSON object ({"ok", "op", "id", "effective_slot"} or {"ok": false, "error"}), printed
// as is with --json. Adding a node that is already a member at the same address answers ok
// with "already": true (a retry after a lost answer), as `kubectl apply` would. Exit 0 when the
// cluster made the change, 1 when it refused or did not answer, 2 for a bad argument (nothing
// sent).
//
// Removing the leader first hands its leadership to another voter (tools/leadership.h) and
// waits until that one leads, so the cluster never waits a leader timeout for a leader that
// removed itself.
#include <nlohmann/json.hpp>

#include "client/client.h"
#include "paxos/limits.h"
#include "paxos/membership.h"
#include "tools/commands.h"
#include "tools/common.h"
#include "tools/leadership.h"
#include "tools/parse.h"

namespace synod::tools {
namespace {

using nlohmann::json;

struct MemberFlags {
  ClientFlags client;
  std::string target;  // add: ID=HOST:PORT; remove: ID.
};

// The largest node id `synod node --id` and a cluster spec take.
constexpr uint64_t kNodeIdMax = 65535;

Result<NodeId> ParseNodeId(const std::string& text) {
  auto id = ParseUnsigned("ID", text, 64);
  if (!id.ok()) return id.status();
  if (id.value() == 0 || id.value() > kNodeIdMax) {
    return Status::InvalidArgument("ID " + text + " is not a node id (1.." +
                                   std::to_string(kNodeIdMax) + ")");
  }
  return static_cast<NodeId>(id.value());
}

// ID=HOST:PORT, one node in the cluster spec's syntax; the address as the spec writes it.
Result<MembershipChange> ParseAdd(const std::string& text) {
  auto spec = net::ClusterSpec::Parse(text);
  if (!spec.ok()) {
    return Status::InvalidArgument("ID=HOST:PORT '" + text + "': " + spec.status().message());
  }
  if (spec.value().nodes.size() != 1) {
    return Status::InvalidArgument("ID=HOST:PORT '" + text + "' names " +
                                   std::to_string(spec.value().nodes.size()) +
                                   " nodes; add one at a time");
  }
  const net::NodeAddress& a = spec.value().nodes.front();
  MembershipChange c{MembershipChange::Op::kAdd, a.id, a.host + ":" + std::to_string(a.port)};
  if (c.address.size() > limits::kAddressBytesMax) {
    return Status::InvalidArgument("ID=HOST:PORT '" + text + "': the address is longer than " +
                                   std::to_string(limits::kAddressBytesMax) + " bytes");
  }
  return c;
}

// Another voter to take over from `leader`: a voter of the leader's current configuration
// that the client can reach (it is in --cluster) and that answers.
NodeId SuccessorOf(client::Client& c, NodeId leader) {
  auto report = c.QueryStatus(leader, false, 500);
  if (!report.ok()) return 0;
  for (NodeId voter : report.value().members) {
    if (voter == leader || c.cluster().Find(voter) == nullptr) continue;
    if (c.QueryStatus(voter, false, 300).ok()) return voter;
  }
  return 0;
}

std::string Human(const MembershipChange& c, const json& answer) {
  const std::string node = "node " + std::to_string(c.id);
  const std::string from = std::to_string(answer.value("effective_slot", uint64_t{0}));
  if (c.op == MembershipChange::Op::kAdd && answer.value("already", false)) {
    return node + " is already a member at " + c.address + " (from slot " + from +
           "); nothing changed";
  }
  if (c.op == MembershipChange::Op::kAdd) {
    return node + " added at " + c.address + " as a learner, from slot " + from +
           "; it becomes a voter once it has caught up";
  }
  std::string moved;
  if (answer.contains("leader_moved_to")) {
    moved = " (it led: leadership moved to node " +
            std::to_string(answer["leader_moved_to"].get<NodeId>()) + " first)";
  }
  return node + " removed from slot " + from + moved;
}

// Submits the change and prints the cluster's answer.
int Submit(const MemberFlags& f, client::Client& c, const MembershipChange& change, json extra) {
  auto bytes = c.Execute(EncodeMembershipChange(change));
  if (!bytes.ok()) {
    return Fail(kExitFailure,
                "cluster " + c.cluster().ToString() + " unreachable: " + bytes.status().message());
  }
  json answer = json::parse(bytes.value(), nullptr, false);
  if (answer.is_discarded() || !answer.is_object() || !answer.contains("ok")) {
    return Fail(kExitFailure, "bad answer from the cluster (not a membership result): " +
                                  bytes.value().substr(0, 200));
  }
  answer.update(extra);
  if (!answer["ok"].get<bool>()) {
    if (f.client.json) Print(f.client, answer, "");
    return Fail(kExitFailure, std::string("the cluster refused to ") + OpName(change.op) +
                                  " node " + std::to_string(change.id) + ": " +
                                  answer.value("error", std::string("no reason given")));
  }
  Print(f.client, answer, Human(change, answer));
  return kExitOk;
}

Result<std::unique_ptr<client::Client>> Connect(const MemberFlags& f, int* rc) {
  client::ClientOptions o;
  if (!ResolveClient(f.client, &o.cluster, &o.security)) {
    *rc = kExitUsage;
    return Status::InvalidArgument("");
  }
  o.timeout_ms = f.client.timeout_ms;
  o.retry_ms = std::min(1000, std::max(100, f.client.timeout_ms / 5));
  auto c = client::Client::Connect(std::move(o));
  if (!c.ok()) *rc = Fail(kExitFailure, c.status().message());
  return c;
}

int Add(const MemberFlags& f) {
  auto change = ParseAdd(f.target);
  if (!change.ok()) return Fail(kExitUsage, "member add: " + change.status().message());
  int rc = 0;
  auto c = Connect(f, &rc);
  if (!c.ok()) return rc;
  return Submit(f, *c.value(), change.value(), json::object());
}

int Remove(const MemberFlags& f) {
  auto id = ParseNodeId(f.target);
  if (!id.ok()) return Fail(kExitUsage, "member remove: " + id.status().message());
  int rc = 0;
  auto c = Connect(f, &rc);
  if (!c.ok()) return rc;
  const auto deadline = Clock::now() + std::chrono::milliseconds(f.client.timeout_ms);
  json extra = json::object();
  const NodeId leader = FindLeader(*c.value(), deadline);
  if (leader == 0) return Fail(kExitFailure, "no node reports itself leader; try again later");
  if (leader == id.value()) {
    const NodeId successor = SuccessorOf(*c.value(), leader);
    if (successor == 0) {
      return Fail(kExitFailure, "node " + std::to_string(leader) +
                                    " leads and no other voter of --cluster answers to take "
                                    "over; nothing was changed");
    }
    if (Status s = HandOver(*c.value(), leader, successor, deadline); !s.ok()) {
      return Fail(kExitFailure, "moving leadership off node " + std::to_string(leader) +
                                    " before removing it: " + s.message());
    }
    extra["leader_moved_to"] = successor;
  }
  return Submit(f, *c.value(), MembershipChange{MembershipChange::Op::kRemove, id.value(), ""},
                extra);
}

}  // namespace

void AddMemberCommand(CLI::App& app, int* rc) {
  CLI::App* member = app.add_subcommand("member", "Membership changes through the log");
  member->require_subcommand(1);
  auto add = std::make_shared<MemberFlags>();
  CLI::App* add_cmd =
      member->add_subcommand("add", "Add a node as a learner; it becomes a voter once caught up");
  AddClientFlags(add_cmd, &add->client);
  add_cmd->add_option("target", add->target, "ID=HOST:PORT of the new node")->required();
  add_cmd->callback([add, rc] { *rc = Add(*add); });
  auto remove = std::make_shared<MemberFlags>();
  CLI::App* remove_cmd = member->add_subcommand(
      "remove", "Remove a voter or learner (a leader hands over to another voter first)");
  AddClientFlags(remove_cmd, &remove->client);
  remove_cmd->add_option("target", remove->target, "ID of the node to remove")->required();
  remove_cmd->callback([remove, rc] { *rc = Remove(*remove); });
}

}  // namespace synod::tools
