#include "ledger/records.h"

#include <algorithm>

namespace synod::ledger {

const char* TableName(Table table) {
  switch (table) {
    case Table::kKv:
      return "kv";
    case Table::kAccounts:
      return "accounts";
    case Table::kTransfers:
      return "transfers";
    case Table::kAccountTransfers:
      return "account_transfers";
    case Table::kMeta:
      return "meta";
  }
  return "?";
}

std::string IdToString(Id128 id) {
  if (id == 0) return "0";
  std::string s;
  while (id != 0) {
    s.push_back(static_cast<char>('0' + int(id % 10)));
    id /= 10;
  }
  std::reverse(s.begin(), s.end());
  return s;
}

void PutU64Le(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 8);
}

uint64_t GetU64Le(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

void PutU64Be(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (56 - 8 * i));
  out->append(b, 8);
}

uint64_t GetU64Be(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void PutId(std::string* out, Id128 id) {
  PutU64Be(out, uint64_t(id >> 64));
  PutU64Be(out, uint64_t(id));
}

Id128 GetId(const char* p) { return (Id128(GetU64Be(p)) << 64) | GetU64Be(p + 8); }

std::string U64Value(uint64_t v) {
  std::string s;
  PutU64Le(&s, v);
  return s;
}

bool ParseU64Value(std::string_view bytes, uint64_t* v) {
  if (bytes.size() != 8) return false;
  *v = GetU64Le(bytes.data());
  return true;
}

namespace {
void PutU32Le(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void PutU16Le(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v));
  out->push_back(static_cast<char>(v >> 8));
}
uint32_t GetU32Le(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}
uint16_t GetU16Le(const char* p) {
  return uint16_t(static_cast<unsigned char>(p[0]) | (static_cast<unsigned char>(p[1]) << 8));
}
std::string PrefixedId(char tag, Id128 id) {
  std::string k(1, tag);
  PutId(&k, id);
  return k;
}
}  // namespace

std::string AccountKey(Id128 id) {
  std::string k;
  PutId(&k, id);
  return k;
}

std::string EncodeAccount(const Account& a) {
  std::string v;
  v.reserve(kAccountValueBytes);
  PutU32Le(&v, a.ledger);
  PutU16Le(&v, a.code);
  PutU16Le(&v, a.flags);
  PutU64Le(&v, a.debits_posted);
  PutU64Le(&v, a.credits_posted);
  PutU64Le(&v, a.debits_pending);
  PutU64Le(&v, a.credits_pending);
  PutU64Le(&v, a.timestamp_ns);
  return v;
}

bool DecodeAccount(std::string_view key, std::string_view value, Account* a) {
  if (key.size() != 16 || value.size() != kAccountValueBytes) return false;
  const char* p = value.data();
  a->id = GetId(key.data());
  a->ledger = GetU32Le(p);
  a->code = GetU16Le(p + 4);
  a->flags = GetU16Le(p + 6);
  a->debits_posted = GetU64Le(p + 8);
  a->credits_posted = GetU64Le(p + 16);
  a->debits_pending = GetU64Le(p + 24);
  a->credits_pending = GetU64Le(p + 32);
  a->timestamp_ns = GetU64Le(p + 40);
  return true;
}

std::string TransferKey(Id128 id) { return PrefixedId('T', id); }
std::string PendingKey(Id128 id) { return PrefixedId('P', id); }

std::string ExpiryKey(uint64_t expires_at_ns, Id128 id) {
  std::string k(1, 'E');
  PutU64Be(&k, expires_at_ns);
  PutId(&k, id);
  return k;
}

std::string AccountTransferKey(Id128 account, uint64_t seq) {
  std::string k;
  k.reserve(24);
  PutId(&k, account);
  PutU64Be(&k, ~seq);
  return k;
}

// value := u128be id, debit, credit, pending_id, u64le amount, timeout_ns, timestamp_ns, seq,
//          u32le ledger, u16le code, u16le flags.
std::string EncodeTransfer(const Transfer& t) {
  std::string v;
  v.reserve(kTransferValueBytes);
  PutId(&v, t.id);
  PutId(&v, t.debit);
  PutId(&v, t.credit);
  PutId(&v, t.pending_id);
  PutU64Le(&v, t.amount);
  PutU64Le(&v, t.timeout_ns);
  PutU64Le(&v, t.timestamp_ns);
  PutU64Le(&v, t.seq);
  PutU32Le(&v, t.ledger);
  PutU16Le(&v, t.code);
  PutU16Le(&v, t.flags);
  return v;
}

bool DecodeTransfer(std::string_view value, Transfer* t) {
  if (value.size() != kTransferValueBytes) return false;
  const char* p = value.data();
  t->id = GetId(p);
  t->debit = GetId(p + 16);
  t->credit = GetId(p + 32);
  t->pending_id = GetId(p + 48);
  t->amount = GetU64Le(p + 64);
  t->timeout_ns = GetU64Le(p + 72);
  t->timestamp_ns = GetU64Le(p + 80);
  t->seq = GetU64Le(p + 88);
  t->ledger = GetU32Le(p + 96);
  t->code = GetU16Le(p + 100);
  t->flags = GetU16Le(p + 102);
  return true;
}

std::string EncodePending(const PendingStatus& p) {
  std::string v(1, static_cast<char>(p.state));
  PutU64Le(&v, p.expires_at_ns);
  return v;
}

bool DecodePending(std::string_view value, PendingStatus* p) {
  if (value.size() != 9) return false;
  uint8_t s = static_cast<uint8_t>(value[0]);
  if (s > static_cast<uint8_t>(fb::PendingState::expired)) return false;
  p->state = static_cast<fb::PendingState>(s);
  p->expires_at_ns = GetU64Le(value.data() + 1);
  return true;
}

std::string EncodeKvValue(uint64_t version, std::string_view value) {
  std::string v;
  v.reserve(8 + value.size());
  PutU64Le(&v, version);
  v.append(value);
  return v;
}

bool DecodeKvValue(std::string_view stored, uint64_t* version, std::string_view* value) {
  if (stored.size() < 8) return false;
  *version = GetU64Le(stored.data());
  *value = stored.substr(8);
  return true;
}

}  // namespace synod::ledger
