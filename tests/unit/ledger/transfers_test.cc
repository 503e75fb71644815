// Transfers: every result code, pending transfers (post in full or in part, void, expiry at
// cluster time), linked chains, and account-transfer lookups.
#include <limits>

#include "test_util.h"

namespace synod::ledger::testing {
namespace {

// Accounts 1, 2 (ledger 1, no limits), 3 (ledger 2), 4 (ledger 1, debits limited),
// 5 (ledger 1, credits limited).
class LedgerTransfers : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(h.CreateAccount(1, 1), RC::ok);
    ASSERT_EQ(h.CreateAccount(2, 1), RC::ok);
    ASSERT_EQ(h.CreateAccount(3, 2), RC::ok);
    ASSERT_EQ(h.CreateAccount(4, 1, kDebitsLimited), RC::ok);
    ASSERT_EQ(h.CreateAccount(5, 1, kCreditsLimited), RC::ok);
  }
  void ExpectInvariant() {
    InvariantReport report = CheckLedgerInvariants(h.sm());
    EXPECT_TRUE(report.ok) << report.ToString();
  }
  Harness h;
};

TEST_F(LedgerTransfers, PlainTransferMovesPostedBalances) {
  EXPECT_EQ(h.Transfer(Plain(100, 1, 2, 30)), RC::ok);
  EXPECT_EQ(h.GetAccount(1).debits_posted, 30u);
  EXPECT_EQ(h.GetAccount(2).credits_posted, 30u);
  auto t = h.GetTransfers(100);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].transfer.amount, 30u);
  EXPECT_EQ(t[0].transfer.timestamp_ns, h.now_ns);
  EXPECT_EQ(t[0].state, fb::PendingState::none);
  ExpectInvariant();
}

TEST_F(LedgerTransfers, RetryWithSameIdAnswersExistsAndChangesNothing) {
  EXPECT_EQ(h.Transfer(Plain(100, 1, 2, 30)), RC::ok);
  EXPECT_EQ(h.Transfer(Plain(100, 1, 2, 30)), RC::exists);
  EXPECT_EQ(h.Transfer(Plain(100, 1, 2, 31)), RC::exists_with_different_fields);
  EXPECT_EQ(h.Transfer(Plain(100, 2, 1, 30)), RC::exists_with_different_fields);
  EXPECT_EQ(h.GetAccount(1).debits_posted, 30u);
}

TEST_F(LedgerTransfers, StaticValidationCodes) {
  EXPECT_EQ(h.Transfer(Plain(0, 1, 2, 1)), RC::id_must_not_be_zero);
  EXPECT_EQ(h.Transfer(Plain(100, 1, 1, 1)), RC::accounts_must_be_different);
  EXPECT_EQ(h.Transfer(Plain(100, 1, 2, 0)), RC::amount_must_not_be_zero);
  EXPECT_EQ(h.Transfer(Plain(100, 1, 2, 1, /*ledger=*/0)), RC::ledger_must_not_be_zero);
  TransferSpec both = Plain(100, 1, 2, 1);
  both.flags = kPending | kPost;
  EXPECT_EQ(h.Transfer(both), RC::flags_are_mutually_exclusive);
  TransferSpec reserved = Plain(100, 1, 2, 1);
  reserved.flags = 0x40;
  EXPECT_EQ(h.Transfer(reserved), RC::reserved_flag);
  TransferSpec timeout = Plain(100, 1, 2, 1);
  timeout.timeout_ns = 5;
  EXPECT_EQ(h.Transfer(timeout), RC::timeout_reserved_for_pending);
  TransferSpec with_pending_id = Plain(100, 1, 2, 1);
  with_pending_id.pending_id = 9;
  EXPECT_EQ(h.Transfer(with_pending_id), RC::pending_id_must_be_zero);
  EXPECT_EQ(h.Transfer(PostT(100, 0)), RC::pending_id_must_not_be_zero);
  EXPECT_EQ(h.Transfer(PostT(100, 100)), RC::pending_id_must_be_different);
  EXPECT_TRUE(h.GetTransfers(100).empty());
}

