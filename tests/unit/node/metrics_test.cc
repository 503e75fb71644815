// The Prometheus text writer and NodeMetrics, read back by a strict parser
// (prometheus_parser.h), which is itself shown rejecting broken texts.
#include "node/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ledger/client.h"
#include "node/prometheus_text.h"
#include "tests/unit/node/prometheus_parser.h"

namespace synod::node {
namespace {

using testing_prom::ParsePrometheus;
using testing_prom::PromText;
using Type = PrometheusText::Type;

PromText MustParse(const std::string& text) {
  PromText t;
  std::string error;
  EXPECT_TRUE(ParsePrometheus(text, &t, &error)) << error << "\n" << text;
  return t;
}

TEST(PrometheusText, LabelValuesRoundTripThroughEscaping) {
  PrometheusText t;
  t.Family("synod_x_total", Type::kCounter, "Help with a \\ backslash\nand a newline.");
  const std::string nasty = "a \"quoted\" \\ back\nslash";
  t.Sample("synod_x_total", {{"kind", nasty}, {"result", "ok"}}, 7);
  t.Sample("synod_x_total", {{"kind", "plain"}, {"result", "ok"}}, 1e20);
  PromText p = MustParse(t.text());
  ASSERT_EQ(p.samples.size(), 2u);
  EXPECT_EQ(p.samples[0].labels.at("kind"), nasty);
  EXPECT_EQ(p.samples[0].value, 7);
  EXPECT_EQ(p.samples[1].value, 1e20);
  EXPECT_EQ(p.types.at("synod_x_total"), "counter");
  EXPECT_EQ(t.text().find("\n\n"), std::string::npos);
}

TEST(PrometheusText, NumbersAreSpelledAsTheFormatWants) {
  EXPECT_EQ(PrometheusNumber(0), "0");
  EXPECT_EQ(PrometheusNumber(42), "42");
  EXPECT_EQ(PrometheusNumber(0.25), "0.25");
  EXPECT_EQ(PrometheusNumber(INFINITY), "+Inf");
  EXPECT_EQ(PrometheusNumber(-INFINITY), "-Inf");
  EXPECT_EQ(PrometheusNumber(NAN), "NaN");
  EXPECT_EQ(std::stod(PrometheusNumber(5e-05)), 5e-05);
}

TEST(PrometheusText, HistogramHasCumulativeBucketsSumAndCount) {
  AtomicHistogram h({1, 10, 100}, 2);
  for (uint64_t v : {0, 1, 2, 10, 11, 100, 1000}) h.Observe(v);
  PrometheusText t;
  t.Family("synod_h", Type::kHistogram, "A histogram.");
  t.Histogram("synod_h", {{"peer", "2"}}, h.Read());
  PromText p = MustParse(t.text());
  // Bounds are inclusive (le): 0 and 1 <= 1; 2 and 10 <= 10; 11 and 100 <= 100; 1000 above.
  EXPECT_EQ(p.Value("synod_h_bucket", {{"le", "0.5"}}), 2);
  EXPECT_EQ(p.Value("synod_h_bucket", {{"le", "5"}}), 4);
  EXPECT_EQ(p.Value("synod_h_bucket", {{"le", "50"}}), 6);
  EXPECT_EQ(p.Value("synod_h_bucket", {{"le", "+Inf"}}), 7);
  EXPECT_EQ(p.Value("synod_h_count", {{"peer", "2"}}), 7);
  EXPECT_DOUBLE_EQ(p.Value("synod_h_sum"), (0 + 1 + 2 + 10 + 11 + 100 + 1000) * 0.5);
}

// The parser is only trusted if it rejects what a scraper would choke on.
TEST(PrometheusParser, RejectsPlantedMistakes) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"sample before its TYPE", "synod_a 1\n# TYPE synod_a counter\n"},
      {"negative counter", "# TYPE synod_a counter\nsynod_a -1\n"},
      {"bad escape", "# TYPE synod_a gauge\nsynod_a{k=\"\\x\"} 1\n"},
      {"unterminated label", "# TYPE synod_a gauge\nsynod_a{k=\"v} 1\n"},
      {"no value", "# TYPE synod_a gauge\nsynod_a\n"},
      {"bad value", "# TYPE synod_a gauge\nsynod_a 1.2.3\n"},
      {"not cumulative",
       "# TYPE synod_h histogram\nsynod_h_bucket{le=\"1\"} 5\nsynod_h_bucket{le=\"+Inf\"} 3\n"
       "synod_h_sum 1\nsynod_h_count 3\n"},
      {"no +Inf", "# TYPE synod_h histogram\nsynod_h_bucket{le=\"1\"} 3\nsynod_h_count 3\n"},
      {"count differs",
       "# TYPE synod_h histogram\nsynod_h_bucket{le=\"+Inf\"} 3\nsynod_h_count 4\n"},
      {"second TYPE", "# TYPE synod_a gauge\n# TYPE synod_a gauge\n"},
  };
  for (const auto& [why, text] : bad) {
    PromText t;
    std::string error;
    EXPECT_FALSE(ParsePrometheus(text, &t, &error)) << why;
  }
}

