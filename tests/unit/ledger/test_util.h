// Test helpers for the ledger state machine: a Harness that owns tables and a StateMachine and
// applies one command per batch (or many), with per-client request ids, and decodes results.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ledger/client.h"
#include "ledger/invariants.h"
#include "ledger/memory_tables.h"
#include "ledger/snapshot.h"
#include "ledger/state_machine.h"
#include "storage/ledger/rocksdb_ledger_tables.h"

namespace synod::ledger::testing {

using RC = fb::ResultCode;

// Scale factor for iteration counts (SYNOD_SIM_SEEDS_SCALE, e.g. 0.1 under the sanitizers).
double Scale();

// A fresh temporary directory, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

enum class Backend { kMemory, kRocksDb };
const char* BackendName(Backend b);

// Tables of one backend, reopenable (RocksDB: closes and reopens the database).
class TestTables {
 public:
  explicit TestTables(Backend backend);
  LedgerTables* get();
  void Reopen();  // RocksDB only does anything.

 private:
  Backend backend_;
  std::unique_ptr<MemoryTables> memory_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<LedgerDb> db_;
};

class Harness {
 public:
  explicit Harness(Backend backend = Backend::kMemory, StateMachine::Options options = {});

  StateMachine& sm() { return *sm_; }
  TestTables& tables() { return tables_; }
  uint64_t now_ns = 1'000'000'000;  // Timestamp of the next batch.

  // Applies a batch of commands (each from client 1 with a fresh request id) and decodes.
  std::vector<DecodedResult> ApplyMany(const std::vector<std::string>& payloads);
  std::vector<std::string> ApplyManyRaw(const std::vector<std::string>& payloads);
  DecodedResult Apply(const std::string& payload);
  // Applies `command` exactly as given (client and request id chosen by the caller).
  DecodedResult ApplyRaw(const Command& command);
  std::string ApplyRawBytes(const Command& command);
  void Reopen();  // Drops the machine, reopens the tables and the machine from them.

  RC CreateAccount(Id128 id, uint32_t ledger = 1, uint16_t flags = 0, uint16_t code = 0);
  RC Transfer(const TransferSpec& t);
  std::vector<RC> Transfers(const std::vector<TransferSpec>& t);
  Account GetAccount(Id128 id);  // Through a lookup command.
  std::vector<TransferView> GetTransfers(Id128 id);

 private:
  TestTables tables_;
  StateMachine::Options options_;
  std::unique_ptr<StateMachine> sm_;
  Slot slot_ = 0;
  uint64_t next_request_ = 1;
};

TransferSpec Plain(Id128 id, Id128 debit, Id128 credit, uint64_t amount, uint32_t ledger = 1);
TransferSpec PendingT(Id128 id, Id128 debit, Id128 credit, uint64_t amount,
                      uint64_t timeout_ns = 0);
TransferSpec PostT(Id128 id, Id128 pending_id, uint64_t amount = 0);
TransferSpec VoidT(Id128 id, Id128 pending_id);

DecodedResult Decode(const std::string& bytes);

}  // namespace synod::ledger::testing
