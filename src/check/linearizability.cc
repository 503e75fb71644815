#include "check/linearizability.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace synod::check {
namespace {

using Kind = KvOp::Kind;
constexpr int kAbsent = -1;  // The key does not exist; else the id of its value.

// The model: the key's value and, once known, its version (0: not revealed by any answer yet;
// a version mismatch binds it).
struct State {
  int value = kAbsent;
  uint64_t version = 0;
};
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();  // Return time of unknowns.

uint64_t SplitMix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// The memo key of (linearized set, state): two independent Zobrist hashes, 128 bits in all.
// A collision (probability about visited^2 / 2^128) could only prune a branch wrongly.
struct MemoKey {
  uint64_t a = 0, b = 0;
  bool operator==(const MemoKey&) const = default;
};
struct MemoHash {
  size_t operator()(const MemoKey& k) const { return size_t(k.a ^ (k.b * 0x9E3779B97F4A7C15ull)); }
};

// One key's history and its sequential model.
class KeyChecker {
 public:
  KeyChecker(std::vector<const KvOp*> ops, const CheckOptions& options)
      : ops_(std::move(ops)), options_(options) {}

  KeyReport Run();

 private:
  bool Prepare(std::string* why);
  void DropUnobservedUnknownWrites(const std::unordered_set<std::string>& read);
  int ValueId(const std::string& value) const;
  bool Learn(int value, uint64_t version, const KvOp& op, std::string* why);
  bool CouldHaveVersion(const State& state, uint64_t version) const;
  State Written(const std::string& value) const;
  std::optional<State> Apply(const KvOp& op, const State& state) const;
  std::vector<int> Candidates() const;
  void Unlink(int i);
  void Relink(int i);
  MemoKey Key(const State& state) const;
  std::string Stuck() const;

