// LoadGen: drives a cluster with bulk ledger or KV work from C concurrent clients, each a
// closed loop with one request in flight (like etcd's benchmark), every request a batch of
// `batch` transfers (or one KV operation). The clients share S sessions (default
// min(C, kSessionsDefault)), one thread each, as etcd's benchmark shares 16 connections.
// Used by `synod load` and `synod demo`.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "net/cluster_spec.h"
#include "net/security.h"
#include "paxos/status.h"

namespace synod::tools {

struct LoadOptions {
  net::ClusterSpec cluster;
  net::Security security;
  std::string kind = "transfer";  // transfer | kv-put | kv-get
  uint64_t accounts = 1000;
  uint64_t transfers = 100000;  // Total operations (transfers, or KV operations).
  double duration_s = 0;        // > 0: run for this long instead of a count.
  uint32_t clients = 8;
  uint32_t sessions = 0;      // Client sessions (threads) they share; 0: kSessionsDefault.
  uint32_t batch = 1000;      // Transfers per request.
  uint32_t value_size = 256;  // KV value bytes.
  uint32_t ledger = 1;
  uint64_t id_base = 0;  // Account/transfer ids start here (0: random base).
  uint64_t seed = 1;
  int timeout_ms = 30000;
  // Called about every 250 ms with (operations done, elapsed seconds); may be empty.
  std::function<void(uint64_t, double)> progress;
  // Set to stop early (e.g. from a signal handler or the demo).
  const std::atomic<bool>* stop = nullptr;
};

inline constexpr uint32_t kSessionsDefault = 16;

struct LoadReport {
  uint64_t operations = 0;  // Transfers (or KV operations) answered.
  uint64_t ok = 0;
  std::map<std::string, uint64_t> failed;  // Result code -> count.
  uint64_t requests = 0;
  double seconds = 0;
  double p50_ms = 0, p99_ms = 0, p999_ms = 0;  // Per request.
  uint64_t errors = 0;                         // Requests that got no answer (timeouts).
  double tps() const { return seconds > 0 ? operations / seconds : 0; }
};

// Creates `accounts` accounts (ids id_base+1 ..) and funds them from one extra source account
// (id id_base + accounts + 1) so that transfers between them mostly succeed.
Status PrepareAccounts(const LoadOptions& o);
// Runs the load; on a transport failure of every session returns the error.
Result<LoadReport> RunLoad(const LoadOptions& o);

}  // namespace synod::tools
