// Core: one node's consensus state machine, the pure heart of Synod.
//
// It hosts the roles of "Clustering by Consensus" on one node (Acceptor, Replica, Leader with
// its Scout and Commanders, and Bootstrap/Seed until the node is a member) and routes every
// message to them. Input: Step(envelope) and Tick(now); output: a Ready for the driver (what to
// persist, what to send, what to apply). Messages a role sends to its own node are delivered
// inside the same call, in order, so a node needs no network to talk to itself; they still
// land in the same Ready, whose writes the driver persists before sending anything.
//
// No sockets, files, clocks, threads or unseeded randomness: the same inputs always produce
// the same outputs, which is what lets the simulator replay any run from its seed.
//
// Owned by a driver (src/node or src/sim); single-threaded.
// Invariant: while !joined_ no role but Bootstrap/Seed acts, and nothing is persisted except
// by forming or joining.
// Invariant: while membership_.rejoining the acceptor does not vote.
//
// Rejoining (a node whose data dir was wiped). Such a node may have promised ballots and
// accepted values it no longer remembers; if it voted at once, a quorum that counts it could
// miss a chosen value, or it could accept below a ballot it promised. So a joiner votes at once
// only if the Welcome's genesis set lists it with its own data-dir incarnation: that data dir
// asked to join the cluster at formation and a node persists kJoined before any vote, so it has
// never voted. Any other joiner REJOINS: it persists that it is rejoining, its acceptor answers
// no Prepare or Accept, and its Leader runs a rejoin Scout with a fresh ballot b that needs a
// FRESH promise (promised ballot below b until then) from EVERY other member. Once adopted:
//  1. Every ballot this node promised before the wipe is below b. Such a ballot c was made by
//     some node L before the wipe; if L is another member, L's acceptor promised c when L made
//     it, so its fresh promise of b means b > c. If L is this node (an earlier life), any member
//     whose acceptor saw c saw it before this life began (ASSUMPTION: a dead process's messages
//     are delivered or lost before its data dir is wiped and it restarts; the simulator's delays
//     are shorter than its downtime), so again c < b; a c that no other acceptor saw can gather
//     no quorum. The acceptor will promise b before it votes, so no forgotten promise is broken.
//  2. Every value chosen at a ballot below b was accepted by a majority, which includes some
//     other member; that member accepted before it promised b, so its Promise reported the
//     value (or compacted it: then the slot is decided). With H = one past the highest slot
//     the adoption found in use, no value at a slot >= H was chosen below b, and nothing
//     below b can be chosen any more (every other member promised b; a majority needs one).
//  3. A lost vote at a ballot >= b is impossible: ballots >= b were made after the wipe.
// So the node waits until its replica has decided every slot below H (decisions and Welcome
// from the others), then votes again with its acceptor's floor at H (it answers nothing below
// H, and reports H as its compaction point, so a leader never re-proposes there) and its
// promise at b, both persisted before any vote. A restart before that repeats the rejoin with
// a new scout. The rejoin needs every other member voting: two members rejoining at once wait
// for each other forever (safe, not live), as does a rejoin while a member is down; a rejoin
// scout gives up after a leader timeout and retries, so the others keep electing leaders.
// The Seed forms a cluster only once every member asked (Seed), so wiping a majority makes it
// rejoin (and wait), never form a second, empty cluster.
//
// Membership (paxos/membership.h). The configuration (voters and learners) is part of the
// replicated state: `synod member add|remove` is a command decided in some slot c, and the
// configuration it yields governs every slot from c + kConfigDelaySlots on. Every replica that
// handed out the same prefix holds the same history (it is persisted as kConfig, travels in
// every Welcome, and a replayed slot is recognised as applied), and a leader opens a slot only
// when every slot kConfigDelaySlots below it is decided, so all nodes agree on the voters of
// each slot a leader opens. Both phases of Paxos for a slot use that slot's voters: a scout
// asks the voters of its first slot, and a leader runs an extension scout (same ballot) with
// the voters of each later configuration before opening its first slot (Leader,
// "Membership"). A value chosen at slot s was accepted by a majority of config(s)'s voters;
// any later leader has phase 1 from a majority of the same voters for s, so it finds it.
//  - `add` makes a LEARNER: welcomed (Join -> Welcome with the history), it receives every
//    decision but its acceptor does not vote. Once within kConfigDelaySlots of the leader's
//    decided slot it proposes its own promotion. It starts voting only when the configuration
//    that counts it governs its first undecided slot a: then every slot below a is decided,
//    so its acceptor's floor is a (like a rejoin's H) and it never answers for older slots,
//    where an earlier incarnation of the same id might have voted.
//  - `remove` drops a voter or learner. A leader that is not a voter of the slot it would
//    open next hands leadership to one that is (Leader "Transfer"); a removed node stops
//    leading and its peers stop listening to it once no configuration names it.
//  - A learner that no leader can be elected without (it is a voter of the next slot) would
//    never hear an Active: learners ask peers for decisions now and then regardless.
//  - A rejoin (above) is adopted only while one configuration governs its whole range (no
//    change pending in the history or among the values it found); otherwise it retries later.
//    Changes keep being decided without the rejoiner while the other voters are a majority;
//    in a configuration that needs the rejoiner's vote to decide the pending change, the
//    rejoin waits forever (safe, not live), like two rejoining nodes. The simulator wipes only
//    when nothing is pending and asks for no change while a node rejoins.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "paxos/acceptor.h"
#include "paxos/bootstrap.h"
#include "paxos/config.h"
#include "paxos/leader.h"
#include "paxos/persist.h"
#include "paxos/prng.h"
#include "paxos/replica.h"