  std::vector<const KvOp*> ops_;  // Sorted by invoke time.
  CheckOptions options_;
  std::vector<int64_t> return_ns_;  // kNever for unknown outcomes.
  std::unordered_map<std::string, int> value_ids_;
  std::vector<uint64_t> version_of_;            // By value id; 0: not yet observed.
  std::unordered_map<uint64_t, int> owner_of_;  // Version -> value id.
  // Unlinearized ops in invoke order (dancing links; index n is the head sentinel).
  std::vector<int> next_, prev_;
  std::vector<uint64_t> zobrist_a_, zobrist_b_;
  uint64_t lin_a_ = 0, lin_b_ = 0;
  size_t known_left_ = 0;  // Known-outcome ops not yet linearized.
  size_t deepest_ = 0;
  std::vector<int> deepest_pending_;
};

int KeyChecker::ValueId(const std::string& value) const {
  auto it = value_ids_.find(value);
  return it == value_ids_.end() ? kAbsent : it->second;
}

bool KeyChecker::Learn(int value, uint64_t version, const KvOp& op, std::string* why) {
  if (version == 0) return true;
  uint64_t& known = version_of_[value];
  if (known != 0 && known != version) {
    *why = "value written once seen at versions " + std::to_string(known) + " and " +
           std::to_string(version) + ": " + Describe(op);
    return false;
  }
  known = version;
  auto [it, fresh] = owner_of_.emplace(version, value);
  if (!fresh && it->second != value) {
    *why = "version " + std::to_string(version) +
           " reported for two different values: " + Describe(op);
    return false;
  }
  return true;
}

// Value ids and versions from every answer; catches reads of values never written.
bool KeyChecker::Prepare(std::string* why) {
  std::erase_if(ops_, [](const KvOp* op) { return op->kind == Kind::kGet && !op->known; });
  std::stable_sort(ops_.begin(), ops_.end(),
                   [](const KvOp* x, const KvOp* y) { return x->invoke_ns < y->invoke_ns; });
  for (const KvOp* op : ops_) {
    if (op->kind != Kind::kPut && op->kind != Kind::kCas) continue;
    if (!value_ids_.emplace(op->value, int(value_ids_.size())).second) {
      *why = "value written twice (the model needs unique values): " + Describe(*op);
      return false;
    }
  }
  version_of_.assign(value_ids_.size(), 0);
  std::unordered_set<std::string> read;
  for (const KvOp* op : ops_) {
    if (!op->known || !op->ok) continue;
    if (op->kind == Kind::kGet) {
      const int id = ValueId(op->result_value);
      if (id == kAbsent) {
        *why = "read of a value never written: " + Describe(*op);
        return false;
      }
      read.insert(op->result_value);
      if (!Learn(id, op->result_version, *op, why)) return false;
    } else if (op->kind == Kind::kPut || op->kind == Kind::kCas) {
      if (!Learn(ValueId(op->value), op->result_version, *op, why)) return false;
    }
  }
  DropUnobservedUnknownWrites(read);
  return true;
}

// An unknown-outcome put or cas whose value no read returned can be taken as never having
// happened, without changing the verdict, as long as nothing else could depend on its value
// being current: no delete (which needs the key present) and no version in any answer that
// belongs to no known value (which could be its version). Each such write left in would
// double the states the search visits, as it stays a candidate to the end.
void KeyChecker::DropUnobservedUnknownWrites(const std::unordered_set<std::string>& read) {
  for (const KvOp* op : ops_) {
    if (op->kind == Kind::kDelete) return;
    if (op->kind != Kind::kCas || !op->known) continue;
    const uint64_t version = op->ok ? op->expected_version : op->result_version;
    if (version != 0 && owner_of_.count(version) == 0) return;
  }
  std::erase_if(ops_, [&](const KvOp* op) {
    return !op->known && op->kind != Kind::kDelete && read.count(op->value) == 0;
  });
}

// Could the key, in `state`, have version `version` (0: absent)? A value whose version no
// answer revealed may have any version that no other value owns.
bool KeyChecker::CouldHaveVersion(const State& state, uint64_t version) const {
  if (state.value == kAbsent) return version == 0;
  if (version == 0) return false;
  if (state.version != 0) return state.version == version;
  auto it = owner_of_.find(version);
  return it == owner_of_.end() || it->second == state.value;
}

State KeyChecker::Written(const std::string& value) const {
  const int id = ValueId(value);
  return {id, version_of_[id]};
}

// The state after `op` if what it returned is legal in `state`; nullopt if it is not. An
// unknown-outcome op that would change nothing is the same as one that never took effect.
std::optional<State> KeyChecker::Apply(const KvOp& op, const State& state) const {
  switch (op.kind) {
    case Kind::kPut:
      return (!op.known || op.ok) ? Written(op.value) : state;
    case Kind::kGet:
      if (!op.ok) return state.value == kAbsent ? std::optional<State>(state) : std::nullopt;
      if (ValueId(op.result_value) != state.value) return std::nullopt;
      return state;
    case Kind::kDelete:
      if (!op.known || op.ok == (state.value != kAbsent)) return State{};
      return std::nullopt;
    case Kind::kCas: {
      const bool match = CouldHaveVersion(state, op.expected_version);
      if (!op.known) return match ? Written(op.value) : state;
      if (op.ok) return match ? std::optional<State>(Written(op.value)) : std::nullopt;
      // A mismatch: the key had version result_version, which is not the expected one.
      if (op.result_version == op.expected_version) return std::nullopt;
      if (!CouldHaveVersion(state, op.result_version)) return std::nullopt;
      return state.value == kAbsent ? state : State{state.value, op.result_version};
    }
  }
  return std::nullopt;
}

// Ops that may be linearized next: unlinearized ones invoked no later than the earliest return
// among the unlinearized. Scanning in invoke order can stop at the first invoke past that
// return (every later op returns later still).
std::vector<int> KeyChecker::Candidates() const {
  const int head = int(ops_.size());
  int64_t min_return = kNever;
  std::vector<int> out;
  for (int i = next_[head]; i != head; i = next_[i]) {
    if (ops_[i]->invoke_ns > min_return) break;
    out.push_back(i);
    min_return = std::min(min_return, return_ns_[i]);
  }
  // An op scanned before min_return dropped may have been invoked after it.
  std::erase_if(out, [&](int i) { return ops_[i]->invoke_ns > min_return; });
  return out;
}

void KeyChecker::Unlink(int i) {
  next_[prev_[i]] = next_[i];
  prev_[next_[i]] = prev_[i];
  lin_a_ ^= zobrist_a_[i];
  lin_b_ ^= zobrist_b_[i];
  if (ops_[i]->known) --known_left_;
}

void KeyChecker::Relink(int i) {  // REQUIRES: undoes the latest Unlink still in effect.
  next_[prev_[i]] = i;
  prev_[next_[i]] = i;
  lin_a_ ^= zobrist_a_[i];
  lin_b_ ^= zobrist_b_[i];
  if (ops_[i]->known) ++known_left_;
}

MemoKey KeyChecker::Key(const State& state) const {
  const uint64_t s =
      SplitMix(SplitMix(uint64_t(int64_t(state.value)) + 0x51ED270B27u) ^ state.version);
  return {lin_a_ ^ s, lin_b_ ^ SplitMix(s)};
}

std::string KeyChecker::Stuck() const {
  std::string out = "longest linearizable prefix: " + std::to_string(deepest_) + " of " +
                    std::to_string(ops_.size()) + " ops; none of these could go next:";
  for (int i : deepest_pending_) out += "\n      " + Describe(*ops_[i]);
  return out;
}

KeyReport KeyChecker::Run() {
  KeyReport report;
  report.key = ops_.empty() ? "" : ops_.front()->key;
  if (!Prepare(&report.why)) {
    report.verdict = Verdict::kNotLinearizable;
    report.ops = ops_.size();
    return report;
  }
  const int n = int(ops_.size());
  report.ops = size_t(n);
  next_.resize(n + 1);
  prev_.resize(n + 1);
  for (int i = 0; i <= n; ++i) {
    next_[i] = (i + 1) % (n + 1);
    prev_[i] = (i + n) % (n + 1);
  }
  for (int i = 0; i < n; ++i) {
    return_ns_.push_back(ops_[i]->known ? ops_[i]->return_ns : kNever);
    zobrist_a_.push_back(SplitMix(2 * uint64_t(i) + 1));
    zobrist_b_.push_back(SplitMix(~(2 * uint64_t(i))));
    known_left_ += ops_[i]->known ? 1 : 0;
  }
  struct Frame {
    State state;
    std::vector<int> candidates;
    size_t tried = 0;
    int chosen = -1;  // The op this frame linearized (-1: the root).
  };
  std::vector<Frame> stack;
  stack.push_back({State{}, Candidates()});
  std::unordered_set<MemoKey, MemoHash> seen;
  while (known_left_ > 0) {
    if (stack.empty()) {
      report.verdict = Verdict::kNotLinearizable;
      report.why = Stuck();
      return report;
    }
    Frame& top = stack.back();
    if (top.tried == top.candidates.size()) {
      if (stack.size() - 1 > deepest_ || deepest_pending_.empty()) {
        deepest_ = stack.size() - 1;
        deepest_pending_.clear();
        for (int c : top.candidates) {
          if (ops_[c]->known) deepest_pending_.push_back(c);
        }
      }
      if (top.chosen >= 0) Relink(top.chosen);
      stack.pop_back();
      continue;
    }
    const int op = top.candidates[top.tried++];
    if (++report.steps > options_.max_steps) {
      report.verdict = Verdict::kUnknown;
      report.why = "search gave up after " + std::to_string(options_.max_steps) +
                   " steps (history too big or too concurrent)";
      return report;
    }
    const std::optional<State> next = Apply(*ops_[op], top.state);
    if (!next) continue;
    Unlink(op);
    if (!seen.insert(Key(*next)).second) {
      Relink(op);
      continue;
    }
    stack.push_back({*next, Candidates(), 0, op});
  }
  return report;
}

}  // namespace

