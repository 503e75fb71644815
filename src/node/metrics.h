// NodeMetrics: the counters, gauges and histograms of one node, for `GET /metrics`.
//
// The node's loop thread is the only writer; the metrics server's thread reads (Render).
// Every value is a std::atomic updated with relaxed stores, so a scrape never takes a lock the
// loop could wait on and never blocks it; a scrape may see one pass's updates half done
// (counters are read one by one), which Prometheus tolerates. Gauges the loop only knows
// (slots, ballot) are copied in once per loop pass (UpdateFromLoop).
//
// Thread-safety: the Observe*/Update* methods are for the loop thread only (some keep
// loop-private state); Render may run on any thread at the same time.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "node/prometheus_text.h"
#include "paxos/message.h"
#include "schemas/ledger_generated.h"

namespace synod::node {

// A histogram of non-negative integer observations (nanoseconds, commands, bytes) with fixed
// upper bounds. Observe is wait-free; Read gives cumulative counts, bounds and sum divided by
// `per_unit` (1e9 reports nanoseconds as seconds; a division keeps 200000 / 1e9 == 0.0002).
class AtomicHistogram {
 public:
  AtomicHistogram(std::vector<uint64_t> bounds, double per_unit);
  void Observe(uint64_t value);
  HistogramValues Read() const;

 private:
  const std::vector<uint64_t> bounds_;  // Invariant: strictly ascending.
  const double per_unit_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1, not cumulative.
  std::atomic<uint64_t> sum_{0};
};

class NodeMetrics {
 public:
  // Request kinds: the ledger command's body type (fb::CommandBody; NONE = malformed).
  static constexpr size_t kKinds = static_cast<size_t>(ledger::fb::CommandBody::MAX) + 1;
  // Results: every ledger ResultCode, then "rejected" (not served here: not the leader,
  // queue full, or the node has not joined yet).
  static constexpr size_t kResults = static_cast<size_t>(ledger::fb::ResultCode::MAX) + 2;
  static constexpr size_t kRejected = kResults - 1;

  // `self` and the cluster's member ids (for per-peer lag); `data_dir` is measured for disk use
  // at scrape time (by the scraping thread: directory metadata only, not the database).
  NodeMetrics(NodeId self, std::vector<NodeId> members, std::string data_dir);

  // --- Loop thread ---
  // A client request (kind peeked from its payload) was answered: `reply` as sent.
  static size_t KindOf(std::string_view payload);
  void ObserveReply(size_t kind, const InvokedMsg& reply);
  // One decided slot applied: its batch and how long applying it took.
  void ObserveApplied(const Batch& batch, uint64_t apply_ns);
  void ObserveFsync(uint64_t ns) { fsync_ns_.Observe(ns); }
  // A peer's frame: what it tells about the peer's progress (Accepted, Active, Catchup).
  void ObservePeer(const Envelope& envelope);
  void ObserveSnapshot(uint64_t bytes, uint64_t ns);
  // Slots, ballot, leader, transport counters: once per loop pass.
  struct LoopView {
    Slot next_slot = 0, decided_slot = 0, applied_slot = 0, snapshot_slot = 0;
    Ballot ballot;
    NodeId leader = 0;
    bool leading = false;
    uint64_t frames_in = 0, frames_invalid = 0, sends_dropped = 0;
  };
  void UpdateFromLoop(const LoopView& view);
  // What RocksDB holds in memory (storage::Database::Memory), about once a second.
  // And the heap's (glibc mallinfo2): bytes in use and bytes free but kept by the allocator.
  void UpdateMemory(uint64_t memtables, uint64_t table_readers, uint64_t block_cache,
                    uint64_t heap_in_use, uint64_t heap_free);
  // The members changed (Core, "Membership"): per-peer series for exactly these ids (but self).
  void SetPeers(const std::vector<NodeId>& members);

  std::atomic<uint64_t> log_compactions{0};         // Snapshots in place (snapshot_files.h).
  std::atomic<uint64_t> welcomes_sent{0};           // Welcomes that announced a snapshot.
  std::atomic<uint64_t> snapshot_chunks_served{0};  // To peers (Welcome) and backup clients.
  std::atomic<uint64_t> snapshot_fetches_done{0};   // Welcome snapshots fetched in full here.
  std::atomic<uint64_t> snapshot_fetches_failed{0};
  std::atomic<uint64_t> snapshot_installs{0};
  std::atomic<uint64_t> backups_taken{0};
  std::atomic<uint64_t> rejected_not_member{0};  // Peer messages the screen dropped (net/screen.h).

  // --- Any thread ---
  std::string Render() const;

 private:
  struct Peer {
    NodeId id = 0;
    std::atomic<uint64_t> last_slot{0};  // Highest slot the peer was last heard to have.
    std::atomic<bool> heard{false};      // Sent us anything that tells its progress.
  };
  Peer* FindPeer(NodeId id);  // Loop thread: the peer stays valid until SetPeers.
  void RenderRequests(PrometheusText* t) const;
  void RenderPeers(PrometheusText* t) const;

  const NodeId self_;
  const std::string data_dir_;
  // Every member but self. The loop thread changes the list (SetPeers) and reads it; other
  // threads read it (Render); the mutex guards the list, the atomics each entry.
  mutable std::mutex peers_mutex_;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::array<std::array<std::atomic<uint64_t>, kResults>, kKinds> requests_{};
  std::atomic<uint64_t> decided_slots_{0}, commands_{0}, leader_changes_{0}, snapshots_{0};
  std::atomic<uint64_t> snapshot_last_bytes_{0};
  std::atomic<uint64_t> next_slot_{0}, decided_slot_{0}, applied_slot_{0}, snapshot_slot_{0};
  std::atomic<uint64_t> ballot_round_{0}, ballot_node_{0}, leader_{0}, leading_{0};
  std::atomic<uint64_t> frames_in_{0}, frames_invalid_{0}, sends_dropped_{0};
  std::atomic<uint64_t> memtable_bytes_{0}, table_reader_bytes_{0}, block_cache_bytes_{0};
  std::atomic<uint64_t> heap_in_use_bytes_{0}, heap_free_bytes_{0};
  AtomicHistogram batch_commands_, batch_bytes_, fsync_ns_, apply_ns_, snapshot_ns_;
  NodeId last_leader_ = 0;  // Loop thread only.
};

}  // namespace synod::node
