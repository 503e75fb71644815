// `synod leader transfer --to ID`: planned hand-over of leadership (src/paxos/leader.h,
// "Transfer"). Finds the leader, asks it to hand over to ID, and waits until ID leads.
#include <chrono>
#include <thread>

#include "client/client.h"
#include "tools/commands.h"
#include "tools/common.h"
#include "tools/leadership.h"
#include "tools/parse.h"

namespace synod::tools {

int64_t MsLeft(Clock::time_point deadline) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
}

NodeId FindLeader(client::Client& c, Clock::time_point deadline) {
  do {
    for (const net::NodeAddress& a : c.cluster().nodes) {
      auto r = c.QueryStatus(a.id, false, 300);
      if (r.ok() && r.value().role == "leader") return a.id;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (MsLeft(deadline) > 0);
  return 0;
}

namespace {

// Waits until `to` reports itself leader; false at `deadline`.
bool WaitUntilLeads(client::Client& c, NodeId to, Clock::time_point deadline) {
  do {
    auto r = c.QueryStatus(to, false, 200);
    if (r.ok() && r.value().role == "leader") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  } while (MsLeft(deadline) > 0);
  return false;
}

}  // namespace

Status HandOver(client::Client& c, NodeId from, NodeId to, Clock::time_point deadline) {
  const auto started = Clock::now();
  auto r = c.TransferLeader(from, to, std::max<int64_t>(100, MsLeft(deadline)));
  if (!r.ok()) return r.status();
  if (!r.value().accepted) {
    return Status::Busy("node " + std::to_string(from) + " no longer leads (it follows node " +
                        std::to_string(r.value().leader) + "); try again");
  }
  if (!WaitUntilLeads(c, to, deadline)) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    return Status::Busy("node " + std::to_string(to) + " did not take over within " +
                        std::to_string(ms) + " ms (is it up and caught up?); node " +
                        std::to_string(from) + " leads on");
  }
  return Status::Ok();
}

namespace {

struct LeaderFlags {
  ClientFlags client;
  std::string to;
};

int Transfer(const LeaderFlags& f) {
  client::ClientOptions o;
  if (!ResolveClient(f.client, &o.cluster, &o.security)) return kExitUsage;
  auto parsed = ParseUnsigned("--to", f.to, 32);
  if (!parsed.ok()) return Fail(kExitUsage, parsed.status().message());
  const auto to = static_cast<NodeId>(parsed.value());
  if (o.cluster.Find(to) == nullptr) {
    return Fail(kExitUsage,
                "--to " + f.to + ": no such member in the cluster " + o.cluster.ToString());
  }
  auto c = client::Client::Connect(o);
  if (!c.ok()) return Fail(kExitFailure, c.status().message());
  const auto deadline = Clock::now() + std::chrono::milliseconds(f.client.timeout_ms);
  const NodeId from = FindLeader(*c.value(), deadline);
  if (from == 0) return Fail(kExitFailure, "no node reports itself leader; try again later");
  const auto start = Clock::now();
  if (from != to) {
    if (Status s = HandOver(*c.value(), from, to, deadline); !s.ok()) {
      return Fail(kExitFailure, s.message());
    }
  }
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  nlohmann::json j = {{"ok", true}, {"from", from}, {"to", to}, {"leader", to}, {"ms", ms}};
  const std::string human = from == to ? "node " + std::to_string(to) + " already leads"
                                       : "node " + std::to_string(to) + " leads (was node " +
                                             std::to_string(from) + "), " +
                                             std::to_string(static_cast<int>(ms)) + " ms";
  Print(f.client, j, human);
  return kExitOk;
}

}  // namespace

void AddLeaderCommand(CLI::App& app, int* rc) {
  CLI::App* leader = app.add_subcommand("leader", "Leadership: planned transfer");
  leader->require_subcommand(1);
  auto f = std::make_shared<LeaderFlags>();
  CLI::App* transfer =
      leader->add_subcommand("transfer", "Hand leadership to another member (maintenance)");
  AddClientFlags(transfer, &f->client);
  transfer->add_option("--to", f->to, "Id of the member that should lead")->required();
  transfer->callback([f, rc] { *rc = Transfer(*f); });
}

}  // namespace synod::tools
