#include "tools/load_gen.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <random>
#include <span>
#include <thread>

#include "client/client.h"
#include "ledger/client.h"
#include "ledger/ledger_limits.h"
#include "paxos/limits.h"

namespace synod::tools {
namespace {

using Clock = std::chrono::steady_clock;
using ledger::Id128;

Id128 AccountId(const LoadOptions& o, uint64_t i) { return (Id128(o.id_base) << 64) | (i + 1); }
Id128 SourceId(const LoadOptions& o) { return AccountId(o, o.accounts); }

Result<std::unique_ptr<client::Client>> Connect(const LoadOptions& o,
                                                zmq::context_t* context = nullptr) {
  client::ClientOptions co;
  co.cluster = o.cluster;
  co.security = o.security;
  co.timeout_ms = o.timeout_ms;
  co.context = context;
  return client::Client::Connect(std::move(co));
}

// Sends one command and checks every event came back ok (or `exists`, for a rerun).
Status ExecuteAllOk(client::Client& c, std::string payload, const char* what) {
  auto bytes = c.Execute(std::move(payload));
  if (!bytes.ok()) return bytes.status();
  auto r = ledger::DecodeResult(bytes.value());
  if (!r.ok()) return r.status();
  for (auto code : r.value().event_codes) {
    if (code != ledger::ResultCode::ok && code != ledger::ResultCode::exists) {
      return Status::Aborted(std::string(what) + " failed: " + ledger::ResultCodeName(code));
    }
  }
  return Status::Ok();
}

struct Shared {
  std::mutex mu;
  LoadReport report;
  std::vector<double> latencies_ms;
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> issued{0};
  Status error;
};

std::string BuildTransfers(const LoadOptions& o, std::mt19937_64& rng, uint64_t thread,
                           uint64_t* counter, uint32_t n) {
  std::vector<ledger::TransferSpec> ts(n);
  for (auto& t : ts) {
    uint64_t a = rng() % o.accounts, b = rng() % (o.accounts - 1);
    if (b >= a) ++b;
    t.id = (Id128(o.id_base + 1) << 64) | (thread << 40) | ++*counter;
    t.debit = AccountId(o, a);
    t.credit = AccountId(o, b);
    t.amount = 1 + rng() % 10;
    t.ledger = o.ledger;
    t.code = 1;
  }
  return ledger::EncodeCreateTransfers(ts);
}

std::string BuildKv(const LoadOptions& o, std::mt19937_64& rng, const std::string& value) {
  const std::string key = "load-" + std::to_string(rng() % 10000);
  return o.kind == "kv-get" ? ledger::EncodeKvGet(key) : ledger::EncodeKvPut(key, value);
}

// One session (a Client, one thread) carrying `clients` closed-loop clients: each has one
// request in flight and sends the next as soon as its answer came. Sessions cost the load
// generator a thread and a socket per node each, so many clients share a few sessions (as
// etcd's benchmark shares 16 gRPC connections among its clients).
void Session(const LoadOptions& o, uint64_t thread, uint32_t clients, Shared* shared,
             Clock::time_point start, zmq::context_t* context) {
  auto c = Connect(o, context);
  if (!c.ok()) {
    std::lock_guard<std::mutex> lock(shared->mu);
    shared->error = c.status();
    return;
  }
  std::mt19937_64 rng(o.seed * 1000003 + thread);
  const std::string value(o.value_size, 'v');
  const bool transfers = o.kind == "transfer";
  const uint32_t per_request = transfers ? o.batch : 1;
  uint64_t counter = 0;
  LoadReport local;
  std::vector<double> latencies;
  std::map<uint64_t, Clock::time_point> in_flight;  // Request id -> sent at.
  auto more = [&] {
    if (o.stop && o.stop->load()) return false;
    if (o.duration_s > 0) {
      return std::chrono::duration<double>(Clock::now() - start).count() < o.duration_s;
    }
    return shared->issued.fetch_add(per_request) < o.transfers;
  };
  auto count = [&](ledger::ResultCode code) {
    ++local.operations;
    if (code == ledger::ResultCode::ok)
      ++local.ok;
    else
      ++local.failed[ledger::ResultCodeName(code)];
  };
  std::vector<std::pair<uint64_t, std::string>> done;
  std::vector<uint64_t> expired;
  for (bool sending = true;;) {
    while (sending && in_flight.size() < clients && (sending = more())) {
      std::string payload = transfers ? BuildTransfers(o, rng, thread, &counter, per_request)
                                      : BuildKv(o, rng, value);
      auto id = c.value()->Submit(std::move(payload));
      if (!id.ok()) {  // Refused before sending (too large): no point in trying again.
        ++local.requests;
        ++local.errors;
        sending = false;
        break;
      }
      in_flight[id.value()] = Clock::now();
    }
    if (in_flight.empty()) break;
    done.clear();
    expired.clear();
    (void)c.value()->Poll(100, &done, &expired);  // Ok whenever `expired` is given.
    const auto now = Clock::now();
    auto finish = [&](uint64_t id) {
      auto it = in_flight.find(id);
      latencies.push_back(std::chrono::duration<double, std::milli>(now - it->second).count());
      in_flight.erase(it);
      ++local.requests;
    };
    for (uint64_t id : expired) {
      finish(id);
      ++local.errors;
    }
    for (const auto& [id, bytes] : done) {
      finish(id);
      auto r = ledger::DecodeResult(bytes);
      if (!r.ok()) {
        ++local.errors;
        continue;
      }
      const auto& codes = r.value().event_codes;
      if (transfers) {
        for (auto code : codes) count(code);
      } else {
        count(r.value().code);
      }
      shared->done.fetch_add(transfers ? codes.size() : 1);
    }
  }
  std::lock_guard<std::mutex> lock(shared->mu);
  LoadReport& total = shared->report;
  total.operations += local.operations;
  total.ok += local.ok;
  total.requests += local.requests;
  total.errors += local.errors;
  for (auto& [code, n] : local.failed) total.failed[code] += n;
  shared->latencies_ms.insert(shared->latencies_ms.end(), latencies.begin(), latencies.end());
}

// Sends `all` in as few commands as fit: at most kEventsPerCommandMax events each, and at most
// three quarters of the command payload limit (limits::kPayloadBytesMax) in bytes, since the
// client refuses a larger command.
template <typename Spec>
Status SendInChunks(client::Client& c, const std::vector<Spec>& all,
                    std::string (*encode)(std::span<const Spec>), const char* what) {
  constexpr size_t kBytes = synod::limits::kPayloadBytesMax * 3 / 4;
  size_t step = ledger::limits::kEventsPerCommandMax;
  for (size_t i = 0; i < all.size();) {
    const size_t n = std::min(step, all.size() - i);
    std::string payload = encode(std::span<const Spec>(all.data() + i, n));
    if (payload.size() > kBytes && n > 1) {
      step = std::max<size_t>(1, n * kBytes / payload.size() * 9 / 10);
      continue;
    }
    if (Status s = ExecuteAllOk(c, std::move(payload), what); !s.ok()) return s;
    i += n;
  }
  return Status::Ok();
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t rank = static_cast<size_t>(p * (v.size() - 1) + 0.5);  // Nearest rank.
  std::nth_element(v.begin(), v.begin() + rank, v.end());
  return v[rank];
}

}  // namespace

Status PrepareAccounts(const LoadOptions& o) {
  auto c = Connect(o);
  if (!c.ok()) return c.status();
  if (o.kind != "transfer") {
    if (o.kind != "kv-get") return Status::Ok();
    for (uint64_t k = 0; k < 10000; k += 1) {  // Keys for the reads to find.
      auto r = c.value()->Execute(
          ledger::EncodeKvPut("load-" + std::to_string(k), std::string(o.value_size, 'v')));
      if (!r.ok()) return r.status();
    }
    return Status::Ok();
  }
  std::vector<ledger::AccountSpec> accounts;
  for (uint64_t i = 0; i <= o.accounts; ++i) accounts.push_back({AccountId(o, i), o.ledger, 1, 0});
  if (Status s = SendInChunks<ledger::AccountSpec>(*c.value(), accounts,
                                                   ledger::EncodeCreateAccounts, "accounts");
      !s.ok()) {
    return s;
  }
  std::vector<ledger::TransferSpec> funding;
  for (uint64_t i = 0; i < o.accounts; ++i) {
    ledger::TransferSpec t;
    t.id = (Id128(o.id_base + 2) << 64) | (i + 1);
    t.debit = SourceId(o);
    t.credit = AccountId(o, i);
    t.amount = 1000000;
    t.ledger = o.ledger;
    t.code = 1;
    funding.push_back(t);
  }
  return SendInChunks<ledger::TransferSpec>(*c.value(), funding, ledger::EncodeCreateTransfers,
                                            "funding");
}

Result<LoadReport> RunLoad(const LoadOptions& o) {
  if (o.kind == "transfer" && o.accounts < 2) {
    return Status::InvalidArgument("--accounts must be at least 2");
  }
  Shared shared;
  zmq::context_t context(2);  // Two I/O threads serve every session.
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  const uint32_t sessions = std::min(o.clients, o.sessions != 0 ? o.sessions : kSessionsDefault);
  for (uint32_t t = 0; t < sessions; ++t) {
    const uint32_t clients = o.clients / sessions + (t < o.clients % sessions ? 1 : 0);
    threads.emplace_back(Session, std::cref(o), t, clients, &shared, start, &context);
  }
  std::atomic<bool> finished{false};
  std::thread reporter([&] {
    while (!finished.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      if (o.progress) {
        o.progress(shared.done.load(), std::chrono::duration<double>(Clock::now() - start).count());
      }
    }
  });
  for (auto& t : threads) t.join();
  const auto end = Clock::now();  // Before the reporter's join, which can take up to 250 ms.
  finished = true;
  reporter.join();
  if (!shared.error.ok() && shared.report.requests == 0) return shared.error;
  LoadReport r = shared.report;
  r.seconds = std::chrono::duration<double>(end - start).count();
  r.p50_ms = Percentile(shared.latencies_ms, 0.50);
  r.p99_ms = Percentile(shared.latencies_ms, 0.99);
  r.p999_ms = Percentile(shared.latencies_ms, 0.999);
  return r;
}

}  // namespace synod::tools
