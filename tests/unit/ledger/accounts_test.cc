// Accounts: creation result codes and lookups.
#include "test_util.h"

namespace synod::ledger::testing {
namespace {

TEST(LedgerAccounts, CreateThenLookupHasZeroBalances) {
  Harness h;
  EXPECT_EQ(h.CreateAccount(7, 3, kDebitsLimited, 42), RC::ok);
  Account a = h.GetAccount(7);
  EXPECT_EQ(a.id, Id128(7));
  EXPECT_EQ(a.ledger, 3u);
  EXPECT_EQ(a.code, 42);
  EXPECT_EQ(a.flags, kDebitsLimited);
  EXPECT_EQ(a.debits_posted + a.credits_posted + a.debits_pending + a.credits_pending, 0u);
  EXPECT_EQ(a.timestamp_ns, h.now_ns);
}

TEST(LedgerAccounts, RecreatingSameFieldsAnswersExists) {
  Harness h;
  EXPECT_EQ(h.CreateAccount(1, 1), RC::ok);
  EXPECT_EQ(h.CreateAccount(1, 1), RC::exists);
}

TEST(LedgerAccounts, RecreatingOtherFieldsAnswersExistsWithDifferentFields) {
  Harness h;
  EXPECT_EQ(h.CreateAccount(1, 1), RC::ok);
  EXPECT_EQ(h.CreateAccount(1, 2), RC::exists_with_different_fields);
  EXPECT_EQ(h.CreateAccount(1, 1, kDebitsLimited), RC::exists_with_different_fields);
  EXPECT_EQ(h.CreateAccount(1, 1, 0, 9), RC::exists_with_different_fields);
  EXPECT_EQ(h.GetAccount(1).ledger, 1u);
}

TEST(LedgerAccounts, RejectsZeroIdZeroLedgerAndBadFlags) {
  Harness h;
  EXPECT_EQ(h.CreateAccount(0, 1), RC::id_must_not_be_zero);
  EXPECT_EQ(h.CreateAccount(1, 0), RC::ledger_must_not_be_zero);
  EXPECT_EQ(h.CreateAccount(1, 1, kDebitsLimited | kCreditsLimited),
            RC::flags_are_mutually_exclusive);
  EXPECT_EQ(h.CreateAccount(1, 1, 0x100), RC::reserved_flag);
  EXPECT_EQ(h.sm().account_count(), 0u);
}

TEST(LedgerAccounts, Full128BitIdsRoundTrip) {
  Harness h;
  Id128 id = (Id128(0xFEDCBA9876543210ull) << 64) | 0x0123456789ABCDEFull;
  EXPECT_EQ(h.CreateAccount(id, 1), RC::ok);
  EXPECT_EQ(h.GetAccount(id).id, id);
  EXPECT_EQ(IdToString(Id128(1) << 64), "18446744073709551616");
}

TEST(LedgerAccounts, ManyInOneCommandGetOneCodeEach) {
  Harness h;
  std::vector<AccountSpec> specs = {{1, 1, 0, 0}, {2, 1, 0, 0}, {1, 1, 0, 0}, {0, 1, 0, 0}};
  DecodedResult r = h.Apply(EncodeCreateAccounts(specs));
  EXPECT_EQ(r.event_codes, (std::vector<RC>{RC::ok, RC::ok, RC::exists, RC::id_must_not_be_zero}));
}

TEST(LedgerAccounts, EmptyCommandAndLookupOfMissingAnswerClearly) {
  Harness h;
  EXPECT_EQ(h.Apply(EncodeCreateAccounts({})).code, RC::too_many_events);
  Id128 missing = 99;
  EXPECT_EQ(h.Apply(EncodeLookupAccounts({&missing, 1})).code, RC::not_found);
  std::vector<Id128> ids(501, 1);
  EXPECT_EQ(h.Apply(EncodeLookupAccounts(ids)).code, RC::too_many_events);
  EXPECT_EQ(h.Apply(EncodeLookupTransfers(ids)).code, RC::too_many_events);
  ids.resize(500);
  EXPECT_EQ(h.Apply(EncodeLookupAccounts(ids)).code, RC::not_found);
}

}  // namespace
}  // namespace synod::ledger::testing
