// Benchmarks of the ledger state machine on RocksDB tables (unsynced writes):
//   BM_ApplyPlainTransfers/<per_command>: Apply() of batches of 8,190 plain transfers, packed
//     <per_command> transfers per command (1 = one client request per transfer, as `synod load`
//     sends them; every command also goes through the session table). items/s = transfers/s.
//     A second argument of 1 uses MemoryTables instead, to separate logic from RocksDB cost.
//   BM_Snapshot1MAccounts / BM_Restore1MAccounts: stream a snapshot of 1,000,000 accounts into
//     chunks / install those chunks into fresh tables and open them (bytes/s = snapshot MB/s).
//     Restore includes opening the machine (loading the account cache) and hash checks.
// Long run (not a Google Benchmark): `ledger_apply_bench --long_run=N` applies N plain
// transfers in batches of 8,190 (one per command) and prints throughput and RSS every ~1M.
// Memory (not a Google Benchmark): `ledger_apply_bench --account_memory=N` prints the heap
// bytes per cached account of a machine holding N accounts.
// Each benchmark works in its own temporary directory under $TMPDIR (removed at exit).
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ledger/client.h"
#include "ledger/memory_tables.h"
#include "ledger/snapshot.h"
#include "ledger/state_machine.h"
#include "paxos/limits.h"
#include "storage/ledger/rocksdb_ledger_tables.h"