TEST_F(LedgerTransfers, UnknownAccountAnswersAccountNotFound) {
  EXPECT_EQ(h.Transfer(Plain(100, 1, 77, 1)), RC::account_not_found);
  EXPECT_EQ(h.Transfer(Plain(100, 77, 1, 1)), RC::account_not_found);
}

TEST_F(LedgerTransfers, DifferentLedgersAnswerLedgerMismatch) {
  EXPECT_EQ(h.Transfer(Plain(100, 1, 3, 1)), RC::ledger_mismatch);
  EXPECT_EQ(h.Transfer(Plain(100, 1, 2, 1, /*ledger=*/2)), RC::ledger_mismatch);
}

TEST_F(LedgerTransfers, DebitsMustNotExceedCredits) {
  EXPECT_EQ(h.Transfer(Plain(100, 4, 1, 1)), RC::exceeds_credits);
  EXPECT_EQ(h.Transfer(Plain(101, 1, 4, 10)), RC::ok);  // Account 4 gets 10 of credit.
  EXPECT_EQ(h.Transfer(Plain(102, 4, 1, 10)), RC::ok);
  EXPECT_EQ(h.Transfer(Plain(103, 4, 1, 1)), RC::exceeds_credits);
  // Pending debits count against the limit too.
  EXPECT_EQ(h.Transfer(Plain(104, 1, 4, 5)), RC::ok);
  EXPECT_EQ(h.Transfer(PendingT(105, 4, 1, 5)), RC::ok);
  EXPECT_EQ(h.Transfer(Plain(106, 4, 1, 1)), RC::exceeds_credits);
  ExpectInvariant();
}

TEST_F(LedgerTransfers, CreditsMustNotExceedDebits) {
  EXPECT_EQ(h.Transfer(Plain(100, 1, 5, 1)), RC::exceeds_debits);
  EXPECT_EQ(h.Transfer(Plain(101, 5, 1, 3)), RC::ok);
  EXPECT_EQ(h.Transfer(Plain(102, 1, 5, 3)), RC::ok);
  EXPECT_EQ(h.Transfer(Plain(103, 1, 5, 1)), RC::exceeds_debits);
}

TEST_F(LedgerTransfers, OverflowIsDetectedNotWrapped) {
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(h.Transfer(Plain(100, 1, 2, max)), RC::ok);
  EXPECT_EQ(h.Transfer(Plain(101, 1, 2, 1)), RC::overflow);
  EXPECT_EQ(h.Transfer(Plain(102, 2, 1, 1)), RC::ok);             // Other direction still fits.
  EXPECT_EQ(h.Transfer(PendingT(103, 2, 1, max)), RC::overflow);  // Posted + pending > max.
  EXPECT_EQ(h.GetAccount(1).debits_posted, max);
  ExpectInvariant();
}

TEST_F(LedgerTransfers, PendingReservesThenPostsInFull) {
  EXPECT_EQ(h.Transfer(PendingT(100, 1, 2, 50)), RC::ok);
  EXPECT_EQ(h.GetAccount(1).debits_pending, 50u);
  EXPECT_EQ(h.GetAccount(2).credits_pending, 50u);
  EXPECT_EQ(h.GetTransfers(100)[0].state, fb::PendingState::pending);
  EXPECT_EQ(h.Transfer(PostT(101, 100)), RC::ok);
  Account a = h.GetAccount(1), b = h.GetAccount(2);
  EXPECT_EQ(a.debits_pending, 0u);
  EXPECT_EQ(a.debits_posted, 50u);
  EXPECT_EQ(b.credits_posted, 50u);
  EXPECT_EQ(h.GetTransfers(100)[0].state, fb::PendingState::posted);
  EXPECT_EQ(h.GetTransfers(101)[0].transfer.amount, 50u);
  ExpectInvariant();
}

