// StateMachine: Synod's deterministic state machine, a key-value map and a double-entry ledger
// of accounts and transfers (semantics after TigerBeetle; see README "State machine").
//
// The node applies every decided batch, in slot order, with Apply(); each command's payload is
// a FlatBuffers LedgerCommand (schemas/ledger.fbs) and each result an encoded CommandResult.
// Same log in, same results, same tables and same StateHash() out, on every replica: time is
// the batch's cluster timestamp (never a local clock), and nothing that affects results,
// tables or the hash iterates an unordered container.
//
// Exactly-once: a write command is looked up in the replicated SessionTable by
// (client_id, request_id) before it runs; a retry gets the recorded result back, a request
// below its session's floor gets `session_expired`, and neither is applied again. Read-only
// commands (get, scan, lookups) are not recorded; the node's leader answers them with Query()
// outside the log (node/node.h, "Reads"), and those sent through the log change nothing.
//
// Where state lives: accounts and KV entries are cached in memory (and written through to the
// tables); transfers, pending states, expiry times and the account->transfers index live only
// in the tables, reached through LedgerTables. The session table is in memory and persisted in
// the meta table as a checkpoint plus a log of the results recorded since. Apply() writes all
// changes of a batch together with the new applied slot in ONE TableWriteBatch.
//
// Amount arithmetic: balances and amounts are u64; every addition is checked with
// __builtin_add_overflow and answers `overflow` instead of wrapping. Per-ledger sums in the
// invariant check use unsigned __int128 (2^64 accounts of 2^64 - 1 cannot overflow it).
//
// Errors: a table read or write error makes Apply() return that Status; the machine is then
// failed (every later call returns the same error) and must be re-opened from its tables.
// Not thread-safe: one apply thread owns it. A SnapshotStream it hands out reads its own
// consistent view of the tables (see snapshot.h for threads).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "flatbuffers/flatbuffers.h"
#include "ledger/id_index.h"
#include "ledger/records.h"
#include "ledger/staging.h"
#include "ledger/state_hash.h"
#include "ledger/tables.h"
#include "paxos/session_table.h"
#include "paxos/status.h"
#include "paxos/types.h"

namespace synod::ledger {

class SnapshotStream;

struct IdHash {
  size_t operator()(Id128 id) const {
    uint64_t x = uint64_t(id) ^ (uint64_t(id >> 64) * 0x9E3779B97F4A7C15ull);
    return size_t(x ^ (x >> 29));
  }
};

class StateMachine {
 public:
  struct Options {
    // TEST ONLY: a plain transfer debits its debit account but does not credit its credit
    // account. Exists to show that CheckLedgerInvariants() catches such a bug.
    bool testing_debit_without_credit = false;
  };

  // Loads the state stored in `tables` (empty tables: the empty state, applied slot 0).
  // `tables` must outlive the machine.
  static Result<std::unique_ptr<StateMachine>> Open(LedgerTables* tables, Options options);
  static Result<std::unique_ptr<StateMachine>> Open(LedgerTables* tables) {
    return Open(tables, Options());
  }

  // Applies the batch decided for `slot`: one result per command, in order. Writes the
  // batch's changes and the new applied slot to the tables in one TableWriteBatch.
  // REQUIRES: slot > applied_slot().
  Result<std::vector<std::string>> Apply(Slot slot, const Batch& batch);
  // Like Apply(), but adds the changes to `out` (from the tables' NewWriteBatch()) instead of
  // writing them, so that the caller can write them together with its own records (e.g.
  // storage's RocksLogStore::PersistWith on RocksDbLedgerTables::RocksBatch(out)).
  // REQUIRES: the caller writes `out` before calling any other method of this object; if that
  // write fails, the machine is stale and must be re-opened from the tables.
  Result<std::vector<std::string>> ApplyInto(Slot slot, const Batch& batch, TableWriteBatch* out);

  // Read-only commands (get, scan, lookups): they change nothing and use no session.
  static bool IsReadOnly(fb::CommandBody type);
  // Runs a read-only command on the state at applied_slot(), outside the log: the caller (the
  // node's read path, node.h) makes that linearizable. Nullopt when `payload` is malformed or
  // not read-only. REQUIRES: not inside Apply().
  std::optional<std::string> Query(std::string_view payload);

  Slot applied_slot() const { return applied_slot_; }
  uint64_t cluster_time_ns() const { return cluster_time_ns_; }
  // The state hash (see state_hash.h): RecordSum mixed with the meta counters and the session
  // table. O(1) unless the session table changed since the last call (then O(its size)).
  Hash128 StateHash();

  // A stream of bounded chunks holding the state at applied_slot() (see snapshot.h).
  Result<std::unique_ptr<SnapshotStream>> NewSnapshot();

  // Read access for the invariant check, tests and `synod check`.
  const Account* FindAccount(Id128 id) const;
  // Calls `fn` for every account in an unspecified (hash) order: only for order-independent
  // uses such as sums, or callers that sort what they collect.
  void ForEachAccount(const std::function<void(const Account&)>& fn) const;
  size_t account_count() const { return accounts_.size(); }
  size_t kv_count() const { return kv_.size(); }
  const SessionTable& sessions() const { return sessions_; }
  // The RecordSum recomputed from every stored record: equals the maintained one unless the
  // tables or the bookkeeping are corrupt. O(state); for tests and `synod check`.
  Result<Hash128> RecomputeRecordSum();
  Hash128 record_sum() const { return record_sum_.sum(); }

