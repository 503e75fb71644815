// Coalescing end to end (wire.fbs Envelope.more): a client that submits many requests at once
// sends them to a node in one frame, the node answers those it answered in one loop pass in one
// frame, and still every request gets its own reply with its own result. Writes and
// linearizable reads (the leader's read path) both.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "client/client.h"
#include "ledger/client.h"
#include "tests/integration/cluster.h"

namespace synod::integration {
namespace {

constexpr size_t kRequests = 600;

// Submits every payload before the first Poll (so they share frames) and collects the results
// by request id.
std::map<uint64_t, std::string> RunTogether(client::Client& c,
                                            const std::vector<std::string>& payloads,
                                            std::vector<uint64_t>* ids) {
  ids->clear();
  for (const std::string& p : payloads) {
    auto id = c.Submit(p);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    if (id.ok()) ids->push_back(id.value());
  }
  std::map<uint64_t, std::string> results;
  std::vector<std::pair<uint64_t, std::string>> done;
  const auto start = std::chrono::steady_clock::now();
  while (c.in_flight() > 0 && MsSince(start) < 60000) {
    done.clear();
    Status s = c.Poll(100, &done);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok()) break;
    for (auto& [id, bytes] : done) {
      EXPECT_TRUE(results.emplace(id, std::move(bytes)).second) << "request " << id << " twice";
    }
  }
  return results;
}

TEST(Coalesce, ManyRequestsSentTogetherEachGetTheirOwnReply) {
  TestCluster cluster;
  cluster.StartAll();
  ASSERT_NE(cluster.WaitForLeader(20000), 0u) << cluster.DescribeStatus();
  auto client = cluster.NewClient(/*timeout_ms=*/60000, /*retry_ms=*/10000);

  std::vector<std::string> puts, gets;
  for (size_t i = 0; i < kRequests; ++i) {
    const std::string key = "co-" + std::to_string(i);
    puts.push_back(ledger::EncodeKvPut(key, "value-" + std::to_string(i)));
    gets.push_back(ledger::EncodeKvGet(key));
  }
  std::vector<uint64_t> ids;
  auto put_results = RunTogether(*client, puts, &ids);
  ASSERT_EQ(put_results.size(), kRequests) << cluster.DescribeStatus();
  std::set<uint64_t> versions;
  for (uint64_t id : ids) {
    auto r = ledger::DecodeResult(put_results.at(id));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r.value().code, ledger::ResultCode::ok);
    EXPECT_TRUE(versions.insert(r.value().version).second) << "two puts share a version";
  }

  // Reads reach the leader's read path (the client follows the leader hint of the puts).
  auto get_results = RunTogether(*client, gets, &ids);
  ASSERT_EQ(get_results.size(), kRequests) << cluster.DescribeStatus();
  for (size_t i = 0; i < kRequests; ++i) {
    auto r = ledger::DecodeResult(get_results.at(ids[i]));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r.value().items.size(), 1u) << "get " << i;
    EXPECT_EQ(r.value().items[0].key, "co-" + std::to_string(i));
    EXPECT_EQ(r.value().items[0].value, "value-" + std::to_string(i)) << "get " << i;
  }
  ASSERT_TRUE(cluster.WaitForConvergence(20000)) << cluster.DescribeStatus();
}

}  // namespace
}  // namespace synod::integration
