#include "node/metrics.h"

#include <algorithm>
#include <filesystem>

#include "paxos/check.h"
#include "storage/data_dir.h"
#include "storage/ledger/rocksdb_ledger_tables.h"

namespace synod::node {
namespace {

namespace fb = ledger::fb;
using Type = PrometheusText::Type;
constexpr auto kRelaxed = std::memory_order_relaxed;

// Powers of `factor` from `first` while <= `last`.
std::vector<uint64_t> Exponential(uint64_t first, uint64_t factor, uint64_t last) {
  std::vector<uint64_t> out;
  for (uint64_t b = first; b <= last; b *= factor) out.push_back(b);
  return out;
}

constexpr uint64_t kUs = 1000;
constexpr uint64_t kSec = 1000 * 1000 * 1000;

// Total size of the files under `dir` (RocksDB's SSTs, WAL, MANIFEST, the log). Files may
// vanish while we walk (compaction): those are skipped.
uint64_t DirBytes(const std::string& dir) {
  namespace fs = std::filesystem;
  uint64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      const uint64_t size = it->file_size(size_ec);
      if (!size_ec) total += size;
    }
  }
  return total;
}

double Load(const std::atomic<uint64_t>& v) { return static_cast<double>(v.load(kRelaxed)); }

}  // namespace

AtomicHistogram::AtomicHistogram(std::vector<uint64_t> bounds, double per_unit)
    : bounds_(std::move(bounds)),
      per_unit_(per_unit),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  for (size_t i = 1; i < bounds_.size(); ++i) SYNOD_CHECK(bounds_[i - 1] < bounds_[i]);
}

void AtomicHistogram::Observe(uint64_t value) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  counts_[i].fetch_add(1, kRelaxed);
  sum_.fetch_add(value, kRelaxed);
}

HistogramValues AtomicHistogram::Read() const {
  HistogramValues h;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    if (i < bounds_.size()) h.bounds.push_back(static_cast<double>(bounds_[i]) / per_unit_);
    running += counts_[i].load(kRelaxed);
    h.cumulative.push_back(running);
  }
  h.count = running;
  h.sum = static_cast<double>(sum_.load(kRelaxed)) / per_unit_;
  return h;
}

NodeMetrics::NodeMetrics(NodeId self, std::vector<NodeId> members, std::string data_dir)
    : self_(self),
      data_dir_(std::move(data_dir)),
      batch_commands_(Exponential(1, 2, 8192), 1),
      batch_bytes_(Exponential(256, 4, 16 << 20), 1),
      fsync_ns_(Exponential(50 * kUs, 2, 10 * kSec), 1e9),
      apply_ns_(Exponential(10 * kUs, 2, 10 * kSec), 1e9),
      snapshot_ns_(Exponential(kSec / 1000, 4, 300 * kSec), 1e9) {
  SetPeers(members);
}

void NodeMetrics::SetPeers(const std::vector<NodeId>& members) {
  std::lock_guard<std::mutex> lock(peers_mutex_);
  std::erase_if(peers_, [&](const std::unique_ptr<Peer>& p) {
    return std::find(members.begin(), members.end(), p->id) == members.end();
  });
  for (NodeId id : members) {
    if (id == self_) continue;
    if (std::any_of(peers_.begin(), peers_.end(), [id](const auto& p) { return p->id == id; })) {
      continue;
    }
    peers_.push_back(std::make_unique<Peer>());
    peers_.back()->id = id;
  }
}

size_t NodeMetrics::KindOf(std::string_view payload) {
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
  if (!verifier.VerifyBuffer<fb::LedgerCommand>(nullptr)) return 0;
  const size_t kind =
      static_cast<size_t>(flatbuffers::GetRoot<fb::LedgerCommand>(payload.data())->body_type());
  return kind < kKinds ? kind : 0;
}

