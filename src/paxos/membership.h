// Membership changes as commands of the replicated log (Core, "Membership").
//
// A change is an ordinary client command whose payload starts with kMembershipMagic (a
// FlatBuffers payload of the state machine cannot start with it: its first four bytes are a
// root offset, and 0x424d53ff is far beyond any command's size). It is decided in a slot like
// any command; when a replica hands that slot out, ApplyMembershipChange turns the latest
// configuration into the next one, which governs slots from `decided + kConfigDelaySlots` on.
// A leader never opens a slot more than kConfigDelaySlots past its first undecided slot, so
// the configuration of every slot it opens is already known on every replica that decided the
// same prefix: all nodes agree on which acceptors form a quorum for each slot.
//
// The state machine never sees these commands: the driver answers them with the result the
// core computed (Ready::membership_results), a small JSON object.
//
// Pure functions, no state; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "paxos/status.h"
#include "paxos/types.h"

namespace synod {

inline constexpr std::string_view kMembershipMagic = "\xffSMB";
// Slots between the decision of a change and the first slot it governs. Also the most slots a
// leader opens past its first undecided slot (Leader::Flush). The same on every node.
inline constexpr Slot kConfigDelaySlots = 64;
// The client id under which a learner asks to be promoted (its own id added). Clients draw
// random 64-bit ids; sharing one (odds 2^-32) would at worst hand a client a promotion answer.
inline constexpr uint64_t kPromoteClientBase = uint64_t{0xffffffff} << 32;

struct MembershipChange {
  enum class Op : uint8_t { kAdd = 1, kRemove = 2, kPromote = 3 };
  Op op = Op::kAdd;
  NodeId id = 0;
  std::string address;  // kAdd only: HOST:PORT.
};

const char* OpName(MembershipChange::Op op);
std::string EncodeMembershipChange(const MembershipChange& change);
bool IsMembershipPayload(std::string_view payload);
// Decodes a payload that IsMembershipPayload; an error names what is wrong.
Result<MembershipChange> DecodeMembershipChange(std::string_view payload);

// The configuration that governs `slot` (the last one with from <= slot).
const ClusterConfig& ConfigAt(const std::vector<ClusterConfig>& configs, Slot slot);

// Applies the change in `payload`, decided in `slot`, to `configs` (ascending `from`) and
// returns the answer for the client (JSON). Deterministic: the same history, slot and payload
// give the same history and answer on every node. A change that is invalid against the latest
// configuration changes nothing and says why. Several changes in one slot apply in order.
// Adding a node that is already a member at the same address answers ok with "already": true
// and changes nothing, so a client may retry an add whose answer it lost.
// Requires !MembershipApplied(*configs, slot + 1).
std::string ApplyMembershipChange(std::vector<ClusterConfig>* configs, Slot slot,
                                  std::string_view payload);
// True when the history already holds the outcome of `slot` (a configuration decided at or
// after it: a replay after a restart, or a history that came with a snapshot). Such a slot's
// changes must not be applied again.
bool MembershipApplied(const std::vector<ClusterConfig>& configs, Slot slot);

// Drops configurations that no slot >= `slot` uses any more (keeps the one governing `slot`).
void PruneConfigs(std::vector<ClusterConfig>* configs, Slot slot);

// Every node any configuration in `configs` names (voter or learner), ascending.
std::vector<NodeId> AllMembers(const std::vector<ClusterConfig>& configs);

// "1=HOST:PORT,2=HOST:PORT" with voters only, then learners as "4=HOST:PORT(learner)".
std::string ConfigToString(const ClusterConfig& config);

}  // namespace synod
