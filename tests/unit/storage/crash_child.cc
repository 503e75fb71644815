// storage_crash_child: the process that the crash test kills. Protocol: crash_protocol.h.
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "crash_protocol.h"
#include "storage/rocks_log_store.h"

namespace synod::storage::testing {
namespace {

// One write(2) per announcement: lines below PIPE_BUF bytes reach the pipe atomically.
void Announce(const std::string& lines) {
  size_t done = 0;
  while (done < lines.size()) {
    ssize_t n = ::write(STDOUT_FILENO, lines.data() + done, lines.size() - done);
    if (n <= 0) std::_Exit(kWriteFailedExit);
    done += static_cast<size_t>(n);
  }
}

int RunOpen(const StoreOptions& options) {
  Result<std::unique_ptr<RocksLogStore>> store = RocksLogStore::Open(options);
  Announce(store.ok() ? std::string("ok\n") : store.status().ToString() + "\n");
  return store.ok() ? 0 : kRefusedExit;
}

// One pass: a promise of `round` and accepts of 1-4 new slots from *next_slot (every fifth
// pass also re-accepts the slot before them), with their announcement lines.
std::vector<DurableWrite> BuildPass(uint64_t pass, uint64_t round, NodeId node,
                                    std::mt19937_64* rng, Slot* next_slot, std::string* lines) {
  const Ballot ballot{round, node};
  std::vector<DurableWrite> writes(1);
  writes[0].kind = DurableWrite::Kind::kPromise;
  writes[0].ballot = ballot;
  const Slot first = (pass % 5 == 4 && *next_slot > 1) ? *next_slot - 1 : *next_slot;
  const Slot last = *next_slot + (*rng)() % 4;
  for (Slot slot = first; slot <= last; ++slot) {
    DurableWrite accept;
    accept.kind = DurableWrite::Kind::kAccept;
    accept.slot = slot;
    accept.ballot = ballot;
    accept.batch = CrashBatch(slot);
    writes.push_back(std::move(accept));
    *lines += "A " + std::to_string(slot) + " " + std::to_string(round) + "\n";
  }
  *next_slot = last + 1;
  return writes;
}

int RunWrite(const StoreOptions& options, uint64_t seed, bool announce_early) {
  Result<std::unique_ptr<RocksLogStore>> opened = RocksLogStore::Open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
    return kRefusedExit;
  }
  RocksLogStore& store = *opened.value();
  Result<RecoveredState> recovered = store.Recover();
  if (!recovered.ok()) {
    std::fprintf(stderr, "recover: %s\n", recovered.status().ToString().c_str());
    return kRefusedExit;
  }
  const RecoveredState& state = recovered.value();
  Slot next_slot = state.accepted.empty() ? 1 : state.accepted.rbegin()->first + 1;
  uint64_t round = state.promised.round + 1;
  std::mt19937_64 rng(seed);
  for (uint64_t pass = 0; pass < kPassesMax; ++pass, ++round) {
    std::string lines;
    std::vector<DurableWrite> writes =
        BuildPass(pass, round, options.node_id, &rng, &next_slot, &lines);
    if (announce_early) Announce(lines);
    Status status = store.Persist(writes);
    if (!status.ok()) {
      std::fprintf(stderr, "persist: %s\n", status.ToString().c_str());
      return kWriteFailedExit;
    }
    if (!announce_early) Announce(lines);
  }
  return 0;
}

}  // namespace
}  // namespace synod::storage::testing

int main(int argc, char** argv) {
  using namespace synod::storage::testing;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);                            // No orphan outlives the test.
  spdlog::set_default_logger(spdlog::stderr_color_st("child"));  // stdout carries the protocol.
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s open|write DIR CLUSTER NODE [SEED [announce-early]]\n",
                 argv[0]);
    return 64;
  }
  synod::storage::StoreOptions options;
  options.data_dir = argv[2];
  options.cluster_id = std::strtoull(argv[3], nullptr, 10);
  options.node_id = static_cast<synod::NodeId>(std::strtoul(argv[4], nullptr, 10));
  const std::string mode = argv[1];
  if (mode == "open") return RunOpen(options);
  if (mode == "write" && argc >= 6) {
    const bool early = argc >= 7 && std::string(argv[6]) == "announce-early";
    return RunWrite(options, std::strtoull(argv[5], nullptr, 10), early);
  }
  std::fprintf(stderr, "unknown mode %s\n", argv[1]);
  return 64;
}
