#include "paxos/session_table.h"

#include "paxos/hash.h"
#include "paxos/limits.h"
#include "paxos/wire_bytes.h"

namespace synod {
// Header and result hashes start from different bases so a header never cancels a result.
uint64_t SessionTable::HeaderHash(uint64_t client_id, const Session& s) {
  return Mix64(
      Fnv1a64Word(Fnv1a64Word(Fnv1a64Word(kFnvOffsetBasis, client_id), s.floor), s.last_slot));
}

uint64_t SessionTable::ResultHash(uint64_t client_id, uint64_t request_id,
                                  const std::string& result) {
  uint64_t h = Fnv1a64Word(Fnv1a64Word(~kFnvOffsetBasis, client_id), request_id);
  return Mix64(Fnv1a64(result, h));
}

SessionTable::Outcome SessionTable::Lookup(uint64_t client_id, uint64_t request_id,
                                           std::string* result) const {
  SYNOD_CHECK(request_id > 0);
  auto it = sessions_.find(client_id);
  if (it == sessions_.end()) return Outcome::kNew;
  const Session& session = it->second;
  if (request_id <= session.floor) return Outcome::kTooOld;
  auto r = session.results.find(request_id);
  if (r == session.results.end()) return Outcome::kNew;
  if (result != nullptr) *result = r->second;
  return Outcome::kDuplicate;
}

void SessionTable::Record(uint64_t client_id, uint64_t request_id, uint64_t slot,
                          std::string result) {
  SYNOD_CHECK(Lookup(client_id, request_id, nullptr) == Outcome::kNew);
  auto [it, inserted] = sessions_.try_emplace(client_id);
  Session& session = it->second;
  if (!inserted) {
    by_activity_.erase({session.last_slot, client_id});
    digest_ -= HeaderHash(client_id, session);
  }
  session.last_slot = slot;
  by_activity_.insert({slot, client_id});
  digest_ += ResultHash(client_id, request_id, result);
  session.results.emplace(request_id, std::move(result));
  while (session.results.size() > limits::kSessionResultsMax) {
    auto oldest = session.results.begin();
    digest_ -= ResultHash(client_id, oldest->first, oldest->second);
    session.floor = oldest->first;
    session.results.erase(oldest);
  }
  digest_ += HeaderHash(client_id, session);
  if (sessions_.size() > limits::kSessionsMax) EvictOne();
  SYNOD_CHECK(sessions_.size() == by_activity_.size());
}

void SessionTable::EvictOne() {
  SYNOD_CHECK(!by_activity_.empty());
  auto oldest = by_activity_.begin();
  auto it = sessions_.find(oldest->second);
  digest_ -= HeaderHash(it->first, it->second);
  for (const auto& [request_id, result] : it->second.results) {
    digest_ -= ResultHash(it->first, request_id, result);
  }
  sessions_.erase(it);
  by_activity_.erase(oldest);
}

std::string SessionTable::Encode() const {
  ByteWriter w;
  w.U64(sessions_.size());
  for (const auto& [client_id, session] : sessions_) {
    w.U64(client_id);
    w.U64(session.floor);
    w.U64(session.last_slot);
    w.U64(session.results.size());
    for (const auto& [request_id, result] : session.results) {
      w.U64(request_id);
      w.Bytes(result);
    }
  }
  return w.Take();
}

Result<SessionTable> SessionTable::Decode(std::string_view bytes) {
  ByteReader r(bytes);
  SessionTable table;
  uint64_t sessions = 0;
  if (!r.U64(&sessions) || sessions > limits::kSessionsMax) {
    return Status::Corruption("session table: bad session count");
  }
  for (uint64_t i = 0; i < sessions; ++i) {
    uint64_t client_id = 0, results = 0;
    Session s;
    if (!r.U64(&client_id) || !r.U64(&s.floor) || !r.U64(&s.last_slot) || !r.U64(&results) ||
        results > limits::kSessionResultsMax) {
      return Status::Corruption("session table: bad session header");
    }
    for (uint64_t j = 0; j < results; ++j) {
      uint64_t request_id = 0;
      std::string result;
      if (!r.U64(&request_id) || request_id <= s.floor ||
          !r.Bytes(&result, limits::kResultBytesMax)) {
        return Status::Corruption("session table: bad result record");
      }
      table.digest_ += ResultHash(client_id, request_id, result);
      s.results.emplace(request_id, std::move(result));
    }
    table.digest_ += HeaderHash(client_id, s);
    if (!table.sessions_.emplace(client_id, s).second) {
      return Status::Corruption("session table: duplicate client id");
    }
    table.by_activity_.insert({s.last_slot, client_id});
  }
  if (!r.Done()) return Status::Corruption("session table: trailing bytes");
  return table;
}

}  // namespace synod
