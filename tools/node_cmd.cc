// `synod node`: run one persistent node in the foreground until SIGTERM or SIGINT.
#include <malloc.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "node/metrics_server.h"
#include "node/node.h"
#include "paxos/limits.h"
#include "storage/data_dir.h"
#include "tools/commands.h"
#include "tools/common.h"
#include "tools/parse.h"

namespace synod::tools {
namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

struct NodeFlags {
  uint32_t id = 0;
  std::string cluster;
  std::string data;
  std::string log_level = "info";
  uint32_t tick_ms = 5;
  uint64_t snapshot_every = 2000;
  uint32_t window = CoreConfig{}.window;
  std::string metrics_addr;  // Empty: no metrics server.
  SecurityFlags security;
};

void SetUpLogging(const std::string& data_dir, const std::string& level, NodeId id) {
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto file =
      std::make_shared<spdlog::sinks::basic_file_sink_mt>(data_dir + "/" + storage::kLogFileName);
  auto logger = std::make_shared<spdlog::logger>("node" + std::to_string(id),
                                                 spdlog::sinks_init_list{console, file});
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

// The heap of a node (README "Memory budget"). glibc's default raises its mmap threshold
// each time a large block is freed, so after a few minutes the large, short-lived blocks of
// a transfer load (client requests and batches of up to a few MiB, memtable arena blocks,
// ledger write batches) come from the heap arenas instead, where they fragment it: under a
// 10-minute transfer run the free space kept in the heap grew from 47 to 182 MB and the
// resident size with it (bench/results/memory-20261128-003802.txt). A fixed threshold stops
// that: a block of kMmapThresholdBytes or more is mapped on its own and unmapped when freed;
// the smaller ones (memtable arena blocks, storage::ledger::kMemtableArenaBlockBytes, among
// them) stay in the heap, which keeps up to kTrimThresholdBytes free at its top rather than
// handing it back and faulting it in again. An operator's MALLOC_MMAP_THRESHOLD_ /
// MALLOC_TRIM_THRESHOLD_ / GLIBC_TUNABLES win (the setting is skipped when any is set).
constexpr int kMmapThresholdBytes = 128 << 10;
constexpr int kTrimThresholdBytes = 64 << 20;

void TuneHeap() {
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TRIM_THRESHOLD_") ||
      std::getenv("GLIBC_TUNABLES")) {
    return;
  }
  if (::mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes) != 1 ||
      ::mallopt(M_TRIM_THRESHOLD, kTrimThresholdBytes) != 1) {
    spdlog::warn("mallopt refused the heap settings; glibc's defaults apply");
  }
}

