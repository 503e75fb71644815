// Leadership steps shared by `synod leader transfer` and `synod member remove` (which moves
// leadership off a leader it is about to remove): find the leader, hand over and wait.
#pragma once

#include <chrono>

#include "client/client.h"

namespace synod::tools {

using Clock = std::chrono::steady_clock;

int64_t MsLeft(Clock::time_point deadline);
// The node that reports itself leader, or 0 when none does before `deadline`.
NodeId FindLeader(client::Client& c, Clock::time_point deadline);
// Asks `from` (the leader) to hand its leadership to `to` and waits until `to` leads. An error
// says why not (no longer the leader, or `to` did not take over by `deadline`).
Status HandOver(client::Client& c, NodeId from, NodeId to, Clock::time_point deadline);

}  // namespace synod::tools
