// Strict parsers for command-line values: every failure names the argument and says why.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ledger/records.h"
#include "paxos/status.h"

namespace synod::tools {

// A decimal integer of at most `bits` bits (64 or 128); no sign, no spaces, no leading '+'.
Result<unsigned __int128> ParseUnsigned(std::string_view what, std::string_view text, int bits);
Result<ledger::Id128> ParseId(std::string_view what, std::string_view text);  // Non-zero u128.
Result<uint64_t> ParseAmount(std::string_view what, std::string_view text);   // u64.

}  // namespace synod::tools