int RunNode(const NodeFlags& f) {
  TuneHeap();
  node::NodeOptions o;
  if (!ResolveCluster(f.cluster, &o.cluster)) return kExitUsage;
  o.id = f.id;
  if (o.cluster.Find(o.id) == nullptr) {
    return Fail(kExitUsage,
                "--id " + std::to_string(f.id) + " is not in the cluster " + o.cluster.ToString());
  }
  // Every argument is checked before anything is written.
  if (!ResolveSecurity(f.security, false, &o.security)) return kExitUsage;
  std::vector<NodeId> peers = o.cluster.Ids();
  std::erase(peers, o.id);
  if (Status s = net::RequireNodeKeys(o.security, peers); !s.ok()) {
    return Fail(kExitUsage, "--trust: " + s.message());
  }
  if (f.data.empty()) return Fail(kExitUsage, "--data is empty");
  std::error_code ec;
  if (std::filesystem::exists(f.data, ec) && !std::filesystem::is_directory(f.data, ec)) {
    return Fail(kExitUsage, "--data " + f.data + " exists and is not a directory");
  }
  std::optional<node::HostPort> metrics_addr;
  if (!f.metrics_addr.empty()) {
    auto parsed = node::ParseHostPort(f.metrics_addr);
    if (!parsed.ok()) return Fail(kExitUsage, "--metrics-addr: " + parsed.status().message());
    metrics_addr = parsed.value();
  }
  o.data_dir = f.data;
  // TEST ONLY: planted bugs for the fault suite (node.h, testing_early_ack,
  // testing_unconfirmed_read and testing_core_bug). Not a flag, so that no user sees it in --help;
  // any other value is refused.
  if (const char* plant = std::getenv("SYNOD_TEST_PLANT"); plant != nullptr && *plant != 0) {
    const std::string name(plant);
    if (name == "early-ack") {
      o.testing_early_ack = true;
    } else if (name == "unconfirmed-read") {
      o.testing_unconfirmed_read = true;
    } else if (name == "read-confirms-alone") {
      o.testing_core_bug = PlantedBug::kReadConfirmsAlone;
    } else {
      return Fail(kExitUsage, "SYNOD_TEST_PLANT=" + name +
                                  " is not a known planted bug (known: early-ack, "
                                  "unconfirmed-read, read-confirms-alone)");
    }
  }
  if (const char* inline_bytes = std::getenv("SYNOD_TEST_APPLY_INLINE_BYTES");
      inline_bytes != nullptr && *inline_bytes != 0) {
    auto bytes = ParseUnsigned("SYNOD_TEST_APPLY_INLINE_BYTES", inline_bytes, 64);
    if (!bytes.ok()) return Fail(kExitUsage, bytes.status().message());
    o.apply_inline_bytes = static_cast<size_t>(bytes.value());
  }
  o.tick_ms = f.tick_ms;
  o.snapshot_every_slots = f.snapshot_every;
  o.window = f.window;
  std::filesystem::create_directories(f.data, ec);
  if (ec) return Fail(kExitFailure, "cannot create data dir " + f.data + ": " + ec.message());
  std::filesystem::permissions(f.data, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  SetUpLogging(f.data, f.log_level, o.id);
  if (o.apply_inline_bytes != node::Applier::kInlineBytes) {
    spdlog::warn("node {}: TEST ONLY: slots above {} bytes are applied on the apply thread", o.id,
                 o.apply_inline_bytes);
  }
  if (o.security.curve) {
    spdlog::info("node {}: CURVE on every connection; {} node key(s) and {} client key(s) trusted",
                 o.id, o.security.trusted.nodes.size(), o.security.trusted.clients.size());
  } else {
    spdlog::warn("node {}: PLAINTEXT (--insecure): no encryption, no authentication", o.id);
  }
  if (o.testing_early_ack) {
    spdlog::warn(
        "node {}: TEST ONLY planted bug early-ack: writes are answered before they are "
        "decided",
        o.id);
  }
  if (o.testing_unconfirmed_read) {
    spdlog::warn(
        "node {}: TEST ONLY planted bug unconfirmed-read: as leader it answers reads without "
        "confirming its leadership (stale reads)",
        o.id);
  }
  if (o.testing_core_bug == PlantedBug::kReadConfirmsAlone) {
    spdlog::warn(
        "node {}: TEST ONLY planted bug read-confirms-alone: as leader it confirms reads with "
        "its own acceptor's answer alone (stale reads)",
        o.id);
  }
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<node::MetricsServer> metrics_server;
  if (metrics_addr) {
    o.metrics = std::make_shared<node::NodeMetrics>(o.id, o.cluster.Ids(), o.data_dir);
    auto server =
        node::MetricsServer::Start(*metrics_addr, [m = o.metrics] { return m->Render(); });
    if (!server.ok()) return Fail(kExitFailure, server.status().message());
    metrics_server = std::move(server.value());
  }
  auto node = node::Node::Open(std::move(o));
  if (!node.ok()) {
    spdlog::error("cannot start: {}", node.status().ToString());
    return Fail(kExitFailure,
                "cannot start node " + std::to_string(f.id) + ": " + node.status().ToString());
  }
  Status s = node.value()->Run(g_stop);
  if (!s.ok()) return Fail(kExitFailure, "node stopped: " + s.ToString());
  return kExitOk;
}

}  // namespace

void AddNodeCommand(CLI::App& app, int* rc) {
  auto f = std::make_shared<NodeFlags>();
  CLI::App* cmd = app.add_subcommand("node", "Run one persistent node (foreground)");
  cmd->add_option("--id", f->id, "This node's id in the cluster spec")
      ->required()
      ->check(CLI::Range(1, 65535));
  cmd->add_option("--cluster", f->cluster, "Cluster as ID=HOST:PORT,...")->check(NonEmptySpec());
  cmd->add_option("--data", f->data, "Data directory (created with mode 0700)")->required();
  AddSecurityFlags(cmd, &f->security);
  cmd->add_option("--log-level", f->log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  cmd->add_option("--tick-ms", f->tick_ms, "Milliseconds per consensus tick")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--snapshot-every", f->snapshot_every, "Applied slots between snapshots")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100000000}));
  cmd->add_option("--window", f->window, "Slots the leader keeps in flight")
      ->check(CLI::Range(uint32_t{1}, static_cast<uint32_t>(limits::kWindowMax)));
  cmd->add_option("--metrics-addr", f->metrics_addr,
                  "Serve Prometheus metrics at http://HOST:PORT/metrics");
  cmd->callback([f, rc] { *rc = RunNode(*f); });
}

}  // namespace synod::tools