namespace synod::ledger {
namespace {

constexpr size_t kBatchTransfers = synod::limits::kCommandsPerBatchMax;  // 8,190.
constexpr uint64_t kClients = 64;

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name) {
    std::random_device rd;
    path_ = (std::filesystem::temp_directory_path() /
             ("synod_ledger_bench_" + name + "_" + std::to_string(rd())))
                .string();
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

template <typename T>
T Must(Result<T> r) {
  if (!r.ok()) {
    std::fprintf(stderr, "bench: %s\n", r.status().ToString().c_str());
    std::abort();
  }
  return std::move(r.value());
}

// A RocksDB-backed (or, for comparison, memory-backed) machine plus a generator of batches.
struct Fixture {
  explicit Fixture(const std::string& name, bool memory = false) : dir(name) {
    if (memory) {
      memory_tables = std::make_unique<MemoryTables>();
      sm = Must(StateMachine::Open(memory_tables.get()));
    } else {
      db = Must(LedgerDb::Open(dir.path()));
      sm = Must(StateMachine::Open(db->tables()));
    }
  }

  void Apply(const Batch& batch) { benchmark::DoNotOptimize(Must(sm->Apply(++slot, batch))); }

  // Accounts 1..n on ledger 1, 4,000 per command (96 KiB payload limit).
  void CreateAccounts(uint64_t n) {
    Batch batch;
    for (uint64_t first = 1; first <= n; first += 4000) {
      std::vector<AccountSpec> specs;
      for (uint64_t id = first; id < first + 4000 && id <= n; ++id) specs.push_back({id, 1, 0, 0});
      batch.commands.push_back({1, ++request[0], EncodeCreateAccounts(specs)});
      if (batch.commands.size() == 64) Apply(std::exchange(batch, Batch{}));
    }
    if (!batch.commands.empty()) Apply(batch);
  }

  // kBatchTransfers random plain transfers among `accounts`, `per_command` per command.
  Batch PlainTransfers(uint64_t accounts, size_t per_command) {
    Batch batch;
    batch.timestamp_ns = ++now_ns;
    std::vector<TransferSpec> specs;
    for (size_t i = 0; i < kBatchTransfers; ++i) {
      TransferSpec t;
      t.id = ++next_transfer;
      t.debit = 1 + rng() % accounts;
      t.credit = 1 + (t.debit + rng() % (accounts - 1)) % accounts;
      t.amount = 1 + rng() % 1000;
      t.ledger = 1;
      specs.push_back(t);
      if (specs.size() == per_command || i + 1 == kBatchTransfers) {
        uint64_t client = batch.commands.size() % kClients;
        batch.commands.push_back({client + 1, ++request[client], EncodeCreateTransfers(specs)});
        specs.clear();
      }
    }
    return batch;
  }

  ScratchDir dir;
  std::unique_ptr<MemoryTables> memory_tables;
  std::unique_ptr<LedgerDb> db;
  std::unique_ptr<StateMachine> sm;
  Slot slot = 0;
  uint64_t now_ns = 1;
  uint64_t next_transfer = 0;
  uint64_t request[kClients] = {};
  std::mt19937_64 rng{1};
};

void BM_ApplyPlainTransfers(benchmark::State& state) {
  const uint64_t kAccounts = 100'000;
  Fixture f("apply", /*memory=*/state.range(1) == 1);
  f.CreateAccounts(kAccounts);
  for (auto _ : state) {
    state.PauseTiming();
    Batch batch = f.PlainTransfers(kAccounts, size_t(state.range(0)));
    state.ResumeTiming();
    f.Apply(batch);
  }
  state.SetItemsProcessed(int64_t(state.iterations() * kBatchTransfers));
  state.counters["rss_MB"] = double(ResidentBytes()) / 1e6;
}
// Args: transfers per command, tables (0 = RocksDB, 1 = MemoryTables for comparison).
BENCHMARK(BM_ApplyPlainTransfers)
    ->ArgNames({"per_command", "memory"})
    ->Args({1, 0})
    ->Args({819, 0})
    ->Args({1, 1})
    ->Args({819, 1})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(5);

// One machine with 1,000,000 accounts and its snapshot chunks, shared by the two benchmarks.
struct MillionAccounts {
  MillionAccounts() : f("million") {
    f.CreateAccounts(1'000'000);
    auto stream = Must(f.sm->NewSnapshot());
    while (!stream->done()) {
      chunks.push_back(Must(stream->Next()));
      bytes += chunks.back().size();
    }
  }
  Fixture f;
  std::vector<std::string> chunks;
  size_t bytes = 0;
};
MillionAccounts& Million() {
  static MillionAccounts m;  // Built once, on first use; its directory is removed at exit.
  return m;
}

void BM_Snapshot1MAccounts(benchmark::State& state) {
  MillionAccounts& m = Million();
  size_t bytes = 0, chunks = 0;
  for (auto _ : state) {
    auto stream = Must(m.f.sm->NewSnapshot());
    while (!stream->done()) {
      std::string chunk = Must(stream->Next());
      bytes += chunk.size();
      ++chunks;
    }
  }
  state.SetBytesProcessed(int64_t(bytes));
  state.counters["chunks"] = double(chunks) / double(state.iterations());
  state.counters["snapshot_MB"] = double(m.bytes) / 1e6;
}
BENCHMARK(BM_Snapshot1MAccounts)->Unit(benchmark::kMillisecond)->MinTime(5);

void BM_Restore1MAccounts(benchmark::State& state) {
  MillionAccounts& m = Million();
  for (auto _ : state) {
    state.PauseTiming();
    auto dir = std::make_unique<ScratchDir>("restore");
    auto db = Must(LedgerDb::Open(dir->path()));
    state.ResumeTiming();
    SnapshotInstaller installer(db->tables());
    for (const std::string& chunk : m.chunks) {
      Status s = installer.Add(chunk);
      if (!s.ok()) std::abort();
    }
    auto sm = Must(installer.Finish());
    state.PauseTiming();
    sm.reset();
    db.reset();
    dir.reset();
    state.ResumeTiming();
  }
  state.SetBytesProcessed(int64_t(state.iterations() * m.bytes));
}
BENCHMARK(BM_Restore1MAccounts)->Unit(benchmark::kMillisecond)->MinTime(5);

// Applies `total` plain transfers (one per command, batches of 8,190) among 100,000 accounts
// and prints progress lines: transfers, seconds, transfers/s of the last interval, RSS.
int LongRun(uint64_t total) {
  const uint64_t kAccounts = 100'000;
  Fixture f("longrun");
  f.CreateAccounts(kAccounts);
  std::printf("transfers,seconds,interval_tps,rss_MB,memtables_MB,block_cache_MB\n");
  auto start = std::chrono::steady_clock::now();
  auto last = start;
  uint64_t done = 0, last_done = 0;
  double gen_seconds = 0;
  while (done < total) {
    auto g0 = std::chrono::steady_clock::now();
    Batch batch = f.PlainTransfers(kAccounts, 1);
    gen_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - g0).count();
    f.Apply(batch);
    done += kBatchTransfers;
    auto now = std::chrono::steady_clock::now();
    if (done - last_done >= 1'000'000 || done >= total) {
      double interval = std::chrono::duration<double>(now - last).count();
      std::printf("%lu,%.1f,%.0f,%.1f,%.1f,%.1f\n", (unsigned long)done,
                  std::chrono::duration<double>(now - start).count(),
                  double(done - last_done) / interval, double(ResidentBytes()) / 1e6,
                  double(f.db->MemtableBytes()) / 1e6, double(BlockCacheBlockBytes()) / 1e6);
      std::fflush(stdout);
      last = now;
      last_done = done;
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "# %lu transfers in %.1f s (%.1f s of it generating and encoding commands): "
      "%.0f transfers/s applied\n",
      (unsigned long)done, seconds, gen_seconds, double(done) / (seconds - gen_seconds));
  return 0;
}

// Heap bytes owned by a StateMachine per cached account: 1,000,000 accounts are written to a
// RocksDB, the database is reopened, and the heap in use (mallinfo2) is compared before
// opening a StateMachine on it and after destroying it (RocksDB's own caches stay alive, so
// they do not count). Also prints the RSS growth across the open, which does include them.
int AccountMemory(uint64_t n) {
  ScratchDir dir("memory");
  {
    Fixture f("memory_fill");
    f.CreateAccounts(n);
    auto stream = Must(f.sm->NewSnapshot());
    auto db = Must(LedgerDb::Open(dir.path()));
    SnapshotInstaller installer(db->tables());
    while (!stream->done()) {
      if (!installer.Add(Must(stream->Next())).ok()) std::abort();
    }
  }
  auto db = Must(LedgerDb::Open(dir.path()));
  size_t rss0 = ResidentBytes();
  size_t heap0 = mallinfo2().uordblks;
  auto sm = Must(StateMachine::Open(db->tables()));
  size_t rss1 = ResidentBytes();
  size_t heap1 = mallinfo2().uordblks;
  size_t accounts = sm->account_count();
  sm.reset();
  size_t heap2 = mallinfo2().uordblks;
  std::printf(
      "accounts=%zu heap_bytes_per_account=%.1f rss_growth_bytes_per_account=%.1f "
      "(heap +%.1f MB at open, -%.1f MB at destroy)\n",
      accounts, double(heap1 - heap2) / double(accounts), double(rss1 - rss0) / double(accounts),
      double(heap1 - heap0) / 1e6, double(heap1 - heap2) / 1e6);
  return 0;
}

}  // namespace
}  // namespace synod::ledger

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--long_run=", 11) == 0) {
      return synod::ledger::LongRun(std::strtoull(argv[i] + 11, nullptr, 10));
    }
    if (std::strncmp(argv[i], "--account_memory=", 17) == 0) {
      return synod::ledger::AccountMemory(std::strtoull(argv[i] + 17, nullptr, 10));
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
