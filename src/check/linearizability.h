// Linearizability checker for Synod's key-value map: is a concurrent history of put, get,
// delete and compare-and-swap operations explainable by some sequential order that respects
// real time (Herlihy & Wing)?
//
// The KV is a set of independent registers, one per key, so the history is split per key and
// each key is checked on its own (P-compositionality, as Porcupine does). Per key, the search is
// Wing & Gong's: repeatedly pick an operation that may go next (one invoked before every
// pending operation returned), apply it to the sequential model, and backtrack when the model
// disagrees with what the operation returned. Lowe's memoisation prunes the search: a pair
// (set of linearized operations, model state) already explored is never explored again.
//
// Operations whose outcome is unknown (the client timed out, so the command may or may not have
// been decided) have no return time: they may take effect at any point after their invoke, or
// never. The search succeeds once every operation with a known outcome is linearized.
//
// The model needs every value written to a key to be unique (the fault harness writes
// "client/sequence" values): the value then identifies the write, and the version a write
// produced (a global KV revision, not predictable per key) is learned from any answer that
// reports it (the put or cas itself, or a get that read the value). A value read that no write
// wrote, or two versions for one value, is a violation found before the search.
//
// The search is bounded (`max_steps` model applications per key): a history too big or too
// concurrent to decide gives Verdict::kUnknown, never a hang.
//
// Pure: no I/O, no clocks. Thread-compatible (no shared state).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace synod::check {

struct KvOp {
  enum class Kind : uint8_t { kPut, kGet, kDelete, kCas };
  Kind kind = Kind::kGet;
  std::string key;
  std::string value;              // kPut, kCas: the value written (unique per write).
  uint64_t expected_version = 0;  // kCas: 0 means "the key must not exist".
  int64_t invoke_ns = 0;          // Monotonic clock, before the request was sent.
  int64_t return_ns = 0;          // Monotonic clock, after the answer; ignored if !known.
  // false: the outcome is unknown (timeout): it may take effect any time after invoke, or never.
  bool known = true;
  // The answer (when known). kPut: ok, version. kGet: ok = found, value, version.
  // kDelete: ok (false: not_found). kCas: ok and the new version, or !ok (version_mismatch)
  // with the current version (0: absent).
  bool ok = true;
  std::string result_value;
  uint64_t result_version = 0;
};

std::string Describe(const KvOp& op);

enum class Verdict { kLinearizable, kNotLinearizable, kUnknown };
const char* VerdictName(Verdict v);

struct CheckOptions {
  uint64_t max_steps = 2'000'000;  // Per key: model applications before giving up (kUnknown).
};

struct KeyReport {
  std::string key;
  Verdict verdict = Verdict::kLinearizable;
  size_t ops = 0;
  uint64_t steps = 0;
  std::string why;  // For kNotLinearizable and kUnknown.
};

struct CheckReport {
  Verdict verdict = Verdict::kLinearizable;  // kNotLinearizable if any key is, else kUnknown
                                             // if any key is, else kLinearizable.
  std::vector<KeyReport> keys;               // Sorted by key.
  std::string Summary() const;               // One line per key that is not linearizable.
};

CheckReport CheckKvHistory(const std::vector<KvOp>& history, CheckOptions options = {});

}  // namespace synod::check
