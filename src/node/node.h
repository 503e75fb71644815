// Node: one persistent Synod node, the runtime around the pure consensus core.
//
// One thread runs the loop: receive (Transport::Poll, at most one tick long) -> Core::Step for
// every frame and Core::Tick for every tick that passed -> persist Ready::to_persist in ONE
// synced WriteBatch (RocksLogStore) -> send Ready::messages -> install a received snapshot ->
// hand Ready::decisions to the Applier (node/applier.h: large slots are applied on a thread of
// its own, small ones at once when it is idle) -> answer the clients whose requests were
// applied here -> every `snapshot_every_slots` applied slots (and at least a snapshot's size of
// applied commands), snapshot the ledger and let the core compact. Real time becomes ticks here
// (tick_ms); cluster time for batches is the wall clock.
//
// A failed write latches the store: Run() returns the error and the node stops, so it never
// acknowledges what it did not persist (ARCHITECTURE.md, durability contract).
//
// Sends: messages that report nothing the node persists (Accept, Decision, Propose,
// Decisions, Confirm, Confirmed) leave before the pass's fsync (SafeBeforePersist says why that is
// safe), so a leader and its followers write their copies of a batch at the same time.
//
// Reads: a read-only command (get, scan, lookups) that reaches the active leader does not go
// through the log. The node notes the leader's ballot b, next slot n and read round r when it
// arrives; at the end of the receive pass the core sends round r (Core::ConfirmLeadership: a
// Confirm to a quorum of voters, which answer with their promised ballot and write nothing), and
// the node answers from its own state once Leader::ReadConfirmation(r, n) says confirmed (a
// majority answered round r or a later one with b, or a slot >= n was chosen at b) and every
// slot below n is applied. That is linearizable (Leader, "Reads", has the argument). A read
// whose leader stepped down or changed ballot before it was answered goes through the log like
// any command, and so does one the confirmation cannot cover (another configuration). A read
// reaching a follower goes through the log too. One round serves every read of a loop pass.
//
// Not thread-safe; Run() owns the thread. `stop` may be set from a signal handler.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "net/cluster_spec.h"
#include "net/security.h"
#include "net/transport.h"
#include "node/applier.h"
#include "node/backup_source.h"
#include "node/ledger_app.h"
#include "node/metrics.h"
#include "node/snapshot_files.h"
#include "paxos/core.h"
#include "storage/rocks_log_store.h"

namespace synod::node {

struct NodeOptions {
  NodeId id = 0;
  net::ClusterSpec cluster;
  std::string data_dir;
  // The cluster id the data dir is bound to. 0: derived from the cluster spec (ClusterIdOf)
  // when the data dir is created; an existing data dir keeps the id it was created with once
  // it joined a cluster (the configuration on disk decides from then on; --cluster may list
  // members added since). Non-zero: checked against the data dir's, always.
  uint64_t cluster_id = 0;
  uint32_t tick_ms = 5;
  uint64_t snapshot_every_slots = 2000;
  uint32_t window = CoreConfig{}.window;  // Slots the leader keeps in flight (1..kWindowMax).
  uint64_t seed = 0;                      // Backoff randomness; 0: drawn at start.
  // Where the loop counts what it does (read by a MetricsServer); null: the node makes its own.
  std::shared_ptr<NodeMetrics> metrics;
  // TEST ONLY, a planted bug (env SYNOD_TEST_PLANT=early-ack, see tools/node_cmd.cc): answer a
  // client's write with "ok" as soon as it arrives, before it is decided or persisted. Exists
  // to show that the fault suite (tests/integration/faults) catches such a node.
  bool testing_early_ack = false;
  // TEST ONLY, a planted bug (env SYNOD_TEST_PLANT=unconfirmed-read): a node that believes it
  // leads answers reads from its applied state at once, without Leader::ConfirmLeadership, so a
  // deposed leader that has not heard of its successor answers stale reads. Exists to show that
  // Partitions.PlantedUnconfirmedReadIsCaught (tests/integration/faults) catches such a node.
  bool testing_unconfirmed_read = false;
  // TEST ONLY, a planted bug of the core (env SYNOD_TEST_PLANT=read-confirms-alone:
  // PlantedBug::kReadConfirmsAlone, a leader confirms its read rounds with its own answer).
  // Exists to show that Partitions.PlantedReadConfirmedAloneIsCaught catches it.
  PlantedBug testing_core_bug = PlantedBug::kNone;
  net::Security security;  // CURVE keys, or plaintext (curve == false).
  // TEST ONLY (env SYNOD_TEST_APPLY_INLINE_BYTES): the largest slot applied on the loop
  // (node/applier.h); 0 sends every slot to the apply thread, so that the fault suite's small
  // requests exercise it under kill -9.
  size_t apply_inline_bytes = Applier::kInlineBytes;
};

// The cluster id a data dir is bound to when none is given: a hash of the canonical spec.
uint64_t ClusterIdOf(const net::ClusterSpec& spec);

class Node {
 public:
  static Result<std::unique_ptr<Node>> Open(NodeOptions options);
  Status Run(const std::atomic<bool>& stop);

