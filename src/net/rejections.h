// Rejections: what a node turned away from the network, by reason.
//
// Filled by the transport and its gate (net/gate.h: malformed frames, unknown keys, failed
// handshakes) and by the screen (net/screen.h: messages that make no sense in this cluster).
// Read by `synod status` (StatusReport.rejected) and the metrics endpoint. Owned by the node's
// loop thread; plain data.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace synod::net {

// Counters of what the gate and the transport turned away, by reason. One struct, so that
// `synod status` and the metrics endpoint read the same numbers.
struct Rejections {
  uint64_t frames_malformed = 0;       // Wrong part count, or failed verification by the codec.
  uint64_t sender_mismatch = 0;        // A frame claiming to be from a node it is not from.
  uint64_t wrong_recipient = 0;        // Addressed to another node.
  uint64_t unknown_keys = 0;           // CURVE handshakes refused by the ZAP handler.
  uint64_t handshakes_failed = 0;      // Mechanism mismatch (plaintext vs CURVE) and the like.
  uint64_t not_member = 0;             // From a node id outside the cluster.
  uint64_t ballot_not_member = 0;      // A non-member's ballot, or a leader's message with
                                       // another node's ballot.
  uint64_t slot_outside_window = 0;    // A slot no honest sender could use now.
  uint64_t batch_over_limits = 0;      // A batch or command list beyond limits.h.
  uint64_t chunk_out_of_sequence = 0;  // A snapshot chunk or fetch outside the transfer.

  uint64_t Total() const;
  // (name, count) for every counter, in a fixed order (for status and metrics).
  std::vector<std::pair<const char*, uint64_t>> Items() const;
};

}  // namespace synod::net
