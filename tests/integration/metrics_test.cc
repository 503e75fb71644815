// /metrics on real nodes: scraped with cpp-httplib's client under load, parsed by the strict
// reader of tests/unit/node, counters must move; a kill -9 of the leader must show up as a
// leader change on the survivors. And the flag's usage errors.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <thread>

#include "ledger/client.h"
#include "tests/integration/cluster.h"
#include "tests/unit/node/prometheus_parser.h"

namespace synod::integration {
namespace {

using testing_prom::PromText;

// GET /metrics from a node; fails the test unless it answers 200 with a valid text.
PromText Scrape(uint16_t port) {
  httplib::Client http("127.0.0.1", port);
  http.set_connection_timeout(2);
  http.set_read_timeout(5);
  auto res = http.Get("/metrics");
  PromText t;
  EXPECT_TRUE(res) << "no answer from 127.0.0.1:" << port;
  if (!res) return t;
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->get_header_value("Content-Type").find("text/plain"), std::string::npos);
  std::string error;
  EXPECT_TRUE(testing_prom::ParsePrometheus(res->body, &t, &error)) << error;
  return t;
}

// Puts keys through one pipelined session (16 in flight) until `stop`.
void PutLoad(client::Client* client, const std::atomic<bool>* stop, std::atomic<int>* acked) {
  int next = 0;
  while (!stop->load()) {
    while (client->in_flight() < 16) {
      if (!client->Submit(ledger::EncodeKvPut("m/" + std::to_string(next++), "v")).ok()) break;
    }
    std::vector<std::pair<uint64_t, std::string>> done;
    if (!client->Poll(50, &done).ok()) return;  // Timed out: the test's asserts tell.
    *acked += static_cast<int>(done.size());
  }
}

TEST(Metrics, CountersMoveUnderLoadAndSurvivorsCountTheLeaderChange) {
  ClusterOptions options;
  options.metrics = true;
  TestCluster cluster(options);
  cluster.StartAll();
  const NodeId leader = cluster.WaitForLeader(20000);
  ASSERT_NE(leader, 0u) << cluster.DescribeStatus();

  std::atomic<bool> stop{false};
  std::atomic<int> acked{0};
  auto client = cluster.NewClient(/*timeout_ms=*/15000, /*retry_ms=*/200);
  std::thread load(PutLoad, client.get(), &stop, &acked);
  struct Stop {
    std::atomic<bool>* stop;
    std::thread* load;
    ~Stop() {
      stop->store(true);
      if (load->joinable()) load->join();
    }
  } stopper{&stop, &load};

  // Three scrapes of every node, 1 s apart, under load: decided slots and synced writes grow.
  std::map<NodeId, std::vector<PromText>> scrapes;
  for (int round = 0; round < 3; ++round) {
    if (round > 0) std::this_thread::sleep_for(std::chrono::seconds(1));
    for (NodeId id : cluster.ids()) scrapes[id].push_back(Scrape(cluster.MetricsPort(id)));
  }
  for (NodeId id : cluster.ids()) {
    const auto& s = scrapes[id];
    for (int r = 1; r < 3; ++r) {
      EXPECT_GT(s[r].Value("synod_decided_slots_total"),
                s[r - 1].Value("synod_decided_slots_total"))
          << "node " << id << " round " << r;
      EXPECT_GT(s[r].Value("synod_fsync_seconds_count"),
                s[r - 1].Value("synod_fsync_seconds_count"))
          << "node " << id << " round " << r;
      EXPECT_GE(s[r].Value("synod_commands_total"), s[r - 1].Value("synod_commands_total"));
    }
    EXPECT_EQ(s[2].Value("synod_node_id"), id);
    EXPECT_EQ(s[2].Value("synod_leader_id"), leader);
    EXPECT_GT(s[2].Value("synod_batch_commands_count"), 0);
    EXPECT_GT(s[2].Value("synod_apply_seconds_count"), 0);
    EXPECT_GT(s[2].Value("synod_rocksdb_disk_bytes"), 0);
    // Memory: the memtables hold the puts not yet flushed; every part is reported.
    EXPECT_GT(s[2].Value("synod_rocksdb_memory_bytes", {{"part", "memtables"}}), 0);
    EXPECT_GE(s[2].Value("synod_rocksdb_memory_bytes", {{"part", "table_readers"}}), 0);
    EXPECT_GE(s[2].Value("synod_rocksdb_memory_bytes", {{"part", "block_cache"}}), 0);
    EXPECT_GT(s[2].Value("process_resident_memory_bytes"), 1 << 20);
  }
  const PromText& at_leader = scrapes[leader][2];
  EXPECT_GT(at_leader.Value("synod_requests_total", {{"kind", "KvPut"}, {"result", "ok"}}), 0);
  EXPECT_EQ(at_leader.Value("synod_is_leader"), 1);
  for (NodeId id : cluster.ids()) {  // The leader hears every follower's Accepted.
    if (id != leader) {
      EXPECT_FALSE(
          std::isnan(at_leader.Value("synod_peer_lag_slots", {{"peer", std::to_string(id)}})));
    }
  }
  std::printf("acked %d puts; leader %u decided %.0f slots\n", acked.load(), leader,
              at_leader.Value("synod_decided_slots_total"));

  // kill -9 the leader: every survivor counts one more leader change and names the new one.
  std::vector<NodeId> survivors;
  std::map<NodeId, double> changes_before;
  for (NodeId id : cluster.ids()) {
    if (id == leader) continue;
    survivors.push_back(id);
    changes_before[id] = scrapes[id][2].Value("synod_leader_changes_total");
  }
  cluster.Kill(leader, SIGKILL);
  const NodeId new_leader = cluster.WaitForLeader(10000, survivors);
  ASSERT_NE(new_leader, 0u) << cluster.DescribeStatus(survivors);
  const int acked_at_new_leader = acked.load();
  for (int i = 0; i < 100 && acked.load() < acked_at_new_leader + 50; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GE(acked.load(), acked_at_new_leader + 50) << "load did not resume";
  for (NodeId id : survivors) {
    PromText t = Scrape(cluster.MetricsPort(id));
    EXPECT_GT(t.Value("synod_leader_changes_total"), changes_before[id]) << "node " << id;
    EXPECT_EQ(t.Value("synod_leader_id"), new_leader) << "node " << id;
    EXPECT_GT(t.Value("synod_decided_slots_total"),
              scrapes[id][2].Value("synod_decided_slots_total"));
  }
  EXPECT_EQ(Scrape(cluster.MetricsPort(new_leader)).Value("synod_is_leader"), 1);

  // A port that is taken (a survivor's metrics port) is a clear operational error.
  PortLease other(1);
  const std::string spec = "1=127.0.0.1:" + std::to_string(other.port(0));
  const std::string taken = "127.0.0.1:" + std::to_string(cluster.MetricsPort(survivors[0]));
  CliResult r = RunSynod({"node", "--id", "1", "--cluster", spec, "--data",
                          cluster.dir() + "/taken", "--metrics-addr", taken, "--insecure"},
                         20000);
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_NE(r.err.find("cannot serve metrics on " + taken), std::string::npos) << r.Describe();
  EXPECT_NE(r.err.find("in use"), std::string::npos) << r.Describe();
}

TEST(Metrics, BadMetricsAddrIsUsageErrorNamingTheFlag) {
  PortLease ports(1);
  const std::string spec = "1=127.0.0.1:" + std::to_string(ports.port(0));
  for (const std::string bad : {"127.0.0.1:99999", "127.0.0.1", "127.0.0.1:0", ":9100", "a b:1"}) {
    const std::string dir = ::testing::TempDir() + "synod-metrics-bad";
    CliResult r = RunSynod({"node", "--id", "1", "--cluster", spec, "--data", dir, "--metrics-addr",
                            bad, "--insecure"},
                           20000);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.Describe();
    EXPECT_NE(r.err.find("--metrics-addr"), std::string::npos) << r.Describe();
    EXPECT_FALSE(std::filesystem::exists(dir)) << "nothing may be created for bad usage";
  }
}

}  // namespace
}  // namespace synod::integration