 private:
  explicit Node(NodeOptions options) : options_(std::move(options)), metrics_(options_.metrics) {}
  Status Recover();
  Status CheckClusterId(uint64_t expected, bool joined) const;
  Status Flush(Ready& ready);
  void Answer(const Applier::Applied& applied);
  Status MaybeSnapshot();
  Status InstallSnapshot(const Snapshot& snapshot);
  void StartServedFile();
  Status PollServedFile();
  bool ServedFilePinned() const;
  void DropReceivedFiles(const std::string& keep);
  void ReportSlowPass(std::chrono::steady_clock::time_point started);
  void Route(Envelope& envelope);
  static bool SafeBeforePersist(const Envelope& envelope);
  void SendBeforePersist(std::vector<Envelope>* messages);
  void Remember(const Command& command, const std::string& routing_id);
  bool TakeRead(InvokeMsg& invoke, std::string& routing_id);
  Status ServeReads();
  void PlantedEarlyAck(const Command& command, const std::string& routing_id);
  StatusReportMsg Report(bool check);
  void LogRoleChange();
  void LogMembership();
  // After every Flush: follows the configuration history (Core, "Membership") with the peer
  // sockets, the screen's member list, the per-peer metrics and one log line per change.
  void FollowConfigs();
  std::vector<NodeId> KnownMembers() const;
  Result<net::NodeAddress> AddressOf(NodeId id) const;
  void CheckClusterFlag();
  void AnswerMembership(const Ready& ready);
  void ReportInvalidFrames();
  void PublishMetrics();
  // Snapshot transfer (see node.cc): Welcomes travel without their snapshot, which the
  // receiver then fetches in chunks of limits::kSnapshotChunkBytes.
  bool Intercept(const net::Transport::Inbound& in, Ready* ready);
  void StartFetch(NodeId from, WelcomeMsg welcome, Ready* ready);
  void OnChunk(NodeId from, const SnapshotChunkMsg& chunk, Ready* ready);
  void ServeChunk(NodeId to, const SnapshotFetchMsg& fetch);
  void RequestChunk();
  void RetryFetch();

  NodeOptions options_;
  std::shared_ptr<NodeMetrics> metrics_;
  std::unique_ptr<storage::RocksLogStore> store_;
  std::unique_ptr<LedgerApp> app_;
  std::unique_ptr<Applier> applier_;      // After app_: its thread stops before app_ goes.
  std::unique_ptr<BackupSource> backup_;  // Serves `synod backup` (backup_source.h).
  std::unique_ptr<Core> core_;
  std::unique_ptr<net::Transport> transport_;
  // Clients waiting for an answer from this node, by (client_id, request_id).
  struct Waiter {
    std::string routing_id;
    size_t kind = 0;  // NodeMetrics::KindOf the request.
  };
  std::map<std::pair<uint64_t, uint64_t>, Waiter> waiting_;
  std::deque<std::pair<uint64_t, uint64_t>> waiting_order_;  // Oldest first, for the bound.
  // Reads held for the read path (see "Reads"), in arrival order: `after` never decreases.
  struct PendingRead {
    std::string routing_id;
    Command command;
    size_t kind = 0;     // NodeMetrics::KindOf the request.
    Ballot ballot;       // The leader's ballot when the read arrived.
    Slot after = 0;      // The leader's next_slot() then.
    uint64_t round = 0;  // And its read_round(): the round sent at the end of that pass.
  };
  std::deque<PendingRead> reads_;  // At most limits::kPendingRequestsMax.
  struct Fetch {
    NodeId from = 0;
    WelcomeMsg welcome;  // Header and decisions; the data goes to `file` as it arrives.
    std::unique_ptr<SnapshotFileWriter> file;
    std::string file_name;
    int64_t requested_ms = 0;
    int retries = 0;
  };
  std::optional<Fetch> fetch_;
  // A snapshot file being encoded for peers (see "Snapshots" in node.cc).
  struct Encoding {
    Slot slot = 0;
    std::future<Result<uint64_t>> bytes;
    std::chrono::steady_clock::time_point started;
  };
  std::optional<Encoding> encoding_;
  uint64_t applied_bytes_since_snapshot_ = 0;  // Command bytes applied since the last one.
  uint64_t invalid_reported_ = 0;              // Invalid frames already logged.
  int64_t invalid_report_ms_ = 0;
  int64_t memory_report_ms_ = 0;  // RocksDB's memory figures last given to metrics_.
  // Where the current loop pass spent its time (ReportSlowPass).
  struct PassTimes {
    uint64_t persist_ns = 0, apply_ns = 0, snapshot_ns = 0;
  };
  PassTimes pass_;
  uint64_t slow_passes_ = 0;  // Passes over kSlowPass since the last report.
  int64_t slow_pass_report_ms_ = 0;
  // Snapshot files for peers, by slot: the newest kServedSnapshotsMax stay open for fetches
  // under way (only the newest keeps its name on disk). The log above the newest is kept
  // while it is encoded or fetched from (served_pinned_until_ms_).
  std::map<Slot, std::shared_ptr<SnapshotFile>> served_;
  int64_t served_pinned_until_ms_ = 0;
  // A received snapshot file (fetched in full, or cut short by a failed fetch) may be in the
  // snapshots dir: the next snapshot in place removes it instead of scanning the dir each time.
  bool received_files_ = true;
  // Every node a configuration names, plus the --cluster ids until joined: the peers we keep
  // sockets to and accept messages from (net/screen.h). Ascending, includes self.
  std::vector<NodeId> members_ = options_.cluster.Ids();
  std::vector<ClusterConfig> configs_seen_;  // The history members_ was computed from.
  bool joined_seen_ = false;
  Slot current_from_seen_ = 0;  // `from` of the configuration last checked against --cluster.
  bool cluster_flag_mismatch_ = false;
  bool mismatch_logged_ = false;
  bool removed_logged_ = false;
  net::NoteOnce noted_screen_;  // Screen reasons already logged.
  Core::Role role_ = Core::Role::kLearner;
  NodeId leader_ = 0;
  bool rejoining_logged_ = false;  // As last logged (see LogMembership).
  int64_t waiting_since_ms_ = 0;   // Not a voting member since then (0: voting).
  int64_t waiting_report_ms_ = 0;
};

}  // namespace synod::node
