// Codec: protocol messages (paxos/message.h) <-> FlatBuffers frames (schemas/wire.fbs).
//
// Decode never trusts its input: the frame size is limited, the FlatBuffers verifier runs
// before any field is read, and then every field is checked for meaning (known message type,
// batch and payload sizes within limits.h, non-empty required fields). A bad frame comes
// back as a Status naming what was wrong; nothing is read past the buffer.
//
// A frame may carry several envelopes (Envelope.more, appended in v1): Invokes a client had
// ready together, or the Invoked replies a node had for one connection in one loop pass.
//
// Stateless and thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "paxos/message.h"
#include "paxos/status.h"

namespace synod::net {

// One envelope per frame.
std::string Encode(const Envelope& envelope);
// InvalidArgument for a frame that carries more than one envelope.
Result<Envelope> Decode(std::string_view frame);

// Coalescing (wire.fbs Envelope.more): one frame for 1..limits::kEnvelopesPerFrameMax
// envelopes, decoded in order. DecodeFrame appends to `out` only when the whole frame is good.
// `accepts_more`: the sender's flag that it decodes coalesced frames (a client sets it; a node
// coalesces its replies only to such clients).
std::string EncodeFrame(std::span<const Envelope> envelopes, bool accepts_more = false);
Status DecodeFrame(std::string_view frame, std::vector<Envelope>* out,
                   bool* accepts_more = nullptr);
// Any number of envelopes in as few frames as limits::kEnvelopesPerFrameMax and
// kCoalescedBytesMax allow, in order. Only Invoke and Invoked share a frame with others.
std::vector<std::string> EncodeFrames(std::span<const Envelope> envelopes,
                                      bool accepts_more = false);

}  // namespace synod::net
