// Exactly-once execution through the session table, and restart from the tables.
#include "paxos/limits.h"
#include "test_util.h"

namespace synod::ledger::testing {
namespace {

Command TransferCommand(uint64_t client, uint64_t request, Id128 id, uint64_t amount) {
  TransferSpec t = Plain(id, 1, 2, amount);
  return Command{client, request, EncodeCreateTransfers({&t, 1})};
}

void CreateTwoAccounts(Harness* h) {
  ASSERT_EQ(h->CreateAccount(1, 1), RC::ok);
  ASSERT_EQ(h->CreateAccount(2, 1), RC::ok);
}

TEST(LedgerSessions, RetryOfAppliedRequestReturnsFirstResultWithoutApplying) {
  Harness h;
  CreateTwoAccounts(&h);
  std::string first = h.ApplyRawBytes(TransferCommand(42, 1, 100, 5));
  EXPECT_EQ(Decode(first).event_codes[0], RC::ok);
  Hash128 hash = h.sm().StateHash();
  // Same request again: the recorded "ok" comes back (not "exists"), nothing is applied.
  std::string retry = h.ApplyRawBytes(TransferCommand(42, 1, 100, 5));
  EXPECT_EQ(retry, first);
  EXPECT_EQ(h.GetAccount(1).debits_posted, 5u);
  EXPECT_EQ(h.sm().StateHash(), hash);
  // A new request id with the same transfer id is applied and answers "exists".
  EXPECT_EQ(h.ApplyRaw(TransferCommand(42, 2, 100, 5)).event_codes[0], RC::exists);
}

TEST(LedgerSessions, RetryOfKvPutDoesNotBumpTheVersion) {
  Harness h;
  Command put{9, 1, EncodeKvPut("k", "v")};
  EXPECT_EQ(h.ApplyRaw(put).version, 1u);
  EXPECT_EQ(h.ApplyRaw(put).version, 1u);
  EXPECT_EQ(h.ApplyRaw(Command{9, 2, EncodeKvGet("k")}).items[0].version, 1u);
}

TEST(LedgerSessions, RequestBelowTheSessionFloorIsSessionExpired) {
  Harness h;
  CreateTwoAccounts(&h);
  const uint64_t n = synod::limits::kSessionResultsMax + 1;
  std::vector<std::string> payloads;
  Batch batch;
  for (uint64_t r = 1; r <= n; ++r) batch.commands.push_back({7, r, EncodeKvPut("k", "v")});
  batch.timestamp_ns = h.now_ns;
  ASSERT_TRUE(h.sm().Apply(h.sm().applied_slot() + 1, batch).ok());
  h.Reopen();  // Picks up the slot; also checks the sessions survive.
  DecodedResult old = h.ApplyRaw(Command{7, 1, EncodeKvPut("k", "again")});
  EXPECT_EQ(old.code, RC::session_expired);
  EXPECT_EQ(h.Apply(EncodeKvGet("k")).items[0].value, "v");
}

TEST(LedgerSessions, WriteWithoutRequestIdIsRefused) {
  Harness h;
  EXPECT_EQ(h.ApplyRaw(Command{7, 0, EncodeKvPut("k", "v")}).code, RC::session_expired);
  EXPECT_EQ(h.sm().kv_count(), 0u);
}

TEST(LedgerSessions, ReadsAreNotRecorded) {
  Harness h;
  h.ApplyRaw(Command{5, 1, EncodeKvGet("k")});
  EXPECT_EQ(h.sm().sessions().size(), 0u);
  h.ApplyRaw(Command{5, 2, EncodeKvPut("k", "v")});
  EXPECT_EQ(h.sm().sessions().size(), 1u);
  // A read re-using an id is simply executed again (it changes nothing).
  EXPECT_EQ(h.ApplyRaw(Command{5, 1, EncodeKvGet("k")}).items[0].value, "v");
}

class LedgerRestart : public ::testing::TestWithParam<Backend> {};

TEST_P(LedgerRestart, ReopenFromTablesResumesSameStateAndSessions) {
  Harness h(GetParam());
  CreateTwoAccounts(&h);
  std::string first = h.ApplyRawBytes(TransferCommand(42, 1, 100, 5));
  h.Apply(EncodeKvPut("k", "v"));
  ASSERT_EQ(h.Transfer(PendingT(101, 1, 2, 3, 1000)), RC::ok);
  Hash128 hash = h.sm().StateHash();
  Slot slot = h.sm().applied_slot();
  h.Reopen();
  EXPECT_EQ(h.sm().applied_slot(), slot);
  EXPECT_EQ(h.sm().StateHash(), hash);
  EXPECT_EQ(h.ApplyRawBytes(TransferCommand(42, 1, 100, 5)), first);  // Still deduplicated.
  EXPECT_EQ(h.GetAccount(1).debits_pending, 3u);
  h.now_ns += 1000;
  EXPECT_EQ(h.GetAccount(1).debits_pending, 0u);  // Expiry survived the restart.
  auto sum = h.sm().RecomputeRecordSum();
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum.value(), h.sm().record_sum());
}

TEST_P(LedgerRestart, SessionLogIsCheckpointedAndStillReplays) {
  Harness h(GetParam());
  // ~1.8 MiB of recorded results: more than the 1 MiB that triggers a checkpoint.
  for (int round = 0; round < 40; ++round) {
    std::vector<std::string> payloads;
    for (int i = 0; i < 1000; ++i) payloads.push_back(EncodeKvPut("k" + std::to_string(i), "v"));
    h.ApplyMany(payloads);
  }
  std::string parts;
  bool found = false;
  ASSERT_TRUE(h.tables().get()->Get(Table::kMeta, kMetaSessionParts, &parts, &found).ok());
  ASSERT_TRUE(found);
  Hash128 hash = h.sm().StateHash();
  h.Reopen();
  EXPECT_EQ(h.sm().StateHash(), hash);
  EXPECT_EQ(h.sm().sessions().size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, LedgerRestart,
                         ::testing::Values(Backend::kMemory, Backend::kRocksDb),
                         [](const auto& info) { return BackendName(info.param); });

}  // namespace
}  // namespace synod::ledger::testing
