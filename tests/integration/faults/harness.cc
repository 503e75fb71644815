#include "tests/integration/faults/harness.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>

#include "ledger/client.h"
#include "node/ledger_app.h"
#include "node/node.h"
#include "paxos/check.h"
#include "storage/ledger/rocksdb_ledger_tables.h"
#include "storage/rocks_log_store.h"

namespace synod::integration::faults {
namespace {

using Kind = check::KvOp::Kind;
using Outcome = TransferRecord::Outcome;
constexpr ledger::Id128 kBank = 1000;  // No flags: may go negative; funds the others.
constexpr uint32_t kLedger = 1;

// What one stopped node's data dir holds for each transfer id (nullopt: absent).
using Found = std::map<ledger::Id128, std::optional<ledger::Transfer>>;

std::string ReadTransfers(TestCluster& cluster, NodeId id,
                          const std::vector<TransferRecord>& records, Found* out) {
  storage::StoreOptions so;
  so.data_dir = cluster.DataDir(id);
  so.cluster_id = node::ClusterIdOf(cluster.cluster());
  so.adopt_cluster_id = true;  // A member added later made its data dir with another spec.
  so.node_id = id;
  auto store = storage::RocksLogStore::Open(so);
  if (!store.ok()) return "node " + std::to_string(id) + ": " + store.status().ToString();
  ledger::RocksDbLedgerTables tables(store.value()->db(), node::LedgerHandles(store.value().get()));
  for (const TransferRecord& r : records) {
    std::string value;
    bool found = false;
    Status s = tables.Get(ledger::Table::kTransfers, ledger::TransferKey(r.id), &value, &found);
    if (!s.ok()) return "node " + std::to_string(id) + ": " + s.ToString();
    ledger::Transfer t;
    if (found && !ledger::DecodeTransfer(value, &t)) {
      return "node " + std::to_string(id) + ": undecodable transfer " + ledger::IdToString(r.id);
    }
    (*out)[r.id] = found ? std::optional<ledger::Transfer>(t) : std::nullopt;
  }
  return "";
}

bool SameFields(const TransferRecord& r, const ledger::Transfer& t) {
  return t.debit == r.debit && t.credit == r.credit && t.amount == r.amount && t.ledger == kLedger;
}

// The transfer checks over what every node holds.
std::string CheckTransfers(const std::vector<TransferRecord>& records,
                           const std::map<NodeId, Found>& nodes) {
  std::string out;
  size_t reported = 0;
  auto fail = [&](const std::string& line) {
    if (++reported <= 10) out += line + "\n";
  };
  for (const TransferRecord& r : records) {
    const std::string name = "transfer " + ledger::IdToString(r.id);
    std::map<bool, std::vector<NodeId>> presence;
    for (const auto& [node, found] : nodes) {
      const auto& t = found.at(r.id);
      presence[t.has_value()].push_back(node);
      if (t && !SameFields(r, *t))
        fail(name + ": node " + std::to_string(node) + " has other fields");
    }
    if (r.outcome == Outcome::kOk && !presence[false].empty()) {
      fail(name + " was acknowledged ok but is missing on node " +
           std::to_string(presence[false].front()));
    }
    if (r.outcome == Outcome::kRejected && !presence[true].empty()) {
      fail(name + " was rejected but exists on node " + std::to_string(presence[true].front()));
    }
    if (r.outcome == Outcome::kUnknown && !presence[true].empty() && !presence[false].empty()) {
      fail(name + " (outcome unknown) is on node " + std::to_string(presence[true].front()) +
           " but not on node " + std::to_string(presence[false].front()));
    }
  }
  if (reported > 10)
    out += "... and " + std::to_string(reported - 10) + " more transfer failures\n";
  return out;
}

}  // namespace

// ---- Workload -------------------------------------------------------------------------------

Workload::Workload(TestCluster* cluster, uint64_t seed, WorkloadOptions options)
    : cluster_(cluster), seed_(seed), options_(options) {}

Workload::~Workload() { Stop(); }

std::string Workload::Setup() {
  auto client = cluster_->NewClient(20000, 500, options_.client_ids);
  std::vector<ledger::AccountSpec> accounts = {{kBank, kLedger, 1, 0}};
  for (int i = 1; i <= options_.accounts; ++i) {
    accounts.push_back({ledger::Id128(i), kLedger, 1, ledger::kDebitsLimited});
  }
  std::vector<ledger::TransferSpec> funding;
  for (int i = 1; i <= options_.accounts; ++i) {
    funding.push_back({.id = (ledger::Id128(1) << 100) + i,
                       .debit = kBank,
                       .credit = ledger::Id128(i),
                       .amount = options_.funding,
                       .ledger = kLedger,
                       .code = 1});
  }
  for (const std::string& payload :
       {ledger::EncodeCreateAccounts(accounts), ledger::EncodeCreateTransfers(funding)}) {
    auto r = client->Execute(payload);
    if (!r.ok()) return "setup: " + r.status().ToString();
    auto d = ledger::DecodeResult(r.value());
    if (!d.ok()) return "setup: " + d.status().ToString();
    for (auto code : d.value().event_codes) {
      if (code != ledger::ResultCode::ok) {
        return std::string("setup: ") + ledger::ResultCodeName(code);
      }
    }
  }
  return "";
}

void Workload::Start() {
  stop_ = false;
  for (int t = 0; t < options_.threads; ++t) threads_.emplace_back([this, t] { Run(t); });
}

void Workload::Stop() {
  stop_ = true;
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

std::vector<check::KvOp> Workload::history() const {
  std::lock_guard<std::mutex> lock(mu_);
  return history_;
}

std::vector<TransferRecord> Workload::transfers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return transfers_;
}

void Workload::Run(int thread) {
  auto client = cluster_->NewClient(options_.client_timeout_ms, options_.client_retry_ms,
                                    options_.client_ids);
  Prng prng(seed_ ^ (uint64_t(thread + 1) << 56));
  uint64_t seq = 0;
  std::vector<uint64_t> versions(size_t(options_.kv_keys), 0);  // Last version seen per key.
  while (!stop_.load()) {
    const uint64_t rng = prng.Next();
    if (int(rng % 100) < options_.kv_percent) {
      KvStep(*client, thread, rng >> 1, &seq, &versions);
    } else {
      TransferStep(*client, thread, rng >> 1, &seq);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.pause_ms));
  }
}

