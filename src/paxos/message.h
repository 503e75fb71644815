// Messages of the protocol as plain values, the Envelope that addresses them, and the Ready
// that every Step/Tick of the core fills in.
//
// These mirror schemas/wire.fbs one to one; src/net/codec translates between the two. The core
// works on these values so that the simulator can run millions of steps without encoding.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "paxos/types.h"

namespace synod {

struct JoinMsg {
  uint64_t incarnation = 0;  // Of the joiner's data dir (CoreConfig::incarnation).
};
struct WelcomeMsg {
  Snapshot snapshot;                // slot 0: the empty initial state.
  std::vector<Decision> decisions;  // Slots after snapshot.slot, ascending.
  // Set by a node's driver on the wire only: the snapshot's data was left out and is this
  // big; the receiving driver fetches it in chunks before the core sees the Welcome.
  uint64_t snapshot_bytes = 0;
  // The members the cluster was formed with and their data dirs' incarnations. A joiner listed
  // with its own incarnation never voted (it asks to join from the data dir it formed with), so
  // it may vote at once; any other joiner rejoins (Core, "Rejoining").
  std::vector<GenesisMember> genesis;
  // The sender's configuration history (Core, "Membership"); a joiner starts from it. (v1)
  std::vector<ClusterConfig> configs;
};
struct InvokeMsg {
  Command command;
};
struct InvokedMsg {
  uint64_t client_id = 0;
  uint64_t request_id = 0;
  bool ok = false;  // False: not executed; retry (at leader_hint if non-zero).
  std::string result;
  NodeId leader_hint = 0;
};
struct ProposeMsg {
  std::vector<Command> commands;
};
struct DecisionMsg {
  Slot slot = 0;
  Ballot ballot;
  BatchRef batch;  // Null when the receiver's acceptor accepted it at `ballot` (saves a copy).
};
struct PrepareMsg {
  Ballot ballot;
  Slot slot_first = 0;
};
struct PromiseMsg {
  Ballot ballot;                 // The acceptor's promised ballot.
  Slot compacted_below = 0;      // The acceptor no longer holds pvalues below this slot.
  std::vector<PValue> accepted;  // Every pvalue at slots >= the Prepare's slot_first.
  bool fresh = false;            // This Prepare raised the promise (it was below `ballot`).
  // Paging (Scout): the pvalues are those at slots >= page_from (the Prepare's slot_first) and
  // below more_from; more_from == 0: none is left. A scout asks for the next page with another
  // Prepare of the same ballot from more_from. page_from 0 means the scout's own slot_first.
  Slot page_from = 0;
  Slot more_from = 0;
};
struct AcceptMsg {
  Ballot ballot;
  Slot slot = 0;
  BatchRef batch;
};
struct AcceptedMsg {
  Ballot ballot;  // The acceptor's promised ballot: == Accept's when accepted, > when preempted.
  Slot slot = 0;
};
struct ActiveMsg {
  Ballot ballot;
  Slot decided_slot = 0;  // Leader's highest contiguous decided slot.
};
struct CatchupMsg {
  Slot slot_first = 0;
};
struct DecisionsMsg {
  std::vector<Decision> decisions;
};

// Status of one node, asked by `synod status`; the node's driver answers, not the core.
struct StatusQueryMsg {
  bool check = false;  // Also run the state machine's invariant check.
};
struct StatusReportMsg {
  NodeId id = 0;
  std::string role;
  NodeId leader = 0;
  Ballot ballot;
  Slot next_slot = 0;
  Slot decided_slot = 0;
  Slot applied_slot = 0;
  Slot snapshot_slot = 0;
  std::string state_hash;
  std::vector<NodeId> members;
  bool checked = false;
  bool invariants_ok = false;
  std::string ledgers_json;
  std::vector<std::string> violations;
  std::vector<std::pair<std::string, uint64_t>> rejected;  // Per reason (net/gate.h).
  std::vector<NodeId> learners;        // Of the current configuration; `members` are its voters.
  bool removed = false;                // No configuration from the current one on names this node.
  bool cluster_flag_mismatch = false;  // --cluster differs from the configuration in use.
  Slot effective_slot = 0;             // First slot the current configuration governs.
};

// Snapshot transfer between drivers, in bounded chunks (the core never sees these).
struct SnapshotFetchMsg {
  Slot slot = 0;
  uint64_t offset = 0;
};
struct SnapshotChunkMsg {
  Slot slot = 0;
  uint64_t offset = 0;
  uint64_t total = 0;  // 0: the sender no longer has that snapshot.
  std::string data;
};

// Planned leader transfer (Leader, "Transfer"). A client asks a node to hand its leadership
// to `to`; the node's driver answers with the same message: `accepted` when it is the active
// leader and started the transfer, `leader` the leader it believes in.
struct LeaderTransferMsg {
  NodeId to = 0;
  bool accepted = false;
  NodeId leader = 0;
};
// Leader -> the transfer's target, once every slot it had in flight is decided: scout now,
// with a ballot above `ballot` (no leader timeout, no backoff).
struct TakeOverMsg {
  Ballot ballot;
  Slot decided_slot = 0;  // The old leader's decided prefix when it handed over.
};
// Reads without the log (Leader, "Reads"). Leader -> the voters of a slot's configuration:
// "is `ballot` still the highest you promised?" An acceptor answers with its promised ballot
// and the same round; nothing is written on either side.
struct ConfirmMsg {
  Ballot ballot;
  uint64_t round = 0;  // Increases with every Confirm a leader sends; > 0.
};
struct ConfirmedMsg {
  Ballot ballot;  // The acceptor's promised ballot when it answered.
  uint64_t round = 0;
};

using Body =
    std::variant<JoinMsg, WelcomeMsg, InvokeMsg, InvokedMsg, ProposeMsg, DecisionMsg, PrepareMsg,
                 PromiseMsg, AcceptMsg, AcceptedMsg, ActiveMsg, CatchupMsg, DecisionsMsg,
                 StatusQueryMsg, StatusReportMsg, SnapshotFetchMsg, SnapshotChunkMsg,
                 LeaderTransferMsg, TakeOverMsg, ConfirmMsg, ConfirmedMsg>;

inline constexpr NodeId kClientEndpoint = 0;  // `to`/`from` of client traffic.

struct Envelope {
  NodeId from = 0;
  NodeId to = 0;  // kClientEndpoint: a client, named by the body's client_id.
  Body body;
};

const char* BodyName(const Body& body);

// What one Step or Tick produced. The driver, in this order:
//   1. persists `to_persist` in one synced write (nothing else may happen if that fails),
//   2. sends `messages`,
//   3. installs `install` (if set) into the state machine,
//   4. applies `decisions` in order.
struct Ready {
  std::vector<DurableWrite> to_persist;
  std::vector<Envelope> messages;
  std::optional<Snapshot> install;  // A snapshot received by Welcome, newer than the state.
  std::vector<Decision> decisions;  // Contiguous, ascending, each exactly once per node run.
  // The answer to every membership command (paxos/membership.h) in `decisions`, by
  // (client_id, request_id): the driver replies with it instead of applying the command.
  std::vector<std::pair<std::pair<uint64_t, uint64_t>, std::string>> membership_results;

  bool Empty() const {
    return to_persist.empty() && messages.empty() && !install && decisions.empty() &&
           membership_results.empty();
  }
  void Clear() {
    to_persist.clear();
    messages.clear();
    install.reset();
    decisions.clear();
    membership_results.clear();
  }
};

}  // namespace synod
