// Client-side helpers for the ledger state machine: encode commands (the bytes of
// Command.payload) and decode results (the bytes a replica answers). Used by the CLI, the
// load generator, the simulator and the tests. Stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/records.h"
#include "paxos/status.h"
#include "schemas/ledger_generated.h"

namespace synod::ledger {

using ResultCode = fb::ResultCode;
// "ok", "exists", "exceeds_credits", ... (the names the CLI prints).
inline const char* ResultCodeName(ResultCode code) { return fb::EnumNameResultCode(code); }

struct AccountSpec {
  Id128 id = 0;
  uint32_t ledger = 0;
  uint16_t code = 0;
  uint16_t flags = 0;  // fb::AccountFlags bits.
};

struct TransferSpec {
  Id128 id = 0;
  Id128 debit = 0;
  Id128 credit = 0;
  Id128 pending_id = 0;  // post/void only.
  uint64_t amount = 0;
  uint64_t timeout_ns = 0;  // pending only.
  uint32_t ledger = 0;
  uint16_t code = 0;
  uint16_t flags = 0;  // fb::TransferFlags bits.
};

std::string EncodeKvPut(std::string_view key, std::string_view value);
std::string EncodeKvGet(std::string_view key);
std::string EncodeKvDelete(std::string_view key);
std::string EncodeKvCas(std::string_view key, uint64_t expected_version, std::string_view value);
std::string EncodeKvScan(std::string_view prefix, uint32_t limit);
std::string EncodeCreateAccounts(std::span<const AccountSpec> accounts);
std::string EncodeCreateTransfers(std::span<const TransferSpec> transfers);
std::string EncodeLookupAccounts(std::span<const Id128> ids);
std::string EncodeLookupTransfers(std::span<const Id128> ids);
std::string EncodeLookupAccountTransfers(Id128 account, uint32_t limit);

struct KvItemView {
  std::string key;
  std::string value;
  uint64_t version = 0;
};

struct TransferView {
  Transfer transfer;  // seq is not part of a result and stays 0.
  fb::PendingState state = fb::PendingState::none;
};

// A decoded CommandResult; which fields mean something depends on the command (ledger.fbs).
struct DecodedResult {
  ResultCode code = ResultCode::ok;
  uint64_t version = 0;
  std::vector<KvItemView> items;
  bool more = false;
  std::vector<ResultCode> event_codes;
  std::vector<Account> accounts;
  std::vector<TransferView> transfers;
};

// Verifies and decodes result bytes; Corruption if they are not a CommandResult.
Result<DecodedResult> DecodeResult(std::string_view bytes);

}  // namespace synod::ledger
