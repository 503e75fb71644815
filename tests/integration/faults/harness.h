// The fault harness: client load that records every operation, a seeded fault schedule, and the
// checks that end every run (tests/integration/faults/*_test.cc, tools/soak.sh).
//
// Workload: `threads` client threads (one client::Client each) run, until stopped, a mix of
// ledger transfers between no-overdraft accounts and KV put / get / cas on a few keys. Every
// operation is recorded with its invoke and return time (steady clock) and its outcome:
// acknowledged (with the answer), or unknown (no answer within the client's timeout: it may
// still be decided later, or never). Values written are unique ("t<thread>.<n>").
//
// Checks (CheckRun), once every node is up again and the load stopped:
//   - all nodes converge to the same applied slot and state hash;
//   - `synod check`: per ledger sum(debits) == sum(credits) (posted and pending), no account
//     breaks its must-not-exceed flag, on every node, and the hashes agree;
//   - KV: the recorded history is linearizable (src/check, per key);
//   - ledger, read from every node's own data dir after a clean stop (no log in between):
//     every transfer acknowledged "ok" is there with its fields, every rejected one is absent,
//     and every unknown one is either there (with its fields) on every node or on none.
//
// Not thread-safe except where noted; one per test.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "check/linearizability.h"
#include "ledger/records.h"
#include "paxos/prng.h"
#include "tests/integration/cluster.h"

namespace synod::integration::faults {

struct TransferRecord {
  enum class Outcome { kOk, kRejected, kUnknown };
  ledger::Id128 id = 0;
  ledger::Id128 debit = 0;
  ledger::Id128 credit = 0;
  uint64_t amount = 0;
  Outcome outcome = Outcome::kUnknown;
};

struct WorkloadOptions {
  int threads = 4;
  int kv_keys = 3;
  int accounts = 6;  // No-overdraft accounts, funded with `funding` each at Setup.
  uint64_t funding = 1000;
  int client_timeout_ms = 1500;  // Short, so that faults leave some outcomes unknown.
  int client_retry_ms = 250;
  int pause_ms = 2;                // Between two operations of one thread: bounds the history size.
  std::vector<NodeId> client_ids;  // The nodes the clients talk to; empty: every node.
  // The mix, in percent: KV operations (the rest are transfers), and among those puts and gets
  // (the rest are cas).
  int kv_percent = 50;
  int put_percent = 40;
  int get_percent = 40;
  // Written values are "<value_prefix><thread>.<n>": workloads run side by side need different
  // prefixes, so that every value written stays unique.
  std::string value_prefix = "t";
};

class Workload {
 public:
  Workload(TestCluster* cluster, uint64_t seed, WorkloadOptions options = {});
  ~Workload();  // Stops the threads.

  // Creates and funds the accounts (before any fault). Returns "" or what went wrong.
  std::string Setup();
  void Start();
  void Stop();

  std::vector<check::KvOp> history() const;
  std::vector<TransferRecord> transfers() const;

 private:
  void Run(int thread);
  void KvStep(client::Client& client, int thread, uint64_t r, uint64_t* seq,
              std::vector<uint64_t>* versions);
  void TransferStep(client::Client& client, int thread, uint64_t r, uint64_t* seq);

  TestCluster* cluster_;
  uint64_t seed_;
  WorkloadOptions options_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  mutable std::mutex mu_;
  std::vector<check::KvOp> history_;       // Guarded by mu_.
  std::vector<TransferRecord> transfers_;  // Guarded by mu_.
};

struct RunStats {
  size_t faults = 0;
  size_t kv_acked = 0, kv_unknown = 0;
  size_t transfers_acked = 0, transfers_unknown = 0;
};

// Every check above, over `members` (default: every node of the cluster; `synod check` goes
// to cluster.MemberSpec()). REQUIRES: load stopped, every one of `members` started. Stops them
// (for the offline read). Fills the counts of *stats; returns one line per failed check ("" =
// all ok).
std::string CheckRun(TestCluster& cluster, const Workload& workload, RunStats* stats,
                     std::vector<NodeId> members = {});
// The same over the joint history of workloads that ran side by side (e.g. clients of
// different nodes). REQUIRES: different value_prefix each; at most one of them ran transfers
// (transfer ids are only unique within a workload).
std::string CheckRun(TestCluster& cluster, const std::vector<const Workload*>& workloads,
                     RunStats* stats, std::vector<NodeId> members = {});

// The clock of the recorded histories (steady clock, ns): KvOp::invoke_ns and return_ns.
int64_t NowNs();

// The seed of this run: $SYNOD_FAULT_SEED, else drawn at random. Printed with a reproducer.
uint64_t FaultSeed();

// One line for tools/soak.sh:
//   fault-run test=NAME seed=S faults=F kv_acked=A kv_unknown=U transfers_acked=A
//   transfers_unknown=U checks=ok|fail
void PrintSummary(const std::string& test, uint64_t seed, const RunStats& stats, bool ok);

// A seeded source of fault timings.
class Schedule {
 public:
  explicit Schedule(uint64_t seed) : prng_(seed) {}
  uint64_t Next() { return prng_.Next(); }
  void SleepBetween(int lo_ms, int hi_ms);

 private:
  Prng prng_;
};

// "Suite.Name" of the running test.
std::string CurrentTestName();
// Prints the seed and the command that replays this test with it.
void PrintReproducer(uint64_t seed);

}  // namespace synod::integration::faults