TEST_F(LedgerTransfers, PartialPostPostsThePartAndReleasesTheRest) {
  EXPECT_EQ(h.Transfer(PendingT(100, 1, 2, 50)), RC::ok);
  EXPECT_EQ(h.Transfer(PostT(101, 100, 80)), RC::exceeds_pending_amount);
  EXPECT_EQ(h.Transfer(PostT(101, 100, 20)), RC::ok);
  Account a = h.GetAccount(1), b = h.GetAccount(2);
  EXPECT_EQ(a.debits_posted, 20u);
  EXPECT_EQ(a.debits_pending, 0u);
  EXPECT_EQ(b.credits_posted, 20u);
  EXPECT_EQ(b.credits_pending, 0u);
  EXPECT_EQ(h.Transfer(PostT(102, 100, 10)), RC::pending_already_posted);
  ExpectInvariant();
}

TEST_F(LedgerTransfers, VoidReleasesTheReservation) {
  EXPECT_EQ(h.Transfer(PendingT(100, 1, 2, 50)), RC::ok);
  EXPECT_EQ(h.Transfer(VoidT(101, 100)), RC::ok);
  Account a = h.GetAccount(1);
  EXPECT_EQ(a.debits_pending, 0u);
  EXPECT_EQ(a.debits_posted, 0u);
  EXPECT_EQ(h.GetTransfers(100)[0].state, fb::PendingState::voided);
  EXPECT_EQ(h.Transfer(VoidT(102, 100)), RC::pending_already_voided);
  EXPECT_EQ(h.Transfer(PostT(103, 100)), RC::pending_already_voided);
  ExpectInvariant();
}

TEST_F(LedgerTransfers, RetriedPostAnswersExistsAndPostsOnce) {
  EXPECT_EQ(h.Transfer(PendingT(100, 1, 2, 50)), RC::ok);
  EXPECT_EQ(h.Transfer(PostT(101, 100, 20)), RC::ok);
  EXPECT_EQ(h.Transfer(PostT(101, 100, 20)), RC::exists);
  EXPECT_EQ(h.Transfer(PostT(101, 100, 30)), RC::exists_with_different_fields);
  EXPECT_EQ(h.Transfer(VoidT(101, 100)), RC::exists_with_different_fields);
  EXPECT_EQ(h.GetAccount(1).debits_posted, 20u);
  ExpectInvariant();
}

TEST_F(LedgerTransfers, TimeoutPastTheEndOfTimeIsOverflow) {
  EXPECT_EQ(h.Transfer(PendingT(100, 1, 2, 5, std::numeric_limits<uint64_t>::max())), RC::overflow);
  EXPECT_EQ(h.GetAccount(1).debits_pending, 0u);
}

TEST_F(LedgerTransfers, PostOrVoidOfUnknownOrPlainTransfer) {
  EXPECT_EQ(h.Transfer(PostT(101, 999)), RC::pending_not_found);
  EXPECT_EQ(h.Transfer(Plain(100, 1, 2, 5)), RC::ok);
  EXPECT_EQ(h.Transfer(VoidT(102, 100)), RC::pending_transfer_not_pending);
}

TEST_F(LedgerTransfers, PostWithMismatchingFieldsIsRejected) {
  EXPECT_EQ(h.Transfer(PendingT(100, 1, 2, 50)), RC::ok);
  TransferSpec post = PostT(101, 100);
  post.debit = 2;
  EXPECT_EQ(h.Transfer(post), RC::pending_transfer_has_different_fields);
  post = PostT(101, 100);
  post.ledger = 2;
  EXPECT_EQ(h.Transfer(post), RC::ledger_mismatch);
  TransferSpec void_wrong = VoidT(101, 100);
  void_wrong.amount = 7;
  EXPECT_EQ(h.Transfer(void_wrong), RC::exceeds_pending_amount);
  post = PostT(101, 100);
  post.debit = 1;
  post.credit = 2;
  post.ledger = 1;
  EXPECT_EQ(h.Transfer(post), RC::ok);  // Matching fields are fine.
}

