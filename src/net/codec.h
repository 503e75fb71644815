// Codec: protocol messages (paxos/message.h) <-> FlatBuffers frames (schemas/wire.fbs).
//
// Decode never trusts its input: the frame size is limited, the FlatBuffers verifier runs
// before any field is read, and then every field is checked for meaning (known message type,
// batch and payload sizes within limits.h, non-empty required fields). A bad frame comes
// back as a Status naming what was wrong; nothing is read past the buffer.
//
// Stateless and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "paxos/message.h"
#include "paxos/status.h"

namespace synod::net {

std::string Encode(const Envelope& envelope);
Result<Envelope> Decode(std::string_view frame);

}  // namespace synod::net