void NodeMetrics::ObserveReply(size_t kind, const InvokedMsg& reply) {
  SYNOD_CHECK(kind < kKinds);
  size_t result = kRejected;
  if (reply.ok) {
    flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(reply.result.data()),
                                   reply.result.size());
    result = static_cast<size_t>(fb::ResultCode::malformed_command);
    if (verifier.VerifyBuffer<fb::CommandResult>(nullptr)) {
      result =
          static_cast<size_t>(flatbuffers::GetRoot<fb::CommandResult>(reply.result.data())->code());
    }
    if (result >= kRejected) result = static_cast<size_t>(fb::ResultCode::malformed_command);
  }
  requests_[kind][result].fetch_add(1, kRelaxed);
}

void NodeMetrics::ObserveApplied(const Batch& batch, uint64_t apply_ns) {
  uint64_t bytes = 0;
  for (const Command& c : batch.commands) bytes += c.payload.size();
  decided_slots_.fetch_add(1, kRelaxed);
  commands_.fetch_add(batch.commands.size(), kRelaxed);
  batch_commands_.Observe(batch.commands.size());
  batch_bytes_.Observe(bytes);
  apply_ns_.Observe(apply_ns);
}

NodeMetrics::Peer* NodeMetrics::FindPeer(NodeId id) {
  std::lock_guard<std::mutex> lock(peers_mutex_);
  for (auto& p : peers_) {
    if (p->id == id) return p.get();
  }
  return nullptr;
}

void NodeMetrics::ObservePeer(const Envelope& e) {
  Peer* peer = FindPeer(e.from);
  if (peer == nullptr) return;
  auto raise = [peer](Slot s) {
    peer->heard.store(true, kRelaxed);
    if (s > peer->last_slot.load(kRelaxed)) peer->last_slot.store(s, kRelaxed);
  };
  if (const auto* m = std::get_if<AcceptedMsg>(&e.body)) return raise(m->slot);
  if (const auto* m = std::get_if<ActiveMsg>(&e.body)) return raise(m->decided_slot);
  // A Catchup names the peer's first missing slot: that is where it is, also after a wipe.
  if (const auto* m = std::get_if<CatchupMsg>(&e.body)) {
    peer->heard.store(true, kRelaxed);
    peer->last_slot.store(m->slot_first > 0 ? m->slot_first - 1 : 0, kRelaxed);
  }
}

void NodeMetrics::ObserveSnapshot(uint64_t bytes, uint64_t ns) {
  snapshots_.fetch_add(1, kRelaxed);
  snapshot_last_bytes_.store(bytes, kRelaxed);
  snapshot_ns_.Observe(ns);
}

void NodeMetrics::UpdateFromLoop(const LoopView& v) {
  next_slot_.store(v.next_slot, kRelaxed);
  decided_slot_.store(v.decided_slot, kRelaxed);
  applied_slot_.store(v.applied_slot, kRelaxed);
  snapshot_slot_.store(v.snapshot_slot, kRelaxed);
  ballot_round_.store(v.ballot.round, kRelaxed);
  ballot_node_.store(v.ballot.node, kRelaxed);
  leader_.store(v.leader, kRelaxed);
  leading_.store(v.leading ? 1 : 0, kRelaxed);
  frames_in_.store(v.frames_in, kRelaxed);
  frames_invalid_.store(v.frames_invalid, kRelaxed);
  sends_dropped_.store(v.sends_dropped, kRelaxed);
  if (v.leader != 0 && v.leader != last_leader_) {
    // The first leader a node learns of after starting is a change too: a restarted node
    // counts from zero, and Prometheus' increase() handles the reset.
    leader_changes_.fetch_add(1, kRelaxed);
    last_leader_ = v.leader;
  }
}