TEST_F(LedgerTransfers, PendingExpiresAtClusterTime) {
  const uint64_t t0 = h.now_ns;
  EXPECT_EQ(h.Transfer(PendingT(100, 1, 2, 50, /*timeout_ns=*/1000)), RC::ok);
  EXPECT_EQ(h.Transfer(PendingT(101, 1, 2, 7, /*timeout_ns=*/5000)), RC::ok);
  h.now_ns = t0 + 999;  // Not yet.
  EXPECT_EQ(h.GetAccount(1).debits_pending, 57u);
  h.now_ns = t0 + 1000;  // Exactly at the timeout: expired.
  EXPECT_EQ(h.GetAccount(1).debits_pending, 7u);
  EXPECT_EQ(h.GetAccount(2).credits_pending, 7u);
  EXPECT_EQ(h.GetTransfers(100)[0].state, fb::PendingState::expired);
  EXPECT_EQ(h.Transfer(PostT(102, 100)), RC::pending_expired);
  EXPECT_EQ(h.Transfer(VoidT(103, 100)), RC::pending_expired);
  EXPECT_EQ(h.Transfer(PostT(104, 101)), RC::ok);  // The other one is still open.
  ExpectInvariant();
}

TEST_F(LedgerTransfers, ClusterTimeNeverGoesBackwards) {
  const uint64_t t0 = h.now_ns;
  EXPECT_EQ(h.Transfer(PendingT(100, 1, 2, 50, 1000)), RC::ok);
  h.now_ns = t0 + 2000;
  EXPECT_EQ(h.GetAccount(1).debits_pending, 0u);  // Expired.
  h.now_ns = t0;  // A batch with an older timestamp does not revive it.
  EXPECT_EQ(h.Transfer(PostT(101, 100)), RC::pending_expired);
  EXPECT_EQ(h.sm().cluster_time_ns(), t0 + 2000);
}

TEST_F(LedgerTransfers, PostedTransferDoesNotExpire) {
  const uint64_t t0 = h.now_ns;
  EXPECT_EQ(h.Transfer(PendingT(100, 1, 2, 50, 1000)), RC::ok);
  EXPECT_EQ(h.Transfer(PostT(101, 100)), RC::ok);
  h.now_ns = t0 + 5000;
  EXPECT_EQ(h.GetAccount(1).debits_posted, 50u);
  EXPECT_EQ(h.GetTransfers(100)[0].state, fb::PendingState::posted);
  ExpectInvariant();
}

TEST_F(LedgerTransfers, PendingAndPostInOneBatch) {
  std::vector<RC> codes = h.Transfers({PendingT(100, 1, 2, 9), PostT(101, 100, 4)});
  EXPECT_EQ(codes, (std::vector<RC>{RC::ok, RC::ok}));
  EXPECT_EQ(h.GetAccount(2).credits_posted, 4u);
  EXPECT_EQ(h.GetAccount(2).credits_pending, 0u);
}

TEST_F(LedgerTransfers, LinkedChainFailingInTheMiddleAppliesNothing) {
  TransferSpec a = Plain(100, 1, 2, 10), b = Plain(101, 2, 1, 3), c = Plain(102, 1, 77, 1),
               d = Plain(103, 1, 2, 4), after = Plain(104, 1, 2, 5);
  a.flags = b.flags = c.flags = kLinked;  // Chain a-b-c-d; c fails.
  std::vector<RC> codes = h.Transfers({a, b, c, d, after});
  EXPECT_EQ(codes, (std::vector<RC>{RC::linked_event_failed, RC::linked_event_failed,
                                    RC::account_not_found, RC::linked_event_failed, RC::ok}));
  EXPECT_EQ(h.GetAccount(1).debits_posted, 5u);
  EXPECT_EQ(h.GetAccount(1).credits_posted, 0u);
  EXPECT_TRUE(h.GetTransfers(100).empty());
  EXPECT_TRUE(h.GetTransfers(101).empty());
  // The ids of the failed chain are free: the chain can be retried once fixed.
  c.credit = 2;
  EXPECT_EQ(h.Transfers({a, b, c, d}), (std::vector<RC>{RC::ok, RC::ok, RC::ok, RC::ok}));
  ExpectInvariant();
}

