#include "paxos/message.h"

namespace synod {

const char* BodyName(const Body& body) {
  static constexpr const char* kNames[] = {
      "Join",          "Welcome",       "Invoke",         "Invoked",     "Propose",
      "Decision",      "Prepare",       "Promise",        "Accept",      "Accepted",
      "Active",        "Catchup",       "Decisions",      "StatusQuery", "StatusReport",
      "SnapshotFetch", "SnapshotChunk", "LeaderTransfer", "TakeOver",    "Confirm",
      "Confirmed"};
  static_assert(std::variant_size_v<Body> == sizeof(kNames) / sizeof(kNames[0]));
  return kNames[body.index()];
}

}  // namespace synod
