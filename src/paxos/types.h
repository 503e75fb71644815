// Value types shared by every role of the consensus core, by the simulator and by the
// drivers: ballots, slots, client commands, batches and the durable-write records that an
// acceptor hands to its driver.
//
// Plain values, no I/O. A Batch is immutable once built and shared by reference
// (BatchRef) so that a leader, its acceptor and the decided log hold one copy.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace synod {

using NodeId = uint32_t;
using Slot = uint64_t;  // Slots start at 1; 0 means "none".

// Ballot = (round, node id), totally ordered: round first, node id breaks ties.
// The zero ballot {0, 0} is below every ballot a leader can use.
struct Ballot {
  uint64_t round = 0;
  NodeId node = 0;

  bool IsZero() const { return round == 0 && node == 0; }
  friend bool operator==(const Ballot& a, const Ballot& b) {
    return a.round == b.round && a.node == b.node;
  }
  friend bool operator!=(const Ballot& a, const Ballot& b) { return !(a == b); }
  friend bool operator<(const Ballot& a, const Ballot& b) {
    return std::tie(a.round, a.node) < std::tie(b.round, b.node);
  }
  friend bool operator>(const Ballot& a, const Ballot& b) { return b < a; }
  friend bool operator<=(const Ballot& a, const Ballot& b) { return !(b < a); }
  friend bool operator>=(const Ballot& a, const Ballot& b) { return !(a < b); }
  std::string ToString() const { return std::to_string(round) + "." + std::to_string(node); }
};

// One client command. (client_id, request_id) identifies it for exactly-once execution:
// a client numbers its requests 1, 2, 3, ... and retries reuse the number.
// `payload` is opaque to consensus; the state machine decodes it.
struct Command {
  uint64_t client_id = 0;
  uint64_t request_id = 0;
  std::string payload;

  friend bool operator==(const Command& a, const Command& b) {
    return a.client_id == b.client_id && a.request_id == b.request_id && a.payload == b.payload;
  }
};

// What one slot decides: the commands in order, stamped with the leader's cluster time.
// An empty batch is a no-op (used to fill holes after a leader change).
struct Batch {
  uint64_t timestamp_ns = 0;  // Cluster time assigned by the leader; monotonic in slot order.
  std::vector<Command> commands;

  bool IsNoop() const { return commands.empty(); }
  // The commands' payload bytes (what limits::kBatchBytesMax and message pages count).
  size_t PayloadBytes() const {
    size_t n = 0;
    for (const Command& c : commands) n += c.payload.size();
    return n;
  }
  friend bool operator==(const Batch& a, const Batch& b) {
    return a.timestamp_ns == b.timestamp_ns && a.commands == b.commands;
  }
};
using BatchRef = std::shared_ptr<const Batch>;

inline bool SameBatch(const BatchRef& a, const BatchRef& b) {
  if (a == b) return true;
  if (!a || !b) return false;
  return *a == *b;
}

// A proposal value accepted by an acceptor at a ballot for a slot ("pvalue" in
// Paxos Made Moderately Complex).
struct PValue {
  Slot slot = 0;
  Ballot ballot;
  BatchRef batch;
};

// A decided slot.
struct Decision {
  Slot slot = 0;
  BatchRef batch;
};

// A snapshot of the state machine at `slot`: every decision <= slot is applied in it.
// `data` is opaque to consensus. Shared, immutable.
struct Snapshot {
  Slot slot = 0;
  std::shared_ptr<const std::string> data;
};

// One member of the configuration a cluster was formed with (the genesis set), and the
// incarnation of the data dir it asked to join from. A data dir gets a fresh random incarnation
// when it is created (0: unknown), so a wiped node comes back with another one.
struct GenesisMember {
  NodeId id = 0;
  uint64_t incarnation = 0;
  friend bool operator==(const GenesisMember& a, const GenesisMember& b) {
    return a.id == b.id && a.incarnation == b.incarnation;
  }
};

// How this node is a member (the kJoined record; see Core, "Rejoining" and "Membership").
struct Membership {
  bool rejoining = false;  // Joined a running cluster with a new data dir: must not vote yet.
  Slot vote_floor = 0;     // Recovered from a rejoin, or promoted from learner: its acceptor
                           // holds nothing below this.
  std::vector<GenesisMember> genesis;  // The set the cluster formed with (empty: unknown).
  bool learning = false;  // Joined as a learner: does not vote until promoted (Core). (v1)
};

// One member of a cluster configuration: a voter (counts in quorums) or a learner (receives
// decisions, never votes).
struct ConfigMember {
  NodeId id = 0;
  std::string address;  // HOST:PORT, as in the cluster spec.
  bool voter = true;
  friend bool operator==(const ConfigMember& a, const ConfigMember& b) {
    return a.id == b.id && a.address == b.address && a.voter == b.voter;
  }
};

// The configuration that governs every slot from `from` until the next configuration's
// `from` (Core, "Membership"). The genesis configuration has from == 1 and decided_at == 0;
// a change decided in slot c yields one with decided_at == c and from == c +
// limits::kConfigDelaySlots.
struct ClusterConfig {
  Slot from = 1;
  Slot decided_at = 0;
  std::vector<ConfigMember> members;  // Sorted by id, ids unique.

  const ConfigMember* Find(NodeId id) const {
    for (const ConfigMember& m : members) {
      if (m.id == id) return &m;
    }
    return nullptr;
  }
  bool Has(NodeId id) const { return Find(id) != nullptr; }
  bool IsVoter(NodeId id) const {
    const ConfigMember* m = Find(id);
    return m != nullptr && m->voter;
  }
  std::vector<NodeId> Voters() const {
    std::vector<NodeId> out;
    for (const ConfigMember& m : members) {
      if (m.voter) out.push_back(m.id);
    }
    return out;
  }
  std::vector<NodeId> Learners() const {
    std::vector<NodeId> out;
    for (const ConfigMember& m : members) {
      if (!m.voter) out.push_back(m.id);
    }
    return out;
  }
  friend bool operator==(const ClusterConfig& a, const ClusterConfig& b) {
    return a.from == b.from && a.decided_at == b.decided_at && a.members == b.members;
  }
};

// One record the driver must make durable, in order, in one synced write, BEFORE it sends any
// message of the same Ready (the durability contract in ARCHITECTURE.md).
struct DurableWrite {
  enum class Kind {
    kJoined,    // This node is a member of the cluster, as `membership` says (rewritten whole).
    kPromise,   // `ballot` is the acceptor's promised ballot (never lower than before).
    kAccept,    // Acceptor accepted (`ballot`, `batch`) for `slot`.
    kDecide,    // `batch` is decided for `slot` (the decided log).
    kSnapshot,  // `snapshot` is the node's latest snapshot; state below it may be dropped.
    kCompact,   // Accepted and decided records below `slot` may be deleted.
    kConfig,    // `configs` is the node's configuration history (rewritten whole).
  };
  Kind kind = Kind::kPromise;
  Slot slot = 0;
  Ballot ballot;
  BatchRef batch;
  Snapshot snapshot;
  Membership membership;               // kJoined only.
  std::vector<ClusterConfig> configs;  // kConfig only: ascending `from`, never empty.
};

}  // namespace synod
