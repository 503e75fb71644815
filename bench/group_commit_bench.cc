// Synced group commit: acceptor records made durable per second as a function of how many
// share one WriteBatch (one fsync), beside the disk's raw fdatasync latency.
//
//   BM_GroupCommit/N          one RocksLogStore::Persist of N kAccept records, each a batch of
//                             one command with a 256-byte payload (about 330 bytes encoded),
//                             for fresh slots: one WriteBatch, sync = true, WAL on.
//                             items_per_second = acceptor records durable per second.
//   BM_RawFdatasync/append    write 4 KiB at the end of a file, then fdatasync(2) (what a WAL
//                             append costs the disk).
//   BM_RawFdatasync/overwrite write 4 KiB in place at offset 0, then fdatasync(2).
//
// Files go to $SYNOD_BENCH_DIR (default /tmp), removed afterwards. Run:
//   build/bin/group_commit_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "storage/rocks_log_store.h"

namespace synod::storage {
namespace {

constexpr size_t kPayloadBytes = 256;

std::string MakeBenchDir() {
  const char* base = std::getenv("SYNOD_BENCH_DIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/synod-bench-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) std::abort();
  return pattern;
}

BatchRef PayloadBatch() {
  auto batch = std::make_shared<Batch>();
  Command command;
  command.client_id = 1;
  command.request_id = 1;
  command.payload.assign(kPayloadBytes, 'p');
  for (size_t i = 0; i < kPayloadBytes; ++i) command.payload[i] = static_cast<char>(i * 37);
  batch->commands.push_back(std::move(command));
  return batch;
}

void BM_GroupCommit(benchmark::State& state) {
  const auto records = static_cast<size_t>(state.range(0));
  const std::string dir = MakeBenchDir();
  {
    StoreOptions options;
    options.data_dir = dir;
    options.cluster_id = 1;
    options.node_id = 1;
    Result<std::unique_ptr<RocksLogStore>> store = RocksLogStore::Open(options);
    if (!store.ok()) {
      state.SkipWithError(store.status().ToString().c_str());
      return;
    }
    const BatchRef batch = PayloadBatch();
    std::vector<DurableWrite> writes(records);
    for (DurableWrite& write : writes) {
      write.kind = DurableWrite::Kind::kAccept;
      write.ballot = Ballot{1, 1};
      write.batch = batch;
    }
    Slot next_slot = 1;
    for (auto _ : state) {
      for (DurableWrite& write : writes) write.slot = next_slot++;
      Status status = store.value()->Persist(writes);
      if (!status.ok()) {
        state.SkipWithError(status.ToString().c_str());
        break;
      }
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records));
  state.counters["fsyncs/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_GroupCommit)
    ->ArgName("records_per_batch")
    ->Arg(1)
    ->Arg(16)
    ->Arg(256)
    ->Arg(4096)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// Arg 0: append at the end (the file grows; reset every 64 MiB); arg 1: overwrite offset 0.
void BM_RawFdatasync(benchmark::State& state) {
  const bool overwrite = state.range(0) == 1;
  const std::string dir = MakeBenchDir();
  const std::string path = dir + "/fsync.dat";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    state.SkipWithError("cannot open the bench file");
    return;
  }
  const std::string block(4096, 'f');
  off_t offset = 0;
  for (auto _ : state) {
    if (!overwrite && offset >= (64 << 20)) {
      if (::ftruncate(fd, 0) != 0) state.SkipWithError("ftruncate failed");
      offset = 0;
    }
    if (::pwrite(fd, block.data(), block.size(), overwrite ? 0 : offset) !=
            static_cast<ssize_t>(block.size()) ||
        ::fdatasync(fd) != 0) {
      state.SkipWithError("write or fdatasync failed");
      break;
    }
    offset += static_cast<off_t>(block.size());
  }
  ::close(fd);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_RawFdatasync)
    ->ArgName("overwrite")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace synod::storage

BENCHMARK_MAIN();
