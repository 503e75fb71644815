// Crash test with real processes: a child writes acceptor records through the real store and
// announces each acknowledged Persist on a pipe; the parent kills it with SIGKILL at random
// moments, reopens the store, and checks that every acknowledged write is there and the
// promised ballot never went below an acknowledged one. A second test plants a bug (announce
// before Persist) and shows that the same checker catches it.
//
// SIGKILL ends the process, not the machine: it proves that an acknowledged write has reached
// the kernel through the WAL and that recovery after a crash at any instruction (including in
// the middle of open or of a write) keeps it. Power loss is covered by sync = true, not here.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <sstream>

#include "child_process.h"
#include "crash_protocol.h"
#include "test_util.h"

namespace synod::storage {
namespace {

using Clock = std::chrono::steady_clock;
using testing::ChildProcess;
using testing::TempDir;

struct CrashRun {
  int kills = 0;
  size_t acks = 0;
  std::vector<std::string> violations;  // Acknowledged writes lost: what the checker looks for.
  std::vector<std::string> errors;      // The harness itself failed (child would not run...).
};

// Acknowledged history: the highest acknowledged round per slot, and overall.
struct Acked {
  std::map<Slot, uint64_t> round_by_slot;
  uint64_t max_round = 0;

  // False for a line that is not an announcement.
  bool Add(const std::string& line) {
    std::istringstream in(line);
    char tag = 0;
    Slot slot = 0;
    uint64_t round = 0;
    in >> tag >> slot >> round;
    if (!in || tag != 'A' || slot == 0 || round == 0) return false;
    uint64_t& known = round_by_slot[slot];
    known = std::max(known, round);
    max_round = std::max(max_round, round);
    return true;
  }
};

// Reopens the store and lists every acknowledged write it lost.
void Check(const std::string& dir, const Acked& acked, std::vector<std::string>* violations) {
  auto store = testing::OpenOrDie(testing::Options(dir));
  if (store == nullptr) {
    violations->push_back("store does not reopen");
    return;
  }
  Result<RecoveredState> state = store->Recover();
  if (!state.ok()) {
    violations->push_back("recover failed: " + state.status().ToString());
    return;
  }
  if (state.value().promised.round < acked.max_round) {
    violations->push_back("promised round " + std::to_string(state.value().promised.round) +
                          " below acknowledged round " + std::to_string(acked.max_round));
  }
  for (const auto& [slot, round] : acked.round_by_slot) {
    auto it = state.value().accepted.find(slot);
    if (it == state.value().accepted.end()) {
      violations->push_back("acknowledged slot " + std::to_string(slot) + " missing");
    } else if (it->second.ballot.round < round) {
      violations->push_back("slot " + std::to_string(slot) + " at round " +
                            std::to_string(it->second.ballot.round) + ", acknowledged " +
                            std::to_string(round));
    } else if (!SameBatch(it->second.batch, testing::CrashBatch(slot))) {
      violations->push_back("slot " + std::to_string(slot) + " holds another batch");
    }
  }
}

// One child life: spawn, let it write for a random while, SIGKILL. Returns false if the child
// could not be run or died by itself.
bool KillOnce(const std::string& dir, uint64_t seed, bool announce_early, std::mt19937_64* rng,
              Acked* acked, CrashRun* run) {
  std::vector<std::string> argv = {SYNOD_CRASH_CHILD,
                                   "write",
                                   dir,
                                   std::to_string(testing::kCluster),
                                   std::to_string(testing::kNode),
                                   std::to_string(seed)};
  if (announce_early) argv.push_back("announce-early");
  ChildProcess child(argv);
  if (!child.started()) {
    run->errors.push_back(std::string("cannot spawn ") + SYNOD_CRASH_CHILD);
    return false;
  }
  std::vector<std::string> lines;
  // A quarter of the kills land anywhere from spawn on (often inside open and recovery); the
  // rest 0-20 ms after the first acknowledged write, in the middle of the write loop.
  const bool after_first_ack = (*rng)() % 4 != 0;
  const auto delay = std::chrono::microseconds((*rng)() % (after_first_ack ? 20000 : 30000));
  auto kill_at = Clock::now() + delay;
  const auto give_up = Clock::now() + std::chrono::seconds(10);
  bool waiting_for_ack = after_first_ack;
  while (Clock::now() < (waiting_for_ack ? give_up : kill_at)) {
    if (!child.ReadLines(1, &lines)) break;  // The child exited on its own.
    if (waiting_for_ack && !lines.empty()) {
      waiting_for_ack = false;
      kill_at = Clock::now() + delay;
    }
  }
  const int status = child.KillAndReap(&lines);
  for (const std::string& line : lines) {
    if (!acked->Add(line)) run->errors.push_back("child wrote \"" + line + "\" on stdout");
  }
  run->acks += lines.size();
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
    run->errors.push_back("child exited by itself, wait status " + std::to_string(status));
    return false;
  }
  ++run->kills;
  return true;
}

CrashRun RunCrashLoop(bool announce_early, int kills_wanted, std::chrono::seconds budget,
                      uint64_t seed) {
  TempDir dir;
  std::mt19937_64 rng(seed);
  Acked acked;
  CrashRun run;
  const auto deadline = Clock::now() + budget;
  while (run.kills < kills_wanted && Clock::now() < deadline) {
    if (!KillOnce(dir.path(), rng(), announce_early, &rng, &acked, &run)) break;
    Check(dir.path(), acked, &run.violations);
    if (!run.violations.empty()) break;  // Found (with announce_early: the planted bug caught).
  }
  return run;
}

uint64_t TestSeed() {
  const uint64_t seed = std::random_device{}();
  std::printf("crash test seed %llu\n", static_cast<unsigned long long>(seed));
  return seed;
}

TEST(StorageCrash, EveryAcknowledgedWriteSurvivesFiftySigkills) {
  const uint64_t seed = TestSeed();
  CrashRun run = RunCrashLoop(false, 50, std::chrono::seconds(60), seed);
  for (const std::string& violation : run.violations) ADD_FAILURE() << violation;
  for (const std::string& error : run.errors) ADD_FAILURE() << error;
  EXPECT_GE(run.kills, 50) << "seed " << seed;
  EXPECT_GT(run.acks, 100u) << "too few acknowledged writes to prove anything; seed " << seed;
  std::printf("%d kills, %zu acknowledged accepts\n", run.kills, run.acks);
}

TEST(StorageCrash, CheckerCatchesAChildThatAnnouncesBeforePersisting) {
  const uint64_t seed = TestSeed();
  CrashRun run = RunCrashLoop(true, 50, std::chrono::seconds(30), seed);
  for (const std::string& error : run.errors) ADD_FAILURE() << error;
  EXPECT_FALSE(run.violations.empty())
      << "planted bug not caught in " << run.kills << " kills; seed " << seed;
  if (!run.violations.empty()) std::printf("caught: %s\n", run.violations.front().c_str());
}

// The first start of a node creates its database; a kill at any moment of that creation must
// leave a data dir that the next start opens (the crash loop above once found the opposite).
TEST(StorageCrash, AKillDuringCreationNeverLeavesAnUnopenableDataDir) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  TempDir dir;
  const int runs = static_cast<int>(testing::Scaled(20, 10));
  // Run 0 is not killed: it measures how long a creation takes, and the kills of the later
  // runs land uniformly within that time.
  auto creation_time = std::chrono::microseconds(0);
  for (int run = 0; run < runs; ++run) {
    const std::string data_dir = dir.Sub("node" + std::to_string(run));
    const auto start = Clock::now();
    ChildProcess child({SYNOD_CRASH_CHILD, "open", data_dir, std::to_string(testing::kCluster),
                        std::to_string(testing::kNode)});
    ASSERT_TRUE(child.started());
    std::vector<std::string> lines;
    if (run == 0) {
      ASSERT_EQ(child.WaitForExit(&lines), 0);
      creation_time = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
      std::printf("one creation takes %lld us\n", static_cast<long long>(creation_time.count()));
    } else {
      const auto kill_at = start + std::chrono::microseconds(rng() % (creation_time.count() + 1));
      while (Clock::now() < kill_at && child.ReadLines(1, &lines)) {
      }
      (void)child.KillAndReap(&lines);
    }
    auto store = testing::OpenOrDie(testing::Options(data_dir));
    ASSERT_NE(store, nullptr) << "run " << run << ", seed " << seed;
    EXPECT_TRUE(store->Recover().ok());
    EXPECT_EQ(store->meta().node_id, testing::kNode);
  }
}

}  // namespace
}  // namespace synod::storage