namespace synod {

class Core {
 public:
  enum class Role { kLearner, kFollower, kLeader };

  // `recovered` is what the node's LogStore returned (empty for a brand-new node).
  Core(CoreConfig config, RecoveredState recovered);
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  // Call once before any Step/Tick: hands the recovered snapshot and decided log to the driver.
  void Start(Ready* ready);
  void Step(const Envelope& envelope, Ready* ready);
  void Tick(uint64_t now_ns, Ready* ready);
  // Planned leader transfer to member `to` (Leader, "Transfer"). False when this node is not
  // the active leader, `to` is not another member, or this node is rejoining.
  bool TransferLeadership(NodeId to);
  // The driver took a snapshot of the state machine at `snapshot.slot` (<= applied).
  void OnSnapshotTaken(const Snapshot& snapshot, Ready* ready);
  // The driver holds reads to answer without the log: the active leader launches a slot
  // >= `after` (a no-op if nothing is queued) to confirm its ballot
  // (Leader::ConfirmLeadership).
  void ConfirmLeadership(Slot after, Ready* ready);

  // Empty when every role's invariants hold, else the first broken one.
  std::string CheckInvariants() const;

  const CoreConfig& config() const { return config_; }
  bool joined() const { return joined_; }
  bool rejoining() const { return membership_.rejoining; }
  const Membership& membership() const { return membership_; }
  // Joined as a learner and not promoted yet: receives decisions, does not vote.
  bool learning() const { return membership_.learning; }
  // The configuration history this node knows (ascending `from`); see "Membership".
  const std::vector<ClusterConfig>& configs() const;
  // The configuration that governs this node's first undecided slot.
  const ClusterConfig& current_config() const;
  // No configuration from the current one on names this node: it was removed.
  bool removed() const;
  Role role() const;
  uint64_t tick() const { return tick_; }
  const Acceptor& acceptor() const { return acceptor_; }
  const Replica& replica() const { return *replica_; }
  const Leader& leader() const { return *leader_; }

 private:
  void Handle(const Envelope& envelope, Ready* ready);
  void DeliverLocal(Ready* ready, size_t mark);
  void OnJoin(NodeId from, const JoinMsg& msg, Ready* ready);
  void OnWelcome(const WelcomeMsg& msg, Ready* ready);
  void OnInvoke(const InvokeMsg& msg, Ready* ready);
  void OnDecision(const DecisionMsg& msg, Ready* ready);
  void BecomeMember(Ready* ready);
  void Form(Ready* ready);
  void PersistMembership(Ready* ready);
  void RecoverVote(Ready* ready);
  void Promote(Ready* ready);
  bool IsMember(NodeId id);
  bool CanLead() const;

  CoreConfig config_;
  Prng prng_;
  uint64_t tick_ = 0;
  uint64_t now_ns_ = 0;
  bool joined_ = false;
  Membership membership_;
  Slot vote_floor_ = 0;  // While rejoining: H from the rejoin scout's adoption (0: none yet).
  Acceptor acceptor_;
  std::unique_ptr<Replica> replica_;
  std::unique_ptr<Leader> leader_;
  Bootstrap bootstrap_;
  std::optional<Seed> seed_;
  std::deque<Envelope> local_;
  std::vector<NodeId> known_;  // AllMembers of the history at known_version_ (IsMember).
  uint64_t known_version_ = 0;
  uint64_t promote_tick_ = 0;  // Last promotion request (Promote).
  uint64_t promote_seq_ = 0;
};

const char* RoleName(Core::Role role);

}  // namespace synod
