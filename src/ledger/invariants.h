// The ledger invariant (ARCHITECTURE.md "Data model"), as a function that tests and
// `synod check` call on a StateMachine:
//   for every ledger: sum(debits_posted) == sum(credits_posted) and
//                     sum(debits_pending) == sum(credits_pending);
//   no account with debits_must_not_exceed_credits has debits_posted + debits_pending >
//   credits_posted, and no account with credits_must_not_exceed_debits has credits_posted +
//   credits_pending > debits_posted.
// Sums use unsigned __int128, so they cannot overflow. O(accounts). The report is
// deterministic: ledgers in ascending order, violations sorted by account id.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ledger/state_machine.h"

namespace synod::ledger {

struct LedgerTotals {
  uint32_t ledger = 0;
  uint64_t accounts = 0;
  unsigned __int128 debits_posted = 0;
  unsigned __int128 credits_posted = 0;
  unsigned __int128 debits_pending = 0;
  unsigned __int128 credits_pending = 0;
  bool balanced() const {
    return debits_posted == credits_posted && debits_pending == credits_pending;
  }
};

struct InvariantReport {
  bool ok = true;
  std::vector<LedgerTotals> ledgers;    // Ascending ledger number.
  std::vector<std::string> violations;  // Human-readable, one per broken fact.
  std::string ToString() const;
};

InvariantReport CheckLedgerInvariants(const StateMachine& sm);

}  // namespace synod::ledger
