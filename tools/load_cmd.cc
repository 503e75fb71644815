// `synod load`: bulk transfer (or KV) load from C concurrent sessions, then the invariant check.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <random>

#include "ledger/client.h"
#include "paxos/limits.h"
#include "tools/commands.h"
#include "tools/common.h"
#include "tools/load_gen.h"

namespace synod::tools {
namespace {

std::atomic<bool> g_stop_load{false};
void OnLoadSignal(int) { g_stop_load.store(true); }

struct LoadFlags {
  ClientFlags client;
  LoadOptions options;
  bool skip_setup = false;
};

// A bar on a terminal, a plain line every few seconds otherwise.
std::function<void(uint64_t, double)> Progress(uint64_t total, bool duration) {
  const bool tty = isatty(STDERR_FILENO);
  auto last = std::make_shared<double>(0);
  return [=](uint64_t done, double s) {
    const double rate = s > 0 ? done / s : 0;
    if (tty) {
      const int width = 30;
      const double frac = duration || total == 0 ? 0 : std::min(1.0, double(done) / total);
      std::string bar(int(frac * width), '#');
      bar.resize(width, '.');
      std::fprintf(stderr, "\r[%s] %llu done, %.0f/s, %.1fs ", bar.c_str(),
                   (unsigned long long)done, rate, s);
    } else if (s - *last >= 2.0) {
      *last = s;
      std::fprintf(stderr, "load: %llu done, %.0f/s, %.1fs\n", (unsigned long long)done, rate, s);
    }
  };
}

int RunLoadCommand(LoadFlags& f) {
  LoadOptions& o = f.options;
  if (!ResolveClient(f.client, &o.cluster, &o.security)) return kExitUsage;
  if (o.kind == "transfer" && o.accounts < 2) return Fail(kExitUsage, "--accounts must be >= 2");
  if (o.id_base == 0) o.id_base = (std::random_device{}() | 1ULL) << 8;
  o.timeout_ms = f.client.timeout_ms;
  o.stop = &g_stop_load;
  std::signal(SIGINT, OnLoadSignal);
  std::signal(SIGTERM, OnLoadSignal);
  if (!f.skip_setup) {
    std::fprintf(
        stderr, "load: preparing %s\n",
        o.kind == "transfer" ? (std::to_string(o.accounts) + " funded accounts").c_str() : "keys");
    if (Status s = PrepareAccounts(o); !s.ok()) return Fail(kExitFailure, "setup: " + s.message());
  }
  if (o.kind == "transfer") {
    // The client refuses a command above limits::kPayloadBytesMax: say so up front.
    std::vector<ledger::TransferSpec> sample(o.batch);
    for (auto& t : sample) {
      t.id = t.debit = t.credit = ~ledger::Id128(0);
      t.amount = 10, t.ledger = o.ledger, t.code = 1;
    }
    const size_t bytes = ledger::EncodeCreateTransfers(sample).size();
    if (bytes > synod::limits::kPayloadBytesMax) {
      std::fprintf(stderr,
                   "load: warning: a request of %u transfers encodes to about %zu bytes, above "
                   "the %zu-byte command limit; it will be refused\n",
                   o.batch, bytes, synod::limits::kPayloadBytesMax);
    }
  }
  o.progress = Progress(o.transfers, o.duration_s > 0);
  auto report = RunLoad(o);
  if (isatty(STDERR_FILENO)) std::fprintf(stderr, "\n");
  if (!report.ok()) return Fail(kExitFailure, report.status().message());
  const LoadReport& r = report.value();
  nlohmann::json failed = nlohmann::json::object();
  for (const auto& [code, n] : r.failed) failed[code] = n;
  nlohmann::json check;
  ClientFlags cf = f.client;
  // A follower may be seconds behind after a long bulk run (compaction debt): wait up to 60 s
  // for the nodes to reach one applied slot before the hashes are compared.
  cf.timeout_ms = 60000;
  const int check_rc = o.kind == "transfer" ? CheckCluster(cf, &check) : kExitOk;
  nlohmann::json j = {{"kind", o.kind},
                      {"transfers", r.operations},
                      {"ok", r.ok},
                      {"failed", failed},
                      {"seconds", r.seconds},
                      {"tps", r.tps()},
                      {"p50_ms", r.p50_ms},
                      {"p99_ms", r.p99_ms},
                      {"p999_ms", r.p999_ms},
                      {"requests", r.requests},
                      {"timeouts", r.errors},
                      {"clients", o.clients},
                      {"batch", o.kind == "transfer" ? o.batch : 1}};
  if (o.kind == "transfer") j["invariants_ok"] = check_rc == kExitOk;
  if (check_rc != kExitOk && !check.is_null()) {
    // Why the check failed: the hash agreement, the applied slot and the violations.
    j["check"] = check;
    for (const auto& why : check["violations"]) {
      std::fprintf(stderr, "load: check: %s\n", why.get<std::string>().c_str());
    }
  }
  std::printf("%s\n", j.dump().c_str());
  return check_rc == kExitOk && r.errors == 0 ? kExitOk : kExitFailure;
}

}  // namespace

void AddLoadCommand(CLI::App& app, int* rc) {
  auto f = std::make_shared<LoadFlags>();
  f->client.timeout_ms = 30000;
  CLI::App* cmd =
      app.add_subcommand("load", "Bulk transfer (or KV) load, then the invariant check");
  AddClientFlags(cmd, &f->client);
  LoadOptions& o = f->options;
  cmd->add_option("--accounts", o.accounts, "Accounts to create and fund")
      ->check(CLI::Range(uint64_t{2}, uint64_t{100000000}));
  cmd->add_option("--transfers", o.transfers, "Operations in all")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  cmd->add_option("--duration", o.duration_s, "Run this many seconds instead")
      ->check(CLI::Range(0.0, 86400.0));
  cmd->add_option("--clients", o.clients, "Concurrent clients, one request in flight each")
      ->check(CLI::Range(1u, 1024u));
  cmd->add_option("--sessions", o.sessions,
                  "Client sessions (threads) the clients share (default: min(clients, 16))")
      ->check(CLI::Range(1u, 1024u));
  cmd->add_option("--batch", o.batch, "Transfers per request")->check(CLI::Range(1u, 8190u));
  cmd->add_option("--kind", o.kind, "transfer, kv-put or kv-get")
      ->check(CLI::IsMember({"transfer", "kv-put", "kv-get"}));
  cmd->add_option("--value-size", o.value_size, "KV value bytes")->check(CLI::Range(0u, 65536u));
  cmd->add_option("--ledger", o.ledger, "Ledger number")->check(CLI::Range(1u, UINT32_MAX));
  cmd->add_option("--seed", o.seed, "Seed of the random transfers")->check(Digits());
  cmd->add_flag("--skip-setup", f->skip_setup,
                "Reuse accounts of an earlier run (needs --id-base)");
  cmd->add_option("--id-base", o.id_base, "High 64 bits of every id (default: random)")
      ->check(Digits());
  cmd->callback([f, rc] { *rc = RunLoadCommand(*f); });
}

}  // namespace synod::tools
