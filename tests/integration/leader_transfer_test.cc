// `synod leader transfer --to ID` on a real cluster: the target leads afterwards, and a client
// writing all along sees writes pause for less than half a leader timeout (the node's 200
// ticks of 5 ms): a planned hand-over does not wait for the old leader to time out.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "ledger/client.h"
#include "tests/integration/cluster.h"

namespace synod::integration {
namespace {

using Clock = std::chrono::steady_clock;

constexpr double kLeaderTimeoutMs = 200 * 5;  // The node's leader_timeout_ticks * --tick-ms.

// Writes one key after another until stopped, recording when each write was acknowledged.
class Writer {
 public:
  explicit Writer(std::unique_ptr<client::Client> client)
      : client_(std::move(client)), thread_([this] { Run(); }) {}
  ~Writer() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // The longest time between two acknowledgements at or after `since`.
  double LongestGapMs(Clock::time_point since) {
    std::lock_guard<std::mutex> lock(mu_);
    double gap = 0;
    for (size_t i = 1; i < acked_.size(); ++i) {
      if (acked_[i] < since) continue;
      gap = std::max(gap,
                     std::chrono::duration<double, std::milli>(acked_[i] - acked_[i - 1]).count());
    }
    return gap;
  }
  size_t failures() const { return failures_; }
  size_t acked() {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_.size();
  }

 private:
  void Run() {
    for (int i = 0; !stop_; ++i) {
      auto r = client_->Execute(ledger::EncodeKvPut("transfer/" + std::to_string(i), "v"));
      if (!r.ok()) {
        ++failures_;
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      acked_.push_back(Clock::now());
    }
  }

  std::unique_ptr<client::Client> client_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> failures_{0};
  std::mutex mu_;
  std::vector<Clock::time_point> acked_;
  std::thread thread_;
};

TEST(LeaderTransfer, TargetLeadsAndWritesPauseLessThanALeaderTimeout) {
  TestCluster cluster;
  cluster.StartAll();
  const NodeId leader = cluster.WaitForLeader(20000);
  ASSERT_NE(leader, 0u) << cluster.DescribeStatus();
  Writer writer(cluster.NewClient(10000, 50));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  for (NodeId to : {leader == 3 ? NodeId{2} : NodeId{3}, leader}) {
    const auto start = Clock::now();
    CliResult r = cluster.Cli({"leader", "transfer", "--to", std::to_string(to), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    json j = r.First();
    EXPECT_EQ(j["ok"], true) << r.Describe();
    EXPECT_EQ(j["to"], to);
    EXPECT_EQ(j["leader"], to);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // Writes under the new one.
    const double gap = writer.LongestGapMs(start);
    std::printf("transfer to node %u: cli %.0f ms (it says %.1f ms), longest write pause %.0f ms\n",
                to, r.seconds * 1000, j["ms"].get<double>(), gap);
    RecordProperty("pause_ms_to_" + std::to_string(to), static_cast<int>(gap));
    EXPECT_LT(gap, kLeaderTimeoutMs / 2) << "writes paused longer than half a leader timeout";
    auto s = cluster.Status(to);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->role, "leader");
  }
  writer.Stop();
  EXPECT_EQ(writer.failures(), 0u);
  EXPECT_GT(writer.acked(), 20u);
  ASSERT_TRUE(cluster.WaitForConvergence(20000)) << cluster.DescribeStatus();
  CliResult check = cluster.Cli({"check", "--json"});
  EXPECT_EQ(check.exit_code, 0) << check.Describe();
}

TEST(LeaderTransfer, BadTargetIsAUsageError) {
  TestCluster cluster;
  for (const char* to : {"9", "abc", "", "-1"}) {
    CliResult r = cluster.Cli({"leader", "transfer", "--to", to});
    EXPECT_EQ(r.exit_code, 2) << to << ": " << r.Describe();
    EXPECT_NE(r.err.find("--to"), std::string::npos) << r.Describe();
  }
}

}  // namespace
}  // namespace synod::integration
