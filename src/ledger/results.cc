#include "ledger/results.h"

namespace synod::ledger {

std::string Finish(flatbuffers::FlatBufferBuilder* fbb,
                   flatbuffers::Offset<fb::CommandResult> result) {
  fbb->Finish(result);
  return std::string(reinterpret_cast<const char*>(fbb->GetBufferPointer()), fbb->GetSize());
}

std::string CodeResult(flatbuffers::FlatBufferBuilder* fbb, fb::ResultCode code, uint64_t version) {
  fbb->Clear();
  fb::CommandResultBuilder b(*fbb);
  b.add_code(code);
  b.add_version(version);
  return Finish(fbb, b.Finish());
}

std::string EventCodesResult(flatbuffers::FlatBufferBuilder* fbb,
                             const std::vector<fb::ResultCode>& codes) {
  fbb->Clear();
  auto vec = fbb->CreateVector(reinterpret_cast<const uint8_t*>(codes.data()), codes.size());
  fb::CommandResultBuilder b(*fbb);
  b.add_code(fb::ResultCode::ok);
  b.add_event_codes(flatbuffers::Offset<flatbuffers::Vector<fb::ResultCode>>(vec.o));
  return Finish(fbb, b.Finish());
}

}  // namespace synod::ledger
