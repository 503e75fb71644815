// Names of the RocksDB column families that hold the ledger's tables, in the order of
// synod::ledger::Table (src/ledger/records.h). The storage layer opens these families in the
// node's one RocksDB database (next to the log's) and hands their handles to
// RocksDbLedgerTables. Plain constants; no RocksDB dependency.
#pragma once

#include <array>
#include <string_view>

namespace synod::ledger {

inline constexpr std::string_view kCfLedgerKv = "ledger_kv";
inline constexpr std::string_view kCfLedgerAccounts = "ledger_accounts";
inline constexpr std::string_view kCfLedgerTransfers = "ledger_transfers";
inline constexpr std::string_view kCfLedgerAccountTransfers = "ledger_account_transfers";
inline constexpr std::string_view kCfLedgerMeta = "ledger_meta";

// Indexed by static_cast<size_t>(Table).
inline constexpr std::array<std::string_view, 5> kLedgerColumnFamilies = {
    kCfLedgerKv, kCfLedgerAccounts, kCfLedgerTransfers, kCfLedgerAccountTransfers, kCfLedgerMeta};

}  // namespace synod::ledger
