// Screen: checks a decoded peer message for meaning before the consensus core sees it.
//
// The codec (net/codec.h) already guarantees shape: sizes within limits.h, slots >= 1,
// contiguous decision lists. Screen adds what needs the cluster's configuration:
//   - the sender is a member;
//   - every ballot names a member, and Prepare, Accept, Active and Decision carry the sender's
//     own ballot (only a leader sends them, with its ballot; "Clustering by Consensus");
//   - every slot lies within limits::kSlotsAheadMax of the receiver's decided slot (no honest
//     peer is that far ahead; it keeps slot arithmetic far from overflow);
//   - every batch keeps within limits.h again (the codec is one path in; the simulator and any
//     future one skip it).
// A rejected message is counted under its reason in Rejections and dropped.
//
// Pure; thread-compatible.
#pragma once

#include <vector>

#include "net/rejections.h"
#include "paxos/message.h"

namespace synod::net {

struct ScreenContext {
  const std::vector<NodeId>* members = nullptr;  // Sorted ascending.
  Slot decided_slot = 0;                         // Every slot <= this is decided here.
};

// True when `e` (from a peer, e.from != kClientEndpoint) may go to the core; otherwise counts
// the reason in `rejections` and sets `*reason`.
bool Screen(const Envelope& e, const ScreenContext& ctx, Rejections* rejections,
            std::string* reason);

}  // namespace synod::net
