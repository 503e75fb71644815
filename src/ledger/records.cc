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
  StoreU64Le(b, v);
  out->append(b, 8);
}

void PutU64Be(std::string* out, uint64_t v) {
  char b[8];
  StoreU64Be(b, v);
  out->append(b, 8);
}

void PutId(std::string* out, Id128 id) {
  char b[16];
  StoreId(b, id);
  out->append(b, 16);
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
void StoreU32Le(char* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(v >> (8 * i));
}
void StoreU16Le(char* out, uint16_t v) {
  out[0] = static_cast<char>(v);
  out[1] = static_cast<char>(v >> 8);
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

void EncodeAccountTo(const Account& a, char out[kAccountValueBytes]) {
  StoreU32Le(out, a.ledger);
  StoreU16Le(out + 4, a.code);
  StoreU16Le(out + 6, a.flags);
  StoreU64Le(out + 8, a.debits_posted);
  StoreU64Le(out + 16, a.credits_posted);
  StoreU64Le(out + 24, a.debits_pending);
  StoreU64Le(out + 32, a.credits_pending);
  StoreU64Le(out + 40, a.timestamp_ns);
}

std::string EncodeAccount(const Account& a) {
  std::string v(kAccountValueBytes, '\0');
  EncodeAccountTo(a, v.data());
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

std::string TransferKey(Id128 id) {
  std::string k(kTransferKeyBytes, '\0');
  TransferKeyTo(id, k.data());
  return k;
}
std::string PendingKey(Id128 id) { return PrefixedId('P', id); }

std::string ExpiryKey(uint64_t expires_at_ns, Id128 id) {
  std::string k(1, 'E');
  PutU64Be(&k, expires_at_ns);
  PutId(&k, id);
  return k;
}

void TransferKeyTo(Id128 id, char out[kTransferKeyBytes]) {
  out[0] = 'T';
  StoreId(out + 1, id);
}

void AccountTransferKeyTo(Id128 account, uint64_t seq, char out[kAccountTransferKeyBytes]) {
  StoreId(out, account);
  StoreU64Be(out + 16, ~seq);
}

std::string AccountTransferKey(Id128 account, uint64_t seq) {
  std::string k(kAccountTransferKeyBytes, '\0');
  AccountTransferKeyTo(account, seq, k.data());
  return k;
}

// value := u128be id, debit, credit, pending_id, u64le amount, timeout_ns, timestamp_ns, seq,
//          u32le ledger, u16le code, u16le flags.
void EncodeTransferTo(const Transfer& t, char out[kTransferValueBytes]) {
  StoreId(out, t.id);
  StoreId(out + 16, t.debit);
  StoreId(out + 32, t.credit);
  StoreId(out + 48, t.pending_id);
  StoreU64Le(out + 64, t.amount);
  StoreU64Le(out + 72, t.timeout_ns);
  StoreU64Le(out + 80, t.timestamp_ns);
  StoreU64Le(out + 88, t.seq);
  StoreU32Le(out + 96, t.ledger);
  StoreU16Le(out + 100, t.code);
  StoreU16Le(out + 102, t.flags);
}

std::string EncodeTransfer(const Transfer& t) {
  std::string v(kTransferValueBytes, '\0');
  EncodeTransferTo(t, v.data());
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
