// Fuzz target: records read back from disk (storage/format.h). The first byte picks the
// decoder, the next 8 the slot of the key, the rest is the value. Bad bytes must come back as a
// Corruption status; a record that decodes must encode to bytes that decode to the same record.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "storage/format.h"

namespace {

using namespace synod;
using namespace synod::storage;

void Require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "storage_record_fuzz: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 9) return 0;
  uint64_t slot = 0;
  std::memcpy(&slot, data + 1, 8);
  const std::string value(reinterpret_cast<const char*>(data + 9), size - 9);  // Aligned copy.
  switch (data[0] % 7) {
    case 0:
      if (auto m = DecodeNodeMeta(value); m.ok()) {
        auto again = DecodeNodeMeta(EncodeNodeMeta(m.value()));
        Require(again.ok() && again.value().cluster_id == m.value().cluster_id &&
                    again.value().node_id == m.value().node_id,
                "NodeMeta does not round-trip");
      }
      break;
    case 1:
      (void)DecodeJoined(value);
      break;
    case 2:
      if (auto b = DecodePromise(value); b.ok()) {
        auto again = DecodePromise(EncodePromise(b.value()));
        Require(again.ok() && again.value() == b.value(), "promise does not round-trip");
      }
      break;
    case 3:
      if (auto p = DecodeAccepted(AcceptedKey(slot), value); p.ok()) {
        const std::string bytes = EncodeAccepted(p.value());
        auto again = DecodeAccepted(AcceptedKey(p.value().slot), bytes);
        Require(again.ok() && EncodeAccepted(again.value()) == bytes,
                "accepted record does not round-trip");
      }
      break;
    case 4:
      if (auto d = DecodeDecided(DecidedKey(slot), value); d.ok()) {
        const std::string bytes = EncodeDecided(d.value().slot, *d.value().batch);
        auto again = DecodeDecided(DecidedKey(d.value().slot), bytes);
        Require(again.ok() && EncodeDecided(again.value().slot, *again.value().batch) == bytes,
                "decided record does not round-trip");
      }
      break;
    case 5:
      if (auto s = DecodeSnapshotRecord(value); s.ok()) {
        auto again = DecodeSnapshotRecord(EncodeSnapshotRecord(s.value()));
        Require(again.ok() && again.value().slot == s.value().slot &&
                    again.value().data_hash == s.value().data_hash,
                "snapshot record does not round-trip");
      }
      break;
    case 6:
      if (auto h = DecodeConfigs(value); h.ok()) {
        auto again = DecodeConfigs(EncodeConfigs(h.value()));
        Require(again.ok() && again.value() == h.value(),
                "configuration record does not round-trip");
      }
      break;
  }
  return 0;
}
