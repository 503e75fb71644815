// StateMachine: loading, the apply loop, exactly-once sessions, batch commit and the hash.
// KV commands are in kv_commands.cc, accounts and transfers in ledger_commands.cc.
#include "ledger/state_machine.h"

#include <algorithm>

#include "ledger/ledger_limits.h"
#include "ledger/results.h"
#include "ledger/snapshot.h"

namespace synod::ledger {

StateMachine::StateMachine(LedgerTables* tables, Options options)
    : tables_(tables), options_(options), staging_(tables) {}

Result<std::unique_ptr<StateMachine>> StateMachine::Open(LedgerTables* tables, Options options) {
  std::unique_ptr<StateMachine> sm(new StateMachine(tables, options));
  Status s = sm->Load();
  if (!s.ok()) return s;
  return sm;
}

Status StateMachine::Load() {
  Status s = LoadMeta();
  if (s.ok()) s = LoadAccounts();
  if (s.ok()) s = LoadKv();
  if (s.ok()) s = LoadSessions();
  return s;
}

Status StateMachine::LoadMeta() {
  struct Counter {
    std::string_view key;
    uint64_t* value;
  };
  const Counter counters[] = {{kMetaAppliedSlot, &applied_slot_},
                              {kMetaKvRevision, &kv_revision_},
                              {kMetaTransferSeq, &transfer_seq_},
                              {kMetaClusterTime, &cluster_time_ns_},
                              {kMetaSessionParts, &session_ckpt_parts_}};
  std::string value;
  bool found = false;
  for (const Counter& c : counters) {
    Status s = tables_->Get(Table::kMeta, c.key, &value, &found);
    if (!s.ok()) return s;
    *c.value = 0;
    if (found && !ParseU64Value(value, c.value)) {
      return Status::Corruption("ledger meta: bad " + std::string(c.key));
    }
  }
  Status s = tables_->Get(Table::kMeta, kMetaRecordHash, &value, &found);
  if (!s.ok()) return s;
  record_sum_.Set(Hash128{});
  if (found && !record_sum_.Decode(value)) return Status::Corruption("ledger meta: bad hash");
  return Status::Ok();
}

Status StateMachine::LoadAccounts() {
  accounts_.clear();
  auto cursor = tables_->NewCursor(Table::kAccounts);
  for (cursor->Seek(""); cursor->Valid(); cursor->Next()) {
    Account a;
    if (!DecodeAccount(cursor->key(), cursor->value(), &a)) {
      return Status::Corruption("ledger accounts: bad record");
    }
    accounts_.emplace(a.id, a);
  }
  return cursor->status();
}

Status StateMachine::LoadKv() {
  kv_.clear();
  auto cursor = tables_->NewCursor(Table::kKv);
  for (cursor->Seek(""); cursor->Valid(); cursor->Next()) {
    KvEntry e;
    std::string_view value;
    if (!DecodeKvValue(cursor->value(), &e.version, &value)) {
      return Status::Corruption("ledger kv: bad record");
    }
    e.value.assign(value);
    kv_.emplace_hint(kv_.end(), std::string(cursor->key()), std::move(e));
  }
  return cursor->status();
}

// The session table is the latest checkpoint (meta parts) plus the results recorded since, in
// (slot, index) order; replaying Record() on them rebuilds the table exactly.
Status StateMachine::LoadSessions() {
  std::string encoded, part;
  for (uint64_t i = 0; i < session_ckpt_parts_; ++i) {
    std::string key(kMetaSessionPartPrefix);
    PutU64Be(&key, i);
    bool found = false;
    Status s = tables_->Get(Table::kMeta, key, &part, &found);
    if (!s.ok()) return s;
    if (!found) return Status::Corruption("ledger sessions: missing checkpoint part");
    encoded += part;
  }
  session_ckpt_bytes_ = encoded.size();
  sessions_ = SessionTable();
  if (session_ckpt_parts_ > 0) {
    Result<SessionTable> table = SessionTable::Decode(encoded);
    if (!table.ok()) return table.status();
    sessions_ = std::move(table.value());
  }
  session_log_keys_.clear();
  session_log_bytes_ = 0;
  auto cursor = tables_->NewCursor(Table::kMeta);
  for (cursor->Seek(kMetaSessionLogPrefix);
       cursor->Valid() && cursor->key().starts_with(kMetaSessionLogPrefix); cursor->Next()) {
    Status s = ReplaySessionLog(cursor->key(), cursor->value());
    if (!s.ok()) return s;
  }
  sessions_hash_lo_.reset();
  return cursor->status();
}

Status StateMachine::ReplaySessionLog(std::string_view key, std::string_view value) {
  if (key.size() != kMetaSessionLogPrefix.size() + 16) {
    return Status::Corruption("ledger sessions: bad log key");
  }
  const uint64_t slot = GetU64Be(key.data() + kMetaSessionLogPrefix.size());
  session_log_keys_.emplace_back(key);
  session_log_bytes_ += value.size();
  while (!value.empty()) {
    if (value.size() < 24 || GetU64Le(value.data() + 16) > value.size() - 24) {
      return Status::Corruption("ledger sessions: bad log record");
    }
    uint64_t client = GetU64Le(value.data()), request = GetU64Le(value.data() + 8);
    uint64_t n = GetU64Le(value.data() + 16);
    if (request == 0 || sessions_.Lookup(client, request, nullptr) != SessionTable::Outcome::kNew) {
      return Status::Corruption("ledger sessions: log record replays a known request");
    }
    sessions_.Record(client, request, slot, std::string(value.substr(24, n)));
    value.remove_prefix(24 + n);
  }
  return Status::Ok();
}

Result<std::vector<std::string>> StateMachine::Apply(Slot slot, const Batch& batch) {
  return ApplyInto(slot, batch, nullptr);
}

Result<std::vector<std::string>> StateMachine::ApplyInto(Slot slot, const Batch& batch,
                                                         TableWriteBatch* out) {
  if (!failed_.ok()) return failed_;
  SYNOD_CHECK(slot > applied_slot_);
  SYNOD_CHECK(batch.commands.size() <= synod::limits::kCommandsPerBatchMax);
  now_ns_ = std::max(cluster_time_ns_, batch.timestamp_ns);
  if (out == nullptr) own_batch_ = tables_->NewWriteBatch();
  batch_ = out != nullptr ? out : own_batch_.get();
  ExpirePending();
  std::vector<std::string> results(batch.commands.size());
  for (size_t i = 0; i < batch.commands.size(); ++i) {
    ApplyCommand(slot, batch.commands[i], &results[i]);
  }
  Status s = CommitBatch(slot, /*write=*/out == nullptr);
  batch_ = nullptr;
  if (!s.ok()) {
    failed_ = s;
    return s;
  }
  return results;
}

namespace {

// The command in `payload`, or null when it is malformed.
const fb::LedgerCommand* VerifiedCommand(std::string_view payload) {
  const auto* data = reinterpret_cast<const uint8_t*>(payload.data());
  flatbuffers::Verifier verifier(data, payload.size());
  // A union may name a type and still hold no table (found by tests/fuzz/client_request).
  if (!fb::VerifyLedgerCommandBuffer(verifier) ||
      fb::GetLedgerCommand(data)->body_type() == fb::CommandBody::NONE ||
      fb::GetLedgerCommand(data)->body() == nullptr) {
    return nullptr;
  }
  return fb::GetLedgerCommand(data);
}

}  // namespace

bool StateMachine::IsReadOnly(fb::CommandBody type) {
  return type == fb::CommandBody::KvGet || type == fb::CommandBody::KvScan ||
         type == fb::CommandBody::LookupAccounts || type == fb::CommandBody::LookupTransfers ||
         type == fb::CommandBody::LookupAccountTransfers;
}

std::optional<std::string> StateMachine::Query(std::string_view payload) {
  SYNOD_CHECK(batch_ == nullptr);  // Between batches: the state at applied_slot().
  if (!failed_.ok()) return std::nullopt;
  const fb::LedgerCommand* cmd = VerifiedCommand(payload);
  if (cmd == nullptr || !IsReadOnly(cmd->body_type())) return std::nullopt;
  return Execute(cmd->body(), int(cmd->body_type()));
}

void StateMachine::ApplyCommand(Slot slot, const Command& command, std::string* result) {
  const fb::LedgerCommand* cmd = VerifiedCommand(command.payload);
  if (cmd == nullptr) {
    *result = CodeResult(&fbb_, fb::ResultCode::malformed_command);
    return;
  }
  fb::CommandBody type = cmd->body_type();
  if (IsReadOnly(type)) {
    *result = Execute(cmd->body(), int(type));
    return;
  }
  // A write without a request id could never be deduplicated: refuse it.
  if (command.request_id == 0) {
    *result = CodeResult(&fbb_, fb::ResultCode::session_expired);
    return;
  }
  switch (sessions_.Lookup(command.client_id, command.request_id, result)) {
    case SessionTable::Outcome::kDuplicate:
      return;  // *result is the recorded one.
    case SessionTable::Outcome::kTooOld:
      *result = CodeResult(&fbb_, fb::ResultCode::session_expired);
      return;
    case SessionTable::Outcome::kNew:
      break;
  }
  *result = Execute(cmd->body(), int(type));
  RecordSession(slot, command, *result);
}

std::string StateMachine::Execute(const void* body, int body_type) {
  switch (static_cast<fb::CommandBody>(body_type)) {
    case fb::CommandBody::KvPut: {
      auto* c = static_cast<const fb::KvPut*>(body);
      return KvPut(View(c->key()), View(c->value()));
    }
    case fb::CommandBody::KvGet:
      return KvGet(View(static_cast<const fb::KvGet*>(body)->key()));
    case fb::CommandBody::KvDelete:
      return KvDelete(View(static_cast<const fb::KvDelete*>(body)->key()));
    case fb::CommandBody::KvCas: {
      auto* c = static_cast<const fb::KvCas*>(body);
      return KvCas(View(c->key()), c->expected_version(), View(c->value()));
    }
    case fb::CommandBody::KvScan: {
      auto* c = static_cast<const fb::KvScan*>(body);
      return KvScan(View(c->prefix()), c->limit());
    }
    case fb::CommandBody::CreateAccounts:
      return CreateAccounts(body);
    case fb::CommandBody::LookupAccounts:
      return LookupAccounts(body);
    case fb::CommandBody::CreateTransfers:
      return CreateTransfers(body);
    case fb::CommandBody::LookupTransfers:
      return LookupTransfers(body);
    case fb::CommandBody::LookupAccountTransfers:
      return LookupAccountTransfers(body);
    case fb::CommandBody::NONE:
      break;
  }
  return CodeResult(&fbb_, fb::ResultCode::malformed_command);
}

// Appends to this batch's session log record (records.h gives the layout).
void StateMachine::RecordSession(Slot slot, const Command& command, const std::string& result) {
  SYNOD_CHECK(result.size() <= synod::limits::kResultBytesMax);
  sessions_.Record(command.client_id, command.request_id, slot, result);
  PutU64Le(&session_log_batch_, command.client_id);
  PutU64Le(&session_log_batch_, command.request_id);
  PutU64Le(&session_log_batch_, result.size());
  session_log_batch_ += result;
  sessions_hash_lo_.reset();
  if (session_log_batch_.size() >= limits::kSessionCheckpointPartBytes) FlushSessionLog(slot);
}

// Writes this batch's session log record so far as part `session_log_part_` of the slot.
void StateMachine::FlushSessionLog(Slot slot) {
  if (session_log_batch_.empty()) return;
  std::string key(kMetaSessionLogPrefix);
  PutU64Be(&key, slot);
  PutU64Be(&key, session_log_part_++);
  batch_->Put(Table::kMeta, key, session_log_batch_);
  session_log_keys_.push_back(std::move(key));
  session_log_bytes_ += session_log_batch_.size();
  session_log_batch_.clear();
}

// Replaces the session log by a checkpoint once the log outgrows the last checkpoint (and
// 1 MiB): the cost of checkpoints stays proportional to the results recorded.
void StateMachine::CheckpointSessionsIfDue(TableWriteBatch* batch) {
  if (session_log_bytes_ < std::max(limits::kSessionLogBytesMin, session_ckpt_bytes_)) return;
  std::string encoded = sessions_.Encode();
  const size_t part_bytes = limits::kSessionCheckpointPartBytes;
  uint64_t parts = (encoded.size() + part_bytes - 1) / part_bytes;
  for (uint64_t i = 0; i < std::max(parts, session_ckpt_parts_); ++i) {
    std::string key(kMetaSessionPartPrefix);
    PutU64Be(&key, i);
    if (i < parts) {
      batch->Put(Table::kMeta, key, std::string_view(encoded).substr(i * part_bytes, part_bytes));
    } else {
      batch->Delete(Table::kMeta, key);
    }
  }
  for (const std::string& key : session_log_keys_) batch->Delete(Table::kMeta, key);
  batch->Put(Table::kMeta, kMetaSessionParts, U64Value(parts));
  session_ckpt_parts_ = parts;
  session_ckpt_bytes_ = encoded.size();
  session_log_keys_.clear();
  session_log_bytes_ = 0;
}

// Adds the batch's changes to batch_ and, if `write`, writes it.
Status StateMachine::CommitBatch(Slot slot, bool write) {
  if (!failed_.ok()) return failed_;  // A cursor failed during the batch.
  if (!staging_.status().ok()) return staging_.status();
  CommitAccounts(batch_);
  CommitKv(batch_);
  staging_.Commit(batch_, &record_sum_);
  SYNOD_CHECK(!in_chain_ && account_undo_.empty());
  FlushSessionLog(slot);
  session_log_part_ = 0;
  CheckpointSessionsIfDue(batch_);
  applied_slot_ = slot;
  cluster_time_ns_ = now_ns_;
  batch_->SetAppliedSlot(slot);
  batch_->Put(Table::kMeta, kMetaKvRevision, U64Value(kv_revision_));
  batch_->Put(Table::kMeta, kMetaTransferSeq, U64Value(transfer_seq_));
  batch_->Put(Table::kMeta, kMetaClusterTime, U64Value(cluster_time_ns_));
  batch_->Put(Table::kMeta, kMetaRecordHash, record_sum_.Encode());
  if (!write) return Status::Ok();
  Status s = tables_->Write(batch_);
  own_batch_.reset();
  return s;
}

Hash128 StateMachine::StateHash() {
  if (!sessions_hash_lo_) {
    std::string encoded = sessions_.Encode();
    sessions_hash_lo_ = Hash64(0x5E55'1045'0000'0001ull, encoded);
    sessions_hash_hi_ = Hash64(0x5E55'1045'0000'0002ull, encoded);
  }
  Hash128 sum = record_sum_.sum();
  auto lane = [&](uint64_t seed, uint64_t records, uint64_t sessions) {
    std::string s;
    for (uint64_t v : {records, kv_revision_, transfer_seq_, cluster_time_ns_, sessions}) {
      PutU64Le(&s, v);
    }
    return Hash64(seed, s);
  };
  return Hash128{lane(0xC0FFEE01, sum.lo, *sessions_hash_lo_),
                 lane(0xC0FFEE02, sum.hi, *sessions_hash_hi_)};
}

Result<std::unique_ptr<SnapshotStream>> StateMachine::NewSnapshot() {
  if (!failed_.ok()) return failed_;
  return std::make_unique<SnapshotStream>(tables_->NewSnapshot(), applied_slot_, StateHash());
}

Result<Hash128> StateMachine::RecomputeRecordSum() {
  RecordSum sum;
  for (Table t : {Table::kKv, Table::kAccounts, Table::kTransfers, Table::kAccountTransfers}) {
    auto cursor = tables_->NewCursor(t);
    for (cursor->Seek(""); cursor->Valid(); cursor->Next()) {
      sum.Add(t, cursor->key(), cursor->value());
    }
    if (!cursor->status().ok()) return cursor->status();
  }
  return sum.sum();
}

const Account* StateMachine::FindAccount(Id128 id) const {
  auto it = accounts_.find(id);
  return it == accounts_.end() ? nullptr : &it->second;
}

void StateMachine::ForEachAccount(const std::function<void(const Account&)>& fn) const {
  for (const auto& [id, account] : accounts_) fn(account);
}

}  // namespace synod::ledger
