#include "sim/counter_machine.h"

#include "paxos/hash.h"
#include "paxos/membership.h"
#include "paxos/wire_bytes.h"

namespace synod::sim {

std::string CounterMachine::EncodeCommand(uint64_t key, uint64_t delta) {
  ByteWriter w;
  w.U64(key);
  w.U64(delta);
  return w.Take();
}

std::vector<CounterMachine::Applied> CounterMachine::Apply(Slot slot, const Batch& batch,
                                                           bool skip_sessions) {
  SYNOD_CHECK(slot == applied_slot_ + 1);  // Strictly in slot order.
  applied_slot_ = slot;
  std::vector<Applied> out;
  out.reserve(batch.commands.size());
  for (const Command& c : batch.commands) {
    if (IsMembershipPayload(c.payload)) continue;  // The core's business (paxos/membership.h).
    Applied a{c.client_id, c.request_id, "", false};
    auto outcome = skip_sessions ? SessionTable::Outcome::kNew
                                 : sessions_.Lookup(c.client_id, c.request_id, &a.result);
    if (outcome == SessionTable::Outcome::kTooOld) a.result = "session_expired";
    if (outcome == SessionTable::Outcome::kNew) {
      ByteReader r(c.payload);
      uint64_t key = 0, delta = 0;
      if (r.U64(&key) && r.U64(&delta) && r.Done()) {
        a.result = std::to_string(counters_[key] += delta);
      } else {
        a.result = "bad_command";
      }
      a.executed = true;
      if (!skip_sessions) sessions_.Record(c.client_id, c.request_id, slot, a.result);
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::string CounterMachine::Encode() const {
  ByteWriter w;
  w.U64(applied_slot_);
  w.U64(counters_.size());
  for (const auto& [k, v] : counters_) {
    w.U64(k);
    w.U64(v);
  }
  w.Bytes(sessions_.Encode());
  return w.Take();
}

Result<CounterMachine> CounterMachine::Decode(std::string_view bytes) {
  ByteReader r(bytes);
  CounterMachine m;
  uint64_t n = 0;
  if (!r.U64(&m.applied_slot_) || !r.U64(&n) || n > bytes.size() / 16) {
    return Status::Corruption("counter machine: bad header");
  }
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t k = 0, v = 0;
    if (!r.U64(&k) || !r.U64(&v)) return Status::Corruption("counter machine: bad counter");
    m.counters_[k] = v;
  }
  std::string sessions;
  if (!r.Bytes(&sessions, bytes.size()) || !r.Done()) {
    return Status::Corruption("counter machine: bad session table");
  }
  auto table = SessionTable::Decode(sessions);
  if (!table.ok()) return table.status();
  m.sessions_ = std::move(table.value());
  return m;
}

uint64_t CounterMachine::Hash() const {
  ByteWriter w;
  w.U64(applied_slot_);
  for (const auto& [k, v] : counters_) {
    w.U64(k);
    w.U64(v);
  }
  w.U64(sessions_.Digest());
  return Fnv1a64(w.Take());
}

}  // namespace synod::sim
