#include "net/rejections.h"

namespace synod::net {

uint64_t Rejections::Total() const {
  uint64_t total = 0;
  for (const auto& [name, count] : Items()) total += count;
  return total;
}

std::vector<std::pair<const char*, uint64_t>> Rejections::Items() const {
  return {
      {"frames_malformed", frames_malformed},   {"sender_mismatch", sender_mismatch},
      {"wrong_recipient", wrong_recipient},     {"unknown_keys", unknown_keys},
      {"handshakes_failed", handshakes_failed}, {"not_member", not_member},
      {"ballot_not_member", ballot_not_member}, {"slot_outside_window", slot_outside_window},
      {"batch_over_limits", batch_over_limits}, {"chunk_out_of_sequence", chunk_out_of_sequence}};
}

}  // namespace synod::net