void Workload::KvStep(client::Client& client, int thread, uint64_t r, uint64_t* seq,
                      std::vector<uint64_t>* versions) {
  const size_t key_index = size_t(r % uint64_t(options_.kv_keys));
  check::KvOp op;
  op.key = "k" + std::to_string(key_index);
  const int pick = int((r / 8) % 100);
  op.kind = pick < options_.put_percent                          ? Kind::kPut
            : pick < options_.put_percent + options_.get_percent ? Kind::kGet
                                                                 : Kind::kCas;
  std::string payload;
  if (op.kind == Kind::kGet) {
    payload = ledger::EncodeKvGet(op.key);
  } else {
    op.value = options_.value_prefix + std::to_string(thread) + "." + std::to_string(++*seq);
    op.expected_version = (*versions)[key_index];
    payload = op.kind == Kind::kPut ? ledger::EncodeKvPut(op.key, op.value)
                                    : ledger::EncodeKvCas(op.key, op.expected_version, op.value);
  }
  op.invoke_ns = NowNs();
  auto result = client.Execute(std::move(payload));
  op.return_ns = NowNs();
  auto decoded = result.ok() ? ledger::DecodeResult(result.value())
                             : Result<ledger::DecodedResult>(result.status());
  if (!decoded.ok()) {
    op.known = false;
  } else {
    const ledger::DecodedResult& d = decoded.value();
    op.ok = d.code == ledger::ResultCode::ok;
    op.result_version = d.version;
    if (op.kind == Kind::kGet && op.ok && !d.items.empty()) op.result_value = d.items[0].value;
    // Unexpected codes are kept as answers: the checker then rejects the history.
    if (op.ok || op.kind == Kind::kCas) (*versions)[key_index] = d.version;
  }
  std::lock_guard<std::mutex> lock(mu_);
  history_.push_back(std::move(op));
}

void Workload::TransferStep(client::Client& client, int thread, uint64_t r, uint64_t* seq) {
  TransferRecord rec;
  rec.id = (ledger::Id128(thread + 1) << 64) | ++*seq;
  const uint64_t n = uint64_t(options_.accounts);
  rec.debit = ledger::Id128(1 + r % n);
  rec.credit = ledger::Id128(1 + (r / n + 1 + r % n) % n);  // Never the debit account.
  if (rec.credit == rec.debit) rec.credit = rec.debit % n + 1;
  rec.amount = 1 + (r >> 20) % 400;  // Often more than the balance: exceeds_credits.
  ledger::TransferSpec spec{.id = rec.id,
                            .debit = rec.debit,
                            .credit = rec.credit,
                            .amount = rec.amount,
                            .ledger = kLedger,
                            .code = 1};
  auto result = client.Execute(ledger::EncodeCreateTransfers({&spec, 1}));
  auto decoded = result.ok() ? ledger::DecodeResult(result.value())
                             : Result<ledger::DecodedResult>(result.status());
  if (!decoded.ok() || decoded.value().event_codes.size() != 1) {
    rec.outcome = Outcome::kUnknown;
  } else {
    rec.outcome = decoded.value().event_codes[0] == ledger::ResultCode::ok ? Outcome::kOk
                                                                           : Outcome::kRejected;
  }
  std::lock_guard<std::mutex> lock(mu_);
  transfers_.push_back(rec);
}

