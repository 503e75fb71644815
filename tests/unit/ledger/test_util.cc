#include "test_util.h"

#include <cstdlib>
#include <random>

namespace synod::ledger::testing {

double Scale() {
  const char* s = std::getenv("SYNOD_SIM_SEEDS_SCALE");
  if (s == nullptr) return 1.0;
  double v = std::atof(s);
  return v > 0 && v < 1 ? v : 1.0;
}

TempDir::TempDir() {
  std::random_device rd;
  auto base = std::filesystem::temp_directory_path();
  path_ = (base / ("synod_ledger_test_" + std::to_string(rd()) + std::to_string(rd()))).string();
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

const char* BackendName(Backend b) { return b == Backend::kMemory ? "Memory" : "RocksDb"; }

TestTables::TestTables(Backend backend) : backend_(backend) {
  if (backend == Backend::kMemory) {
    memory_ = std::make_unique<MemoryTables>();
  } else {
    dir_ = std::make_unique<TempDir>();
    Reopen();
  }
}

LedgerTables* TestTables::get() {
  if (memory_) return memory_.get();
  return db_->tables();
}

void TestTables::Reopen() {
  if (backend_ == Backend::kMemory) return;
  db_.reset();
  auto db = LedgerDb::Open(dir_->path());
  SYNOD_CHECK(db.ok());
  db_ = std::move(db.value());
}

Harness::Harness(Backend backend, StateMachine::Options options)
    : tables_(backend), options_(options) {
  Reopen();
}

void Harness::Reopen() {
  sm_.reset();
  tables_.Reopen();
  auto sm = StateMachine::Open(tables_.get(), options_);
  SYNOD_CHECK(sm.ok());
  sm_ = std::move(sm.value());
  slot_ = sm_->applied_slot();
}

std::string Harness::ApplyRawBytes(const Command& command) {
  Batch batch;
  batch.timestamp_ns = now_ns;
  batch.commands.push_back(command);
  auto results = sm_->Apply(++slot_, batch);
  SYNOD_CHECK(results.ok());
  SYNOD_CHECK(results.value().size() == 1);
  return results.value()[0];
}

DecodedResult Harness::ApplyRaw(const Command& command) { return Decode(ApplyRawBytes(command)); }

std::vector<std::string> Harness::ApplyManyRaw(const std::vector<std::string>& payloads) {
  Batch batch;
  batch.timestamp_ns = now_ns;
  for (const std::string& p : payloads) batch.commands.push_back({1, next_request_++, p});
  auto results = sm_->Apply(++slot_, batch);
  SYNOD_CHECK(results.ok());
  return std::move(results.value());
}

std::vector<DecodedResult> Harness::ApplyMany(const std::vector<std::string>& payloads) {
  std::vector<DecodedResult> out;
  for (const std::string& r : ApplyManyRaw(payloads)) out.push_back(Decode(r));
  return out;
}

DecodedResult Harness::Apply(const std::string& payload) { return ApplyMany({payload})[0]; }

RC Harness::CreateAccount(Id128 id, uint32_t ledger, uint16_t flags, uint16_t code) {
  AccountSpec a{id, ledger, code, flags};
  DecodedResult r = Apply(EncodeCreateAccounts({&a, 1}));
  SYNOD_CHECK(r.code == RC::ok && r.event_codes.size() == 1);
  return r.event_codes[0];
}

RC Harness::Transfer(const TransferSpec& t) { return Transfers({t})[0]; }

std::vector<RC> Harness::Transfers(const std::vector<TransferSpec>& t) {
  DecodedResult r = Apply(EncodeCreateTransfers(t));
  SYNOD_CHECK(r.code == RC::ok && r.event_codes.size() == t.size());
  return r.event_codes;
}

Account Harness::GetAccount(Id128 id) {
  DecodedResult r = Apply(EncodeLookupAccounts({&id, 1}));
  SYNOD_CHECK(r.accounts.size() == 1);
  return r.accounts[0];
}

std::vector<TransferView> Harness::GetTransfers(Id128 id) {
  return Apply(EncodeLookupTransfers({&id, 1})).transfers;
}

TransferSpec Plain(Id128 id, Id128 debit, Id128 credit, uint64_t amount, uint32_t ledger) {
  TransferSpec t;
  t.id = id;
  t.debit = debit;
  t.credit = credit;
  t.amount = amount;
  t.ledger = ledger;
  return t;
}

TransferSpec PendingT(Id128 id, Id128 debit, Id128 credit, uint64_t amount, uint64_t timeout_ns) {
  TransferSpec t = Plain(id, debit, credit, amount);
  t.flags = kPending;
  t.timeout_ns = timeout_ns;
  return t;
}

TransferSpec PostT(Id128 id, Id128 pending_id, uint64_t amount) {
  TransferSpec t;
  t.id = id;
  t.pending_id = pending_id;
  t.amount = amount;
  t.flags = kPost;
  return t;
}

TransferSpec VoidT(Id128 id, Id128 pending_id) {
  TransferSpec t;
  t.id = id;
  t.pending_id = pending_id;
  t.flags = kVoid;
  return t;
}

DecodedResult Decode(const std::string& bytes) {
  auto r = DecodeResult(bytes);
  SYNOD_CHECK(r.ok());
  return r.value();
}

}  // namespace synod::ledger::testing