std::string Describe(const KvOp& op) {
  static const char* kNames[] = {"put", "get", "del", "cas"};
  std::string out = std::string(kNames[int(op.kind)]) + "(" + op.key;
  if (op.kind == Kind::kCas) out += ", expect v" + std::to_string(op.expected_version);
  if (op.kind == Kind::kPut || op.kind == Kind::kCas) out += ", \"" + op.value + "\"";
  out += ") [" + std::to_string(op.invoke_ns) + ", ";
  if (!op.known) return out + "?) -> unknown";
  out += std::to_string(op.return_ns) + "] -> ";
  if (op.kind == Kind::kGet) {
    return out + (op.ok ? "\"" + op.result_value + "\" v" + std::to_string(op.result_version)
                        : "not found");
  }
  if (op.kind == Kind::kCas && !op.ok) {
    return out + "version mismatch, current v" + std::to_string(op.result_version);
  }
  if (!op.ok) return out + "not found";
  return out + "ok v" + std::to_string(op.result_version);
}

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kLinearizable:
      return "linearizable";
    case Verdict::kNotLinearizable:
      return "NOT linearizable";
    case Verdict::kUnknown:
      return "unknown (too big)";
  }
  return "?";
}

std::string CheckReport::Summary() const {
  size_t ops = 0;
  for (const KeyReport& k : keys) ops += k.ops;
  std::string out = std::string(VerdictName(verdict)) + ": " + std::to_string(keys.size()) +
                    " keys, " + std::to_string(ops) + " ops";
  for (const KeyReport& k : keys) {
    if (k.verdict == Verdict::kLinearizable) continue;
    out += "\n  key " + k.key + ": " + VerdictName(k.verdict) + ": " + k.why;
  }
  return out;
}

CheckReport CheckKvHistory(const std::vector<KvOp>& history, CheckOptions options) {
  std::map<std::string, std::vector<const KvOp*>> by_key;
  for (const KvOp& op : history) by_key[op.key].push_back(&op);
  CheckReport report;
  bool unknown = false;
  for (auto& [key, ops] : by_key) {
    report.keys.push_back(KeyChecker(std::move(ops), options).Run());
    const Verdict v = report.keys.back().verdict;
    if (v == Verdict::kNotLinearizable) report.verdict = v;
    unknown |= v == Verdict::kUnknown;
  }
  if (unknown && report.verdict == Verdict::kLinearizable) report.verdict = Verdict::kUnknown;
  return report;
}

}  // namespace synod::check
