// Helpers that build encoded CommandResult buffers (schemas/ledger.fbs) for the state machine.
// Stateless functions over a caller-owned FlatBufferBuilder, which they Clear() first.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "flatbuffers/flatbuffers.h"
#include "schemas/ledger_generated.h"

namespace synod::ledger {

std::string Finish(flatbuffers::FlatBufferBuilder* fbb,
                   flatbuffers::Offset<fb::CommandResult> result);
// A result with only a code (and a KV version).
std::string CodeResult(flatbuffers::FlatBufferBuilder* fbb, fb::ResultCode code,
                       uint64_t version = 0);
// create_accounts / create_transfers: one code per event.
std::string EventCodesResult(flatbuffers::FlatBufferBuilder* fbb,
                             const std::vector<fb::ResultCode>& codes);

inline flatbuffers::Offset<flatbuffers::Vector<uint8_t>> Bytes(flatbuffers::FlatBufferBuilder* fbb,
                                                               std::string_view s) {
  return fbb->CreateVector(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

inline std::string_view View(const flatbuffers::Vector<uint8_t>* v) {
  if (v == nullptr) return {};
  return std::string_view(reinterpret_cast<const char*>(v->data()), v->size());
}

}  // namespace synod::ledger
