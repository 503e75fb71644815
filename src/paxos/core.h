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
  // The driver took a snapshot of the state machine at `snapshot.slot` (<= applied).
  void OnSnapshotTaken(const Snapshot& snapshot, Ready* ready);

  // Empty when every role's invariants hold, else the first broken one.
  std::string CheckInvariants() const;

  const CoreConfig& config() const { return config_; }
  bool joined() const { return joined_; }
  Role role() const;
  uint64_t tick() const { return tick_; }
  const Acceptor& acceptor() const { return acceptor_; }
  const Replica& replica() const { return *replica_; }
  const Leader& leader() const { return *leader_; }

 private:
  void Handle(const Envelope& envelope, Ready* ready);
  void DeliverLocal(Ready* ready, size_t mark);
  void OnJoin(NodeId from, Ready* ready);
  void OnWelcome(const WelcomeMsg& msg, Ready* ready);
  void OnInvoke(const InvokeMsg& msg, Ready* ready);
  void OnDecision(const DecisionMsg& msg, Ready* ready);
  void BecomeMember(Ready* ready);
  bool IsMember(NodeId id) const;

  CoreConfig config_;
  Prng prng_;
  uint64_t tick_ = 0;
  uint64_t now_ns_ = 0;
  bool joined_ = false;
  Acceptor acceptor_;
  std::unique_ptr<Replica> replica_;
  std::unique_ptr<Leader> leader_;
  Bootstrap bootstrap_;
  std::optional<Seed> seed_;
  std::deque<Envelope> local_;
};

const char* RoleName(Core::Role role);

}  // namespace synod