// ---- Checks ---------------------------------------------------------------------------------

std::string CheckRun(TestCluster& cluster, const Workload& workload, RunStats* stats,
                     std::vector<NodeId> members) {
  return CheckRun(cluster, std::vector<const Workload*>{&workload}, stats, std::move(members));
}

std::string CheckRun(TestCluster& cluster, const std::vector<const Workload*>& workloads,
                     RunStats* stats, std::vector<NodeId> members) {
  if (members.empty()) members = cluster.ids();
  std::vector<check::KvOp> history;
  std::vector<TransferRecord> transfers;
  for (const Workload* w : workloads) {
    std::vector<check::KvOp> h = w->history();
    history.insert(history.end(), h.begin(), h.end());
    std::vector<TransferRecord> t = w->transfers();
    SYNOD_CHECK(transfers.empty() || t.empty());  // Transfer ids repeat across workloads.
    transfers.insert(transfers.end(), t.begin(), t.end());
  }
  for (const check::KvOp& op : history) ++(op.known ? stats->kv_acked : stats->kv_unknown);
  for (const TransferRecord& t : transfers) {
    ++(t.outcome == Outcome::kUnknown ? stats->transfers_unknown : stats->transfers_acked);
  }
  std::string failures;
  for (NodeId id : members) {  // A node that died on its own would escape the checks.
    if (!cluster.Running(id)) failures += "node " + std::to_string(id) + " is not running\n";
  }
  if (!cluster.WaitForConvergence(60000, members)) {
    failures += "nodes did not converge to one applied slot and state hash:\n" +
                cluster.DescribeStatus(members);
  }
  CliResult check = cluster.Cli({"check", "--json"}, 30000);
  if (check.exit_code != 0 || !check.First().is_object() || check.First()["ok"] != true) {
    failures += "synod check failed: " + check.Describe() + "\n";
  }
  check::CheckReport lin = check::CheckKvHistory(history);
  if (lin.verdict != check::Verdict::kLinearizable) {
    failures += "KV history: " + lin.Summary() + "\n";
  }
  std::map<NodeId, Found> found;
  for (NodeId id : members) cluster.Stop(id);
  for (NodeId id : members) {
    std::string error = ReadTransfers(cluster, id, transfers, &found[id]);
    if (!error.empty()) failures += "reading transfers: " + error + "\n";
  }
  if (found.size() == members.size()) failures += CheckTransfers(transfers, found);
  return failures;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint64_t FaultSeed() {
  if (const char* s = std::getenv("SYNOD_FAULT_SEED"); s != nullptr && *s != 0) {
    return std::strtoull(s, nullptr, 10);
  }
  return std::random_device{}() % 1000000000u;
}

void PrintSummary(const std::string& test, uint64_t seed, const RunStats& s, bool ok) {
  std::printf(
      "fault-run test=%s seed=%llu faults=%zu kv_acked=%zu kv_unknown=%zu transfers_acked=%zu "
      "transfers_unknown=%zu checks=%s\n",
      test.c_str(), (unsigned long long)seed, s.faults, s.kv_acked, s.kv_unknown, s.transfers_acked,
      s.transfers_unknown, ok ? "ok" : "fail");
  std::fflush(stdout);
}

void Schedule::SleepBetween(int lo_ms, int hi_ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(prng_.Range(lo_ms, hi_ms)));
}

std::string CurrentTestName() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(info->test_suite_name()) + "." + info->name();
}

void PrintReproducer(uint64_t seed) {
  std::printf("fault seed %llu; reproduce: SYNOD_FAULT_SEED=%llu %s --gtest_filter=%s\n",
              (unsigned long long)seed, (unsigned long long)seed,
              "build/bin/integration_fault_tests", CurrentTestName().c_str());
  std::fflush(stdout);
}

}  // namespace synod::integration::faults