TEST_F(LedgerTransfers, LinkedChainRollsBackPostsAndPendingState) {
  EXPECT_EQ(h.Transfer(PendingT(100, 1, 2, 50, 1000)), RC::ok);
  TransferSpec post = PostT(101, 100), bad = Plain(102, 1, 1, 1);
  post.flags |= kLinked;
  EXPECT_EQ(h.Transfers({post, bad}),
            (std::vector<RC>{RC::linked_event_failed, RC::accounts_must_be_different}));
  EXPECT_EQ(h.GetTransfers(100)[0].state, fb::PendingState::pending);
  EXPECT_EQ(h.GetAccount(1).debits_pending, 50u);
  h.now_ns += 1000;  // Its expiry record was not lost by the rollback.
  EXPECT_EQ(h.GetAccount(1).debits_pending, 0u);
  ExpectInvariant();
}

TEST_F(LedgerTransfers, ChainLeftOpenAtEndOfCommandFails) {
  TransferSpec a = Plain(100, 1, 2, 1), b = Plain(101, 1, 2, 1);
  a.flags = b.flags = kLinked;
  EXPECT_EQ(h.Transfers({a, b}),
            (std::vector<RC>{RC::linked_event_failed, RC::linked_event_chain_open}));
  EXPECT_EQ(h.GetAccount(1).debits_posted, 0u);
}

TEST_F(LedgerTransfers, DuplicateIdInsideOneCommand) {
  EXPECT_EQ(h.Transfers({Plain(100, 1, 2, 1), Plain(100, 1, 2, 1), Plain(100, 1, 2, 2)}),
            (std::vector<RC>{RC::ok, RC::exists, RC::exists_with_different_fields}));
  EXPECT_EQ(h.GetAccount(1).debits_posted, 1u);
}

TEST_F(LedgerTransfers, AccountTransfersAreMostRecentFirstWithLimit) {
  for (Id128 id = 100; id < 110; ++id) ASSERT_EQ(h.Transfer(Plain(id, 1, 2, 1)), RC::ok);
  ASSERT_EQ(h.Transfer(Plain(200, 2, 4, 1)), RC::ok);  // Account 2 only.
  DecodedResult r = h.Apply(EncodeLookupAccountTransfers(1, 3));
  ASSERT_EQ(r.transfers.size(), 3u);
  EXPECT_EQ(r.transfers[0].transfer.id, Id128(109));
  EXPECT_EQ(r.transfers[2].transfer.id, Id128(107));
  EXPECT_TRUE(r.more);
  DecodedResult all = h.Apply(EncodeLookupAccountTransfers(2, 0));
  EXPECT_EQ(all.transfers.size(), 11u);
  EXPECT_EQ(all.transfers[0].transfer.id, Id128(200));
  EXPECT_FALSE(all.more);
  EXPECT_EQ(h.Apply(EncodeLookupAccountTransfers(77, 0)).code, RC::account_not_found);
}

TEST_F(LedgerTransfers, AccountTransfersSeeTransfersOfTheSameBatch) {
  ASSERT_EQ(h.Transfer(Plain(100, 1, 2, 1)), RC::ok);
  TransferSpec t = Plain(101, 1, 2, 1);
  std::vector<DecodedResult> r =
      h.ApplyMany({EncodeCreateTransfers({&t, 1}), EncodeLookupAccountTransfers(1, 0)});
  ASSERT_EQ(r[1].transfers.size(), 2u);
  EXPECT_EQ(r[1].transfers[0].transfer.id, Id128(101));
  EXPECT_EQ(r[1].transfers[1].transfer.id, Id128(100));
}

}  // namespace
}  // namespace synod::ledger::testing