void NodeMetrics::UpdateMemory(uint64_t memtables, uint64_t table_readers, uint64_t block_cache,
                               uint64_t heap_in_use, uint64_t heap_free) {
  heap_in_use_bytes_.store(heap_in_use, kRelaxed);
  heap_free_bytes_.store(heap_free, kRelaxed);
  memtable_bytes_.store(memtables, kRelaxed);
  table_reader_bytes_.store(table_readers, kRelaxed);
  block_cache_bytes_.store(block_cache, kRelaxed);
}

void NodeMetrics::RenderRequests(PrometheusText* t) const {
  t->Family("synod_requests_total", Type::kCounter,
            "Client requests answered by this node, by ledger command kind and result "
            "(result \"rejected\": not served here, the client retries elsewhere).");
  for (size_t k = 0; k < kKinds; ++k) {
    for (size_t r = 0; r < kResults; ++r) {
      const uint64_t n = requests_[k][r].load(kRelaxed);
      if (n == 0) continue;
      const std::string kind = k == 0 ? "malformed" : fb::EnumNamesCommandBody()[k];
      const std::string result =
          r == kRejected ? "rejected" : fb::EnumNameResultCode(static_cast<fb::ResultCode>(r));
      t->Sample("synod_requests_total", {{"kind", kind}, {"result", result}},
                static_cast<double>(n));
    }
  }
}

void NodeMetrics::RenderPeers(PrometheusText* t) const {
  std::lock_guard<std::mutex> lock(peers_mutex_);
  const uint64_t decided = decided_slot_.load(kRelaxed);
  // Only peers that told us their progress: followers hear from the leader, not each other.
  t->Family("synod_peer_slot", Type::kGauge,
            "Highest slot each peer was last heard to have accepted or decided (from its "
            "Accepted, Active and Catchup messages; the leader hears from every follower).");
  for (const auto& p : peers_) {
    if (!p->heard.load(kRelaxed)) continue;
    t->Sample("synod_peer_slot", {{"peer", std::to_string(p->id)}}, Load(p->last_slot));
  }
  t->Family("synod_peer_lag_slots", Type::kGauge,
            "Slots this node has decided beyond what each peer was last heard to have.");
  for (const auto& p : peers_) {
    if (!p->heard.load(kRelaxed)) continue;
    const uint64_t last = p->last_slot.load(kRelaxed);
    t->Sample("synod_peer_lag_slots", {{"peer", std::to_string(p->id)}},
              static_cast<double>(decided > last ? decided - last : 0));
  }
}

