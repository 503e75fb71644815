#include "ledger/invariants.h"

#include <algorithm>
#include <map>
#include <utility>

namespace synod::ledger {
namespace {

std::string U128ToString(unsigned __int128 v) { return IdToString(v); }

// The account's own flag, checked in 128 bits.
bool BreaksLimit(const Account& a, std::string* why) {
  using u128 = unsigned __int128;
  const uint16_t kDebits = uint16_t(fb::AccountFlags::debits_must_not_exceed_credits);
  const uint16_t kCredits = uint16_t(fb::AccountFlags::credits_must_not_exceed_debits);
  if ((a.flags & kDebits) && u128(a.debits_posted) + a.debits_pending > a.credits_posted) {
    *why = "debits exceed credits";
    return true;
  }
  if ((a.flags & kCredits) && u128(a.credits_posted) + a.credits_pending > a.debits_posted) {
    *why = "credits exceed debits";
    return true;
  }
  return false;
}

}  // namespace

InvariantReport CheckLedgerInvariants(const StateMachine& sm) {
  std::map<uint32_t, LedgerTotals> totals;
  std::vector<std::pair<Id128, std::string>> broken;
  // Iteration order does not matter: sums commute and `broken` is sorted below.
  sm.ForEachAccount([&](const Account& a) {
    LedgerTotals& t = totals[a.ledger];
    t.ledger = a.ledger;
    ++t.accounts;
    t.debits_posted += a.debits_posted;
    t.credits_posted += a.credits_posted;
    t.debits_pending += a.debits_pending;
    t.credits_pending += a.credits_pending;
    std::string why;
    if (BreaksLimit(a, &why)) broken.emplace_back(a.id, why);
  });
  InvariantReport report;
  for (auto& [ledger, t] : totals) {
    report.ledgers.push_back(t);
    if (t.debits_posted != t.credits_posted) {
      report.violations.push_back("ledger " + std::to_string(ledger) + ": debits_posted " +
                                  U128ToString(t.debits_posted) + " != credits_posted " +
                                  U128ToString(t.credits_posted));
    }
    if (t.debits_pending != t.credits_pending) {
      report.violations.push_back("ledger " + std::to_string(ledger) + ": debits_pending " +
                                  U128ToString(t.debits_pending) + " != credits_pending " +
                                  U128ToString(t.credits_pending));
    }
  }
  std::sort(broken.begin(), broken.end());
  for (const auto& [id, why] : broken) {
    report.violations.push_back("account " + IdToString(id) + ": " + why);
  }
  report.ok = report.violations.empty();
  return report;
}

std::string InvariantReport::ToString() const {
  std::string s = ok ? "ok" : "VIOLATED";
  for (const LedgerTotals& t : ledgers) {
    s += "\n  ledger " + std::to_string(t.ledger) + ": " + std::to_string(t.accounts) +
         " accounts, posted " + U128ToString(t.debits_posted) + "/" +
         U128ToString(t.credits_posted) + ", pending " + U128ToString(t.debits_pending) + "/" +
         U128ToString(t.credits_pending);
  }
  for (const std::string& v : violations) s += "\n  " + v;
  return s;
}

}  // namespace synod::ledger
