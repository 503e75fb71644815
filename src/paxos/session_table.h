// SessionTable: the replicated table that makes client commands execute exactly once.
//
// Every command carries (client_id, request_id). A state machine asks Lookup() before it
// applies a command and calls Record() with the result after. A retry of an applied request
// gets the first result back instead of being applied again. Because the table is part of the
// replicated state (it is changed only while applying decided batches and it is included in
// snapshots), every replica answers a retry the same way.
//
// Requests of one client may be applied out of order (a client pipelines; a lost request is
// retried after a later one was decided), so a session remembers a set of request ids, not
// just the highest. Bounds: at most limits::kSessionResultsMax results per client (the
// lowest ids are forgotten first, raising the session's floor) and limits::kSessionsMax
// sessions (the one idle longest, by slot, then by lowest client id, is evicted). A request at
// or below its session's floor is kTooOld: its outcome can no longer be told, and the caller
// must not apply it again. Known gap, as in the Raft thesis (6.3): a client whose session was
// evicted (kSessionsMax newer sessions were active meanwhile) and who then retries an old
// request has it applied again; clients take a fresh random 64-bit id per process.
//
// Deterministic: ordered containers only; same calls, same table, same Encode() bytes.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "paxos/status.h"

namespace synod {

class SessionTable {
 public:
  enum class Outcome { kNew, kDuplicate, kTooOld };

  // REQUIRES: request_id > 0.
  // On kDuplicate, *result is the result recorded when the request was first applied.
  Outcome Lookup(uint64_t client_id, uint64_t request_id, std::string* result) const;

  // Records the result of a request applied at `slot`.
  // REQUIRES: Lookup(client_id, request_id) == kNew.
  void Record(uint64_t client_id, uint64_t request_id, uint64_t slot, std::string result);

  size_t size() const { return sessions_.size(); }

  // An order-independent digest of the whole table, kept up to date on every change so a
  // state hash can include it at no cost: the sum of a 64-bit hash of every session header and
  // every remembered result. Equal tables have equal digests; Decode() recomputes it.
  uint64_t Digest() const { return digest_; }

  // A byte string equal on two tables exactly when their contents are equal.
  std::string Encode() const;
  static Result<SessionTable> Decode(std::string_view bytes);

  friend bool operator==(const SessionTable& a, const SessionTable& b) {
    return a.Encode() == b.Encode();
  }

 private:
  struct Session {
    uint64_t floor = 0;                       // Every request id <= floor is forgotten.
    uint64_t last_slot = 0;                   // Slot of the latest Record, for eviction.
    std::map<uint64_t, std::string> results;  // Invariant: every key > floor.
  };
  void EvictOne();
  static uint64_t HeaderHash(uint64_t client_id, const Session& s);
  static uint64_t ResultHash(uint64_t client_id, uint64_t request_id, const std::string& result);

  std::map<uint64_t, Session> sessions_;
  std::set<std::pair<uint64_t, uint64_t>> by_activity_;  // (last_slot, client_id).
  uint64_t digest_ = 0;  // Invariant: equals the sum of every HeaderHash and ResultHash.
};

}  // namespace synod