std::string NodeMetrics::Render() const {
  PrometheusText t;
  auto counter = [&t](const char* name, const char* help, const std::atomic<uint64_t>& v) {
    t.Family(name, Type::kCounter, help);
    t.Sample(name, {}, Load(v));
  };
  auto gauge = [&t](const char* name, const char* help, double v) {
    t.Family(name, Type::kGauge, help);
    t.Sample(name, {}, v);
  };
  auto histogram = [&t](const char* name, const char* help, const AtomicHistogram& h) {
    t.Family(name, Type::kHistogram, help);
    t.Histogram(name, {}, h.Read());
  };
  gauge("synod_node_id", "This node's id.", self_);
  RenderRequests(&t);
  counter("synod_decided_slots_total", "Decided slots applied by this node.", decided_slots_);
  counter("synod_commands_total", "Client commands in the slots applied by this node.", commands_);
  histogram("synod_batch_commands", "Commands per decided slot (batch size).", batch_commands_);
  histogram("synod_batch_bytes", "Payload bytes per decided slot.", batch_bytes_);
  histogram("synod_fsync_seconds", "Duration of each synced WriteBatch (group commit).", fsync_ns_);
  histogram("synod_apply_seconds", "Time to apply one decided slot to the ledger.", apply_ns_);
  t.Family("synod_slot", Type::kGauge, "This node's log positions.");
  t.Sample("synod_slot", {{"kind", "next"}}, Load(next_slot_));
  t.Sample("synod_slot", {{"kind", "decided"}}, Load(decided_slot_));
  t.Sample("synod_slot", {{"kind", "applied"}}, Load(applied_slot_));
  t.Sample("synod_slot", {{"kind", "snapshot"}}, Load(snapshot_slot_));
  counter("synod_leader_changes_total",
          "Times the leader this node follows (or is) changed to another node.", leader_changes_);
  gauge("synod_leader_id", "The leader this node knows of (0: none).", Load(leader_));
  gauge("synod_is_leader", "1 while this node leads.", Load(leading_));
  gauge("synod_ballot_round", "Round of the highest ballot this node has seen.",
        Load(ballot_round_));
  gauge("synod_ballot_node", "Node id of the highest ballot this node has seen.",
        Load(ballot_node_));
  RenderPeers(&t);
  counter("synod_snapshots_total", "Snapshot files of the ledger encoded for peers to fetch.",
          snapshots_);
  gauge("synod_snapshot_bytes", "Size of the last snapshot file encoded.",
        Load(snapshot_last_bytes_));
  histogram("synod_snapshot_duration_seconds", "Time to read and encode a snapshot file.",
            snapshot_ns_);
  counter("synod_log_compactions_total",
          "Snapshots taken in place (state durable in the ledger tables), each compacting the log.",
          log_compactions);
  counter("synod_welcome_snapshots_sent_total", "Welcomes sent that announced a snapshot.",
          welcomes_sent);
  counter("synod_snapshot_chunks_served_total",
          "Snapshot chunks served to peers and backup clients.", snapshot_chunks_served);
  counter("synod_snapshot_fetches_total", "Welcome snapshots fetched in full by this node.",
          snapshot_fetches_done);
  counter("synod_snapshot_fetches_failed_total", "Welcome snapshot fetches given up.",
          snapshot_fetches_failed);
  counter("synod_snapshot_installs_total", "Snapshots installed into the ledger.",
          snapshot_installs);
  counter("synod_backups_total", "Backup snapshots taken for `synod backup`.", backups_taken);
  counter("synod_frames_received_total", "Valid frames received.", frames_in_);
  counter("synod_frames_invalid_total",
          "Frames dropped: bad framing, failed verification, or a spoofed sender.",
          frames_invalid_);
  counter("synod_messages_rejected_total",
          "Peer messages dropped by the screen (sender not a member, bad ballot, slot, batch or "
          "chunk order; per reason in synod status).",
          rejected_not_member);
  counter("synod_sends_dropped_total", "Messages not sent: peer queue full or not connected.",
          sends_dropped_);
  gauge("synod_rocksdb_disk_bytes",
        "Bytes of the RocksDB database's files (SSTs, WAL, MANIFEST) in the data dir.",
        static_cast<double>(DirBytes(data_dir_ + "/" + storage::kDbDirName)));
  t.Family("synod_rocksdb_memory_bytes", Type::kGauge,
           "What RocksDB holds in memory, by part (memtables, table readers outside the block "
           "cache, block caches); updated about once a second.");
  t.Sample("synod_rocksdb_memory_bytes", {{"part", "memtables"}}, Load(memtable_bytes_));
  t.Sample("synod_rocksdb_memory_bytes", {{"part", "table_readers"}}, Load(table_reader_bytes_));
  t.Sample("synod_rocksdb_memory_bytes", {{"part", "block_cache"}}, Load(block_cache_bytes_));
  t.Family("synod_heap_bytes", Type::kGauge,
           "The allocator's heap (glibc mallinfo2, all arenas): bytes in use, and bytes free but "
           "kept for reuse; updated about once a second.");
  t.Sample("synod_heap_bytes", {{"state", "in_use"}}, Load(heap_in_use_bytes_));
  t.Sample("synod_heap_bytes", {{"state", "free"}}, Load(heap_free_bytes_));
  gauge("process_resident_memory_bytes", "Resident memory size of the node process in bytes.",
        static_cast<double>(ledger::ResidentBytes()));
  return t.text();
}

}  // namespace synod::node