 private:
  struct KvEntry {
    uint64_t version = 0;
    std::string value;
  };

  StateMachine(LedgerTables* tables, Options options);
  Status Load();
  Status LoadMeta();
  Status LoadAccounts();
  Status LoadKv();
  Status LoadSessions();

  // One command; `result` receives the encoded CommandResult.
  void ApplyCommand(Slot slot, const Command& command, std::string* result);
  std::string Execute(const void* body, int body_type);
  void RecordSession(Slot slot, const Command& command, const std::string& result);
  void FlushSessionLog(Slot slot);
  Status ReplaySessionLog(std::string_view key, std::string_view value);
  Status CommitBatch(Slot slot, bool write);
  void CheckpointSessionsIfDue(TableWriteBatch* batch);
  void ExpirePending();

  // KV commands (kv_commands.cc).
  std::string KvPut(std::string_view key, std::string_view value);
  std::string KvGet(std::string_view key);
  std::string KvDelete(std::string_view key);
  std::string KvCas(std::string_view key, uint64_t expected_version, std::string_view value);
  std::string KvScan(std::string_view prefix, uint32_t limit);
  void MarkKvDirty(const std::string& key);
  void CommitKv(TableWriteBatch* batch);

  // Accounts and transfers (ledger_commands.cc).
  std::string CreateAccounts(const void* command);
  fb::ResultCode CreateAccount(const fb::AccountEvent& e);
  std::string CreateTransfers(const void* command);
  fb::ResultCode CreateTransfer(const fb::TransferEvent& e);
  fb::ResultCode CreatePlainOrPending(const fb::TransferEvent& e);
  fb::ResultCode CheckBalances(const fb::TransferEvent& e, const Account& dr,
                               const Account& cr) const;
  fb::ResultCode PostOrVoid(const fb::TransferEvent& e);
  fb::ResultCode CheckPostOrVoid(const fb::TransferEvent& e, const Transfer& p, uint64_t* amount,
                                 PendingStatus* status);
  fb::ResultCode ValidateTransferStatic(const fb::TransferEvent& e) const;
  std::optional<Transfer> FindTransfer(Id128 id);
  std::optional<PendingStatus> FindPending(Id128 id);
  void InsertTransfer(Transfer t);
  void SaveAccount(Id128 id, const Account* old);
  Account* MutableAccount(Account* a);  // SaveAccount(a), then a.
  Account* NewAccount(Id128 id);        // REQUIRES: no account `id`.
  Account* FindMutableAccount(Id128 id);
  void CommitAccounts(TableWriteBatch* batch);
  std::string LookupAccounts(const void* command);
  std::string LookupTransfers(const void* command);
  std::string LookupAccountTransfers(const void* command);
  void AddTransferRecord(const Transfer& t, std::vector<fb::TransferRecord>* out);

  // A linked chain: changes between BeginChain() and EndChain(true) are reverted.
  void BeginChain();
  void EndChain(bool rollback);

  LedgerTables* tables_;
  Options options_;
  Status failed_;  // Sticky: not ok once a table error happened.

  // Replicated state. Invariant: equal to what the tables hold after the last CommitBatch.
  Slot applied_slot_ = 0;
  uint64_t kv_revision_ = 0;      // Version of the latest KV write; versions are never reused.
  uint64_t transfer_seq_ = 0;     // Number of transfers ever created.
  uint64_t cluster_time_ns_ = 0;  // max(batch timestamps so far): time never goes back.
  RecordSum record_sum_;
  std::unordered_map<Id128, Account, IdHash> accounts_;  // Point lookups only (no iteration
                                                         // that affects results or hash).
  std::map<std::string, KvEntry, std::less<>> kv_;
  SessionTable sessions_;

  // Session persistence: log records since the last checkpoint.
  std::vector<std::string> session_log_keys_;
  size_t session_log_bytes_ = 0;
  std::string session_log_batch_;  // This batch's log record, not yet in batch_.
  uint64_t session_log_part_ = 0;  // Parts of this batch's log already in batch_.
  size_t session_ckpt_bytes_ = 0;
  uint64_t session_ckpt_parts_ = 0;
  std::optional<uint64_t> sessions_hash_lo_, sessions_hash_hi_;  // Cache; reset on Record.

  // Per-batch state, empty between batches.
  uint64_t now_ns_ = 0;
  Staging staging_;
  std::unique_ptr<TableWriteBatch> own_batch_;
  TableWriteBatch* batch_ = nullptr;  // own_batch_ or the caller's (ApplyInto).
  IdIndex touched_;                   // Accounts touched in this batch, in first-touch order.
  std::vector<std::optional<Account>> account_orig_;  // Value at first touch, by touched_ position.
  // Linked chain in progress: values to restore on rollback. Empty unless in_chain_.
  bool in_chain_ = false;
  std::vector<std::pair<Id128, std::optional<Account>>> account_undo_;
  uint64_t chain_transfer_seq_ = 0;
  std::unordered_map<std::string, std::optional<KvEntry>> kv_orig_;
  std::vector<std::string> kv_order_;
  flatbuffers::FlatBufferBuilder fbb_;

  friend class SnapshotInstaller;
};

}  // namespace synod::ledger
