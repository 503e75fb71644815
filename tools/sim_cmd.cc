// `synod sim`: one seeded run of the whole-cluster simulator (src/sim).
#include <cstdio>

#include "sim/simulator.h"
#include "tools/commands.h"
#include "tools/common.h"

namespace synod::tools {
namespace {

struct SimFlags {
  sim::SimOptions options;
  bool json = false;
  std::string plant;
};

int RunSim(SimFlags& f) {
  sim::SimOptions& o = f.options;
  if (f.plant == "acceptor-amnesia") o.planted_bug = PlantedBug::kAcceptorForgetsOnRestart;
  if (f.plant == "leader-ignores-promises") o.planted_bug = PlantedBug::kLeaderIgnoresPromises;
  if (f.plant == "skip-sessions") o.plant_skip_sessions = true;
  if (f.plant == "rejoin-votes-at-once") o.planted_bug = PlantedBug::kRejoinVotesAtOnce;
  if (f.plant == "reconfig-skips-extension") o.planted_bug = PlantedBug::kReconfigSkipsExtension;
  if (f.plant == "scout-takes-first-page") o.planted_bug = PlantedBug::kScoutTakesFirstPage;
  sim::SimResult r = sim::RunSimulation(o);
  if (f.json) {
    std::printf("%s\n", r.ToJson().c_str());
  } else {
    std::printf(
        "seed %llu: %u nodes, %llu ticks, %llu slots decided, %llu requests done, "
        "%llu leader changes, %zu violations\n",
        (unsigned long long)r.seed, r.nodes, (unsigned long long)r.ticks,
        (unsigned long long)r.decided_slots, (unsigned long long)r.requests_done,
        (unsigned long long)r.leader_changes, r.violations.size());
  }
  if (r.violations.empty()) return 0;
  for (const std::string& v : r.violations) std::fprintf(stderr, "violation: %s\n", v.c_str());
  std::fprintf(stderr, "reproduce: %s\n", o.ReproduceCommand().c_str());
  return 1;
}

}  // namespace

void AddSimCommand(CLI::App& app, int* rc) {
  auto flags = std::make_shared<SimFlags>();
  CLI::App* cmd = app.add_subcommand("sim", "Run the deterministic cluster simulator once");
  sim::SimOptions& o = flags->options;
  cmd->add_option("--seed", o.seed, "Seed of the run")->required()->check(Digits());
  cmd->add_option("--nodes", o.nodes, "Cluster size")->check(CLI::Range(1, 7));
  cmd->add_option("--ticks", o.ticks, "Ticks to simulate (1 tick = 1 ms)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100000000}));
  cmd->add_option("--drop", o.drop, "Message drop probability")->check(CLI::Range(0.0, 0.5));
  cmd->add_option("--dup", o.duplicate, "Message duplicate probability")
      ->check(CLI::Range(0.0, 0.5));
  cmd->add_flag("--partitions", o.partitions, "Inject symmetric and one-way partitions");
  cmd->add_flag("--crashes", o.crashes, "Crash and restart nodes");
  cmd->add_flag("--wipes", o.wipes, "Crash nodes and restart them with an empty data dir");
  cmd->add_flag("--transfers", o.transfers, "Ask the leader to hand over to a random member");
  cmd->add_flag("--reconfig", o.reconfig,
                "Add spare nodes and remove members through the log, now and then");
  cmd->add_option("--reconfig-every", o.reconfig_every_ticks,
                  "With --reconfig: mean ticks between two membership changes")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--clients", o.clients, "Concurrent clients")->check(CLI::Range(1, 64));
  cmd->add_option("--plant", flags->plant, "Test only: plant a bug the checkers must catch")
      ->check(CLI::IsMember({"acceptor-amnesia", "leader-ignores-promises", "skip-sessions",
                             "rejoin-votes-at-once", "reconfig-skips-extension",
                             "scout-takes-first-page"}));
  cmd->add_option("--page-bytes", o.page_bytes,
                  "Payload bytes per Promise page and catch-up reply beyond the first batch "
                  "(default 8 MiB; small values page often)")
      ->check(CLI::Range(1, 1 << 30));
  cmd->add_flag("--wire", o.wire, "Encode and decode every message with the wire codec");
  cmd->add_flag("--json", flags->json, "One JSON object on stdout");
  cmd->callback([flags, rc] { *rc = RunSim(*flags); });
}

}  // namespace synod::tools
