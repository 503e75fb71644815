// The largest request: one command of 8,190 transfers (limits::kCommandsPerBatchMax events,
// TigerBeetle's batch size, about 720 KB encoded) is accepted and answered by a real 3-node
// cluster, every event gets its own result, all three replicas apply it, and the ledger stays
// balanced. bench/e2e.sh once found such a request dropped without an answer (a 96 KiB payload
// limit then); this test keeps that from coming back. One byte over the payload limit is
// refused by the client before anything is sent.
#include <gtest/gtest.h>

#include "ledger/client.h"
#include "ledger/ledger_limits.h"
#include "paxos/limits.h"
#include "tests/integration/cluster.h"
#include "tests/integration/json_util.h"

namespace synod::integration {
namespace {

using ledger::Id128;
constexpr size_t kEvents = ledger::limits::kEventsPerCommandMax;
static_assert(kEvents == 8190);

// Transfers of 1 unit from account `from` to account `to`, ids base+1 ...
std::vector<ledger::TransferSpec> Transfers(Id128 base, Id128 from, Id128 to, size_t n) {
  std::vector<ledger::TransferSpec> ts(n);
  for (size_t i = 0; i < n; ++i) {
    ts[i].id = base + i + 1;
    ts[i].debit = from;
    ts[i].credit = to;
    ts[i].amount = 1;
    ts[i].ledger = 1;
    ts[i].code = 1;
  }
  return ts;
}

TEST(Batch, FullBatchOf8190TransfersIsAnsweredAndApplied) {
  TestCluster cluster;
  cluster.StartAll();
  ASSERT_NE(cluster.WaitForLeader(20000), 0u) << cluster.DescribeStatus();
  auto client = cluster.NewClient(/*timeout_ms=*/60000, /*retry_ms=*/10000);

  const Id128 a = (Id128(7) << 64) | 1, b = (Id128(7) << 64) | 2;
  std::vector<ledger::AccountSpec> accounts = {{a, 1, 1, 0}, {b, 1, 1, 0}};
  auto created = client->Execute(ledger::EncodeCreateAccounts(accounts));
  ASSERT_TRUE(created.ok()) << created.status().ToString();

  const std::string payload =
      ledger::EncodeCreateTransfers(Transfers(Id128(9) << 64, a, b, kEvents));
  ASSERT_LE(payload.size(), limits::kPayloadBytesMax);
  ASSERT_GT(payload.size(), 600u * 1024) << "not the large request this test is about";
  const auto start = std::chrono::steady_clock::now();
  auto answered = client->Execute(payload);
  const double ms = MsSince(start);
  ASSERT_TRUE(answered.ok()) << answered.status().ToString() << "\n" << cluster.DescribeStatus();
  std::printf("a request of %zu transfers (%zu bytes) was answered in %.0f ms\n", kEvents,
              payload.size(), ms);
  auto result = ledger::DecodeResult(answered.value());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result.value().event_codes.size(), kEvents);
  for (size_t i = 0; i < kEvents; ++i) {
    ASSERT_EQ(result.value().event_codes[i], ledger::ResultCode::ok) << "event " << i;
  }

  // Every replica applied it: same applied slot and state hash, and the balances moved.
  ASSERT_TRUE(cluster.WaitForConvergence(20000)) << cluster.DescribeStatus();
  CliResult got = cluster.Cli({"account", "get", ledger::IdToString(b), "--json"});
  ASSERT_EQ(got.exit_code, kOk) << got.Describe();
  EXPECT_EQ(Str(got.First()["credits_posted"]), std::to_string(kEvents)) << got.Describe();
  CliResult check = cluster.Cli({"check", "--json"});
  EXPECT_EQ(check.exit_code, kOk) << check.Describe();
  EXPECT_EQ(check.First()["ok"], true) << check.Describe();

  // The same request again (a retry by id): every event answers `exists`, nothing moves twice.
  auto again = client->Execute(payload);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto again_result = ledger::DecodeResult(again.value());
  ASSERT_TRUE(again_result.ok());
  ASSERT_EQ(again_result.value().event_codes.size(), kEvents);
  EXPECT_EQ(again_result.value().event_codes.front(), ledger::ResultCode::exists);
  EXPECT_EQ(again_result.value().event_codes.back(), ledger::ResultCode::exists);
}

TEST(Batch, ClientRefusesACommandAboveThePayloadLimitBeforeSending) {
  TestCluster cluster;
  cluster.StartAll();
  ASSERT_NE(cluster.WaitForLeader(20000), 0u) << cluster.DescribeStatus();
  auto client = cluster.NewClient(/*timeout_ms=*/5000);
  auto before = cluster.Status(cluster.WaitForLeader(5000), 2000);
  ASSERT_TRUE(before.has_value());
  auto refused = client->Submit(std::string(limits::kPayloadBytesMax + 1, 'x'));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().ToString().find("exceeds the limit"), std::string::npos)
      << refused.status().ToString();
  EXPECT_EQ(client->in_flight(), 0u);
  auto after = cluster.Status(cluster.WaitForLeader(5000), 2000);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->decided_slot, before->decided_slot) << "something reached the log";
}

}  // namespace
}  // namespace synod::integration