Batch BatchOf(std::vector<std::string> payloads) {
  Batch b;
  uint64_t id = 1;
  for (std::string& p : payloads) b.commands.push_back(Command{7, id++, std::move(p)});
  return b;
}

TEST(NodeMetrics, RenderIsValidAndCountersMove) {
  NodeMetrics m(1, {1, 2, 3}, "/nonexistent-dir");
  PromText before = MustParse(m.Render());
  EXPECT_EQ(before.Value("synod_decided_slots_total"), 0);
  EXPECT_EQ(before.Value("synod_fsync_seconds_count"), 0);
  EXPECT_EQ(before.Value("synod_rocksdb_disk_bytes"), 0);

  m.ObserveFsync(200'000);
  m.ObserveFsync(3'000'000);
  m.ObserveApplied(BatchOf({"abc", "de"}), 40'000);
  const std::string put = ledger::EncodeKvPut("k", "v");
  InvokedMsg ok{7, 1, true, "", 0};
  InvokedMsg busy{7, 2, false, "", 2};
  m.ObserveReply(NodeMetrics::KindOf(put), busy);
  m.ObserveReply(NodeMetrics::KindOf("not a flatbuffer"), busy);
  NodeMetrics::LoopView v;
  v.decided_slot = 50;
  v.applied_slot = 49;
  v.ballot = Ballot{3, 2};
  v.leader = 2;
  m.UpdateFromLoop(v);
  v.leader = 3;
  m.UpdateFromLoop(v);
  m.UpdateFromLoop(v);  // The same leader again: no change.
  m.ObservePeer({2, 1, AcceptedMsg{Ballot{3, 2}, 44}});
  m.ObservePeer({2, 1, AcceptedMsg{Ballot{3, 2}, 40}});  // Out of order: stays at 44.
  m.ObservePeer({3, 1, CatchupMsg{11}});
  m.ObserveSnapshot(1234, 5'000'000);

  PromText p = MustParse(m.Render());
  EXPECT_EQ(p.Value("synod_fsync_seconds_count"), 2);
  EXPECT_NEAR(p.Value("synod_fsync_seconds_sum"), 0.0032, 1e-12);
  EXPECT_EQ(p.Value("synod_fsync_seconds_bucket", {{"le", "0.0002"}}), 1);
  EXPECT_EQ(p.Value("synod_decided_slots_total"), 1);
  EXPECT_EQ(p.Value("synod_commands_total"), 2);
  EXPECT_EQ(p.Value("synod_batch_commands_bucket", {{"le", "2"}}), 1);
  EXPECT_EQ(p.Value("synod_batch_bytes_sum"), 5);
  EXPECT_EQ(p.Value("synod_apply_seconds_count"), 1);
  EXPECT_EQ(p.Value("synod_requests_total", {{"kind", "KvPut"}, {"result", "rejected"}}), 1);
  EXPECT_EQ(p.Value("synod_requests_total", {{"kind", "malformed"}, {"result", "rejected"}}), 1);
  EXPECT_EQ(p.Value("synod_leader_changes_total"), 2);
  EXPECT_EQ(p.Value("synod_leader_id"), 3);
  EXPECT_EQ(p.Value("synod_ballot_round"), 3);
  EXPECT_EQ(p.Value("synod_slot", {{"kind", "decided"}}), 50);
  EXPECT_EQ(p.Value("synod_peer_slot", {{"peer", "2"}}), 44);
  EXPECT_EQ(p.Value("synod_peer_lag_slots", {{"peer", "2"}}), 6);
  EXPECT_EQ(p.Value("synod_peer_lag_slots", {{"peer", "3"}}), 40);
  EXPECT_TRUE(std::isnan(p.Value("synod_peer_lag_slots", {{"peer", "1"}})));  // Not self.
  EXPECT_EQ(p.Value("synod_snapshots_total"), 1);
  EXPECT_EQ(p.Value("synod_snapshot_bytes"), 1234);
  EXPECT_EQ(p.Value("synod_snapshot_duration_seconds_count"), 1);
  for (const auto& [name, type] : p.types) {
    if (type == "counter") {
      EXPECT_TRUE(name.size() > 6 && name.substr(name.size() - 6) == "_total") << name;
    }
  }
}

// Members come and go (Core, "Membership"): a new member gets its series once heard from, a
// removed one loses them, the others keep what they had.
TEST(NodeMetrics, PerPeerSeriesFollowTheMembers) {
  NodeMetrics m(1, {1, 2, 3}, "/nonexistent-dir");
  NodeMetrics::LoopView v;
  v.decided_slot = 100;
  m.UpdateFromLoop(v);
  m.ObservePeer({2, 1, AcceptedMsg{Ballot{1, 1}, 90}});
  m.ObservePeer({4, 1, AcceptedMsg{Ballot{1, 1}, 80}});  // Not a member yet: not counted.
  EXPECT_TRUE(std::isnan(MustParse(m.Render()).Value("synod_peer_slot", {{"peer", "4"}})));
  m.SetPeers({1, 2, 4});
  m.ObservePeer({4, 1, AcceptedMsg{Ballot{1, 1}, 95}});
  m.ObservePeer({3, 1, AcceptedMsg{Ballot{1, 1}, 99}});  // Removed: ignored.
  PromText p = MustParse(m.Render());
  EXPECT_EQ(p.Value("synod_peer_slot", {{"peer", "2"}}), 90);
  EXPECT_EQ(p.Value("synod_peer_lag_slots", {{"peer", "4"}}), 5);
  EXPECT_TRUE(std::isnan(p.Value("synod_peer_slot", {{"peer", "3"}})));
  EXPECT_TRUE(std::isnan(p.Value("synod_peer_slot", {{"peer", "1"}})));  // Never self.
}

TEST(NodeMetrics, RepliesCountTheResultCodeTheyCarry) {
  NodeMetrics m(1, {1}, "/nonexistent-dir");
  // A real ok result and a real not_found result, as the state machine encodes them.
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(ledger::fb::CreateCommandResult(fbb, ledger::fb::ResultCode::not_found));
  InvokedMsg reply{
      7, 1, true, std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()),
      1};
  const size_t get = NodeMetrics::KindOf(ledger::EncodeKvGet("k"));
  m.ObserveReply(get, reply);
  m.ObserveReply(get, reply);
  PromText p = MustParse(m.Render());
  EXPECT_EQ(p.Value("synod_requests_total", {{"kind", "KvGet"}, {"result", "not_found"}}), 2);
}

}  // namespace
}  // namespace synod::node
