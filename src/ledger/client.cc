#include "ledger/client.h"

#include "flatbuffers/flatbuffers.h"
#include "ledger/results.h"
#include "paxos/struct_vector.h"

namespace synod::ledger {
namespace {

using flatbuffers::FlatBufferBuilder;

template <typename T>
std::string FinishCommand(FlatBufferBuilder* fbb, fb::CommandBody type,
                          flatbuffers::Offset<T> body) {
  auto cmd = fb::CreateLedgerCommand(*fbb, type, body.Union());
  fbb->Finish(cmd);
  return std::string(reinterpret_cast<const char*>(fbb->GetBufferPointer()), fbb->GetSize());
}

std::vector<fb::U128> ToU128s(std::span<const Id128> ids) {
  std::vector<fb::U128> out;
  out.reserve(ids.size());
  for (Id128 id : ids) out.push_back(FromId(id));
  return out;
}

}  // namespace

std::string EncodeKvPut(std::string_view key, std::string_view value) {
  FlatBufferBuilder fbb(128 + key.size() + value.size());
  auto body = fb::CreateKvPut(fbb, Bytes(&fbb, key), Bytes(&fbb, value));
  return FinishCommand(&fbb, fb::CommandBody::KvPut, body);
}

std::string EncodeKvGet(std::string_view key) {
  FlatBufferBuilder fbb;
  auto body = fb::CreateKvGet(fbb, Bytes(&fbb, key));
  return FinishCommand(&fbb, fb::CommandBody::KvGet, body);
}

std::string EncodeKvDelete(std::string_view key) {
  FlatBufferBuilder fbb;
  auto body = fb::CreateKvDelete(fbb, Bytes(&fbb, key));
  return FinishCommand(&fbb, fb::CommandBody::KvDelete, body);
}

std::string EncodeKvCas(std::string_view key, uint64_t expected_version, std::string_view value) {
  FlatBufferBuilder fbb(128 + key.size() + value.size());
  auto body = fb::CreateKvCas(fbb, Bytes(&fbb, key), expected_version, Bytes(&fbb, value));
  return FinishCommand(&fbb, fb::CommandBody::KvCas, body);
}

std::string EncodeKvScan(std::string_view prefix, uint32_t limit) {
  FlatBufferBuilder fbb;
  auto body = fb::CreateKvScan(fbb, Bytes(&fbb, prefix), limit);
  return FinishCommand(&fbb, fb::CommandBody::KvScan, body);
}

std::string EncodeCreateAccounts(std::span<const AccountSpec> accounts) {
  std::vector<fb::AccountEvent> events;
  events.reserve(accounts.size());
  for (const AccountSpec& a : accounts) {
    events.emplace_back(FromId(a.id), a.ledger, a.code, a.flags);
  }
  FlatBufferBuilder fbb(64 + events.size() * sizeof(fb::AccountEvent));
  auto body = fb::CreateCreateAccounts(fbb, fbb.CreateVectorOfStructs(events));
  return FinishCommand(&fbb, fb::CommandBody::CreateAccounts, body);
}

std::string EncodeCreateTransfers(std::span<const TransferSpec> transfers) {
  std::vector<fb::TransferEvent> events;
  events.reserve(transfers.size());
  for (const TransferSpec& t : transfers) {
    events.emplace_back(FromId(t.id), FromId(t.debit), FromId(t.credit), FromId(t.pending_id),
                        t.amount, t.timeout_ns, t.ledger, t.code, t.flags);
  }
  FlatBufferBuilder fbb(64 + events.size() * sizeof(fb::TransferEvent));
  auto body = fb::CreateCreateTransfers(fbb, fbb.CreateVectorOfStructs(events));
  return FinishCommand(&fbb, fb::CommandBody::CreateTransfers, body);
}

std::string EncodeLookupAccounts(std::span<const Id128> ids) {
  FlatBufferBuilder fbb;
  auto body = fb::CreateLookupAccounts(fbb, fbb.CreateVectorOfStructs(ToU128s(ids)));
  return FinishCommand(&fbb, fb::CommandBody::LookupAccounts, body);
}

std::string EncodeLookupTransfers(std::span<const Id128> ids) {
  FlatBufferBuilder fbb;
  auto body = fb::CreateLookupTransfers(fbb, fbb.CreateVectorOfStructs(ToU128s(ids)));
  return FinishCommand(&fbb, fb::CommandBody::LookupTransfers, body);
}

std::string EncodeLookupAccountTransfers(Id128 account, uint32_t limit) {
  FlatBufferBuilder fbb;
  fb::U128 id = FromId(account);
  auto body = fb::CreateLookupAccountTransfers(fbb, &id, limit);
  return FinishCommand(&fbb, fb::CommandBody::LookupAccountTransfers, body);
}

namespace {

Account ToAccount(const fb::AccountRecord& r) {
  return Account{ToId(r.id()),       r.ledger(),          r.code(),
                 r.flags(),          r.debits_posted(),   r.credits_posted(),
                 r.debits_pending(), r.credits_pending(), r.timestamp_ns()};
}

TransferView ToTransfer(const fb::TransferRecord& r) {
  TransferView v;
  v.transfer = Transfer{ToId(r.id()),
                        ToId(r.debit_account_id()),
                        ToId(r.credit_account_id()),
                        ToId(r.pending_id()),
                        r.amount(),
                        r.timeout_ns(),
                        r.timestamp_ns(),
                        0,
                        r.ledger(),
                        r.code(),
                        r.flags()};
  v.state = r.state();
  return v;
}

}  // namespace

Result<DecodedResult> DecodeResult(std::string_view bytes) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  flatbuffers::Verifier verifier(data, bytes.size());
  if (!verifier.VerifyBuffer<fb::CommandResult>(nullptr)) {
    return Status::Corruption("ledger result fails verification");
  }
  const auto* r = flatbuffers::GetRoot<fb::CommandResult>(data);
  if (!StructsAligned(r->accounts()) || !StructsAligned(r->transfers())) {
    return Status::Corruption("ledger result: records misaligned");
  }
  DecodedResult out;
  out.code = r->code();
  out.version = r->version();
  out.more = r->more();
  if (r->items()) {
    for (const fb::KvItem* item : *r->items()) {
      out.items.push_back(
          {std::string(View(item->key())), std::string(View(item->value())), item->version()});
    }
  }
  if (r->event_codes()) {
    for (auto code : *r->event_codes()) out.event_codes.push_back(static_cast<ResultCode>(code));
  }
  if (r->accounts()) {
    for (const fb::AccountRecord* a : *r->accounts()) out.accounts.push_back(ToAccount(*a));
  }
  if (r->transfers()) {
    for (const fb::TransferRecord* t : *r->transfers()) out.transfers.push_back(ToTransfer(*t));
  }
  return out;
}

}  // namespace synod::ledger
