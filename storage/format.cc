#include "storage/format.h"

#include <flatbuffers/flatbuffers.h>

#include <vector>

#include "paxos/check.h"
#include "paxos/config_history.h"
#include "paxos/limits.h"
#include "paxos/struct_vector.h"
#include "schemas/storage_generated.h"

namespace synod::storage {
namespace {

namespace fb = synod::storage::fb;

// Key tags (FORMAT.md). Tags of one family differ, so single-record keys never collide with
// slot-keyed ranges.
constexpr char kPromiseTag = 0x01;
constexpr char kJoinedTag = 0x02;
constexpr char kConfigTag = 0x03;
constexpr char kAcceptedTag = 0x10;
constexpr char kSnapshotRecordTag = 0x01;
constexpr char kSnapshotDataTag = 0x02;
constexpr size_t kSlotBytes = 8;

// The largest record we write or accept: a full batch plus FlatBuffers overhead per command
// (vtable, offsets, vector length; generously 64 bytes) and a fixed header allowance.
constexpr size_t kRecordBytesMax =
    limits::kBatchBytesMax + limits::kCommandsPerBatchMax * 64 + 4096;
static_assert(kRecordBytesMax < FLATBUFFERS_MAX_BUFFER_SIZE);

void AppendSlot(std::string* out, Slot slot) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(slot >> shift));
}

Slot ReadSlot(std::string_view bytes) {
  SYNOD_CHECK(bytes.size() == kSlotBytes);
  Slot slot = 0;
  for (char c : bytes) slot = (slot << 8) | static_cast<uint8_t>(c);
  return slot;
}

std::string Finish(flatbuffers::FlatBufferBuilder* builder) {
  const auto* data = reinterpret_cast<const char*>(builder->GetBufferPointer());
  std::string out(data, builder->GetSize());
  SYNOD_CHECK(out.size() <= kRecordBytesMax);
  return out;
}

// Runs the verifier for root table T over `value`; null if the bytes are not a valid T.
template <typename T>
const T* Verified(std::string_view value) {
  if (value.empty() || value.size() > kRecordBytesMax) return nullptr;
  flatbuffers::Verifier::Options options;
  options.max_depth = 16;
  options.max_tables = limits::kCommandsPerBatchMax + 16;
  const auto* data = reinterpret_cast<const uint8_t*>(value.data());
  flatbuffers::Verifier verifier(data, value.size(), options);
  if (!verifier.VerifyBuffer<T>(nullptr)) return nullptr;
  return flatbuffers::GetRoot<T>(data);
}

flatbuffers::Offset<fb::Batch> BuildBatch(flatbuffers::FlatBufferBuilder* builder,
                                          const Batch& batch) {
  SYNOD_CHECK(batch.commands.size() <= limits::kCommandsPerBatchMax);
  std::vector<flatbuffers::Offset<fb::Command>> commands;
  commands.reserve(batch.commands.size());
  for (const Command& command : batch.commands) {
    SYNOD_CHECK(command.payload.size() <= limits::kPayloadBytesMax);
    const auto* bytes = reinterpret_cast<const uint8_t*>(command.payload.data());
    auto payload = builder->CreateVector(bytes, command.payload.size());
    commands.push_back(fb::CreateCommand(*builder, command.client_id, command.request_id, payload));
  }
  return fb::CreateBatch(*builder, batch.timestamp_ns, builder->CreateVector(commands));
}

// Converts a verified fb::Batch, enforcing the limits of limits.h.
Result<BatchRef> ReadBatch(const fb::Batch& in, const std::string& where) {
  auto batch = std::make_shared<Batch>();
  batch->timestamp_ns = in.timestamp_ns();
  if (in.commands() == nullptr) return BatchRef(batch);
  if (in.commands()->size() > limits::kCommandsPerBatchMax) {
    return Status::Corruption(where + ": batch has " + std::to_string(in.commands()->size()) +
                              " commands, more than the limit");
  }
  batch->commands.reserve(in.commands()->size());
  for (const fb::Command* command : *in.commands()) {
    Command out;
    out.client_id = command->client_id();
    out.request_id = command->request_id();
    if (command->payload() != nullptr) {
      if (command->payload()->size() > limits::kPayloadBytesMax) {
        return Status::Corruption(where + ": command payload larger than the limit");
      }
      const auto* bytes = reinterpret_cast<const char*>(command->payload()->data());
      out.payload.assign(bytes, command->payload()->size());
    }
    batch->commands.push_back(std::move(out));
  }
  return BatchRef(batch);
}

Ballot ReadBallot(const fb::Ballot* ballot) {
  if (ballot == nullptr) return Ballot{};
  return Ballot{ballot->round(), ballot->node()};
}

// Slot of a slot-keyed record: `tag` (if any) then 8 big-endian bytes, slot >= 1.
Result<Slot> SlotFromKey(std::string_view key, std::string_view tag, const std::string& what) {
  if (key.size() != tag.size() + kSlotBytes || key.substr(0, tag.size()) != tag) {
    return Status::Corruption(what + " key " + HexKey(key) + " is malformed");
  }
  Slot slot = ReadSlot(key.substr(tag.size()));
  if (slot == 0) return Status::Corruption(what + " key " + HexKey(key) + " has slot 0");
  return slot;
}

}  // namespace

std::string NodeMetaKey() { return "node"; }
std::string PromiseKey() { return std::string(1, kPromiseTag); }
std::string JoinedKey() { return std::string(1, kJoinedTag); }
std::string ConfigKey() { return std::string(1, kConfigTag); }
std::string SnapshotRecordKey() { return std::string(1, kSnapshotRecordTag); }

std::string AcceptedKey(Slot slot) {
  std::string key(1, kAcceptedTag);
  AppendSlot(&key, slot);
  return key;
}

std::string DecidedKey(Slot slot) {
  std::string key;
  AppendSlot(&key, slot);
  return key;
}

std::string SnapshotDataKey(Slot slot) {
  std::string key(1, kSnapshotDataTag);
  AppendSlot(&key, slot);
  return key;
}

std::string AcceptedKeyBegin() { return AcceptedKey(0); }
std::string AcceptedKeyEnd() { return std::string(1, kAcceptedTag + 1); }

bool IsAcceptedKey(std::string_view key) { return !key.empty() && key[0] == kAcceptedTag; }

std::string EncodeNodeMeta(const NodeMeta& meta) {
  flatbuffers::FlatBufferBuilder builder(64);
  builder.Finish(fb::CreateNodeMeta(builder, meta.format_version, meta.cluster_id, meta.node_id,
                                    meta.created_at_unix_ns, meta.incarnation));
  return Finish(&builder);
}

std::string EncodeJoined(const Membership& membership) {
  SYNOD_CHECK(membership.genesis.size() <= limits::kNodesMax);
  flatbuffers::FlatBufferBuilder builder(64);
  std::vector<fb::GenesisMember> members;
  for (const GenesisMember& g : membership.genesis) members.emplace_back(g.id, g.incarnation);
  auto genesis = builder.CreateVectorOfStructs(members);
  builder.Finish(fb::CreateJoinedRecord(builder, membership.rejoining, membership.vote_floor,
                                        genesis, membership.learning));
  return Finish(&builder);
}

std::string EncodeConfigs(const std::vector<ClusterConfig>& configs) {
  SYNOD_CHECK(!configs.empty());
  SYNOD_CHECK(CheckConfigHistory(configs).ok());
  flatbuffers::FlatBufferBuilder builder(256);
  std::vector<flatbuffers::Offset<fb::ClusterConfig>> tables;
  for (const ClusterConfig& c : configs) {
    std::vector<flatbuffers::Offset<fb::ConfigMember>> members;
    for (const ConfigMember& m : c.members) {
      members.push_back(
          fb::CreateConfigMember(builder, m.id, builder.CreateString(m.address), m.voter));
    }
    tables.push_back(
        fb::CreateClusterConfig(builder, c.from, c.decided_at, builder.CreateVector(members)));
  }
  builder.Finish(fb::CreateConfigRecord(builder, builder.CreateVector(tables)));
  return Finish(&builder);
}

std::string EncodePromise(const Ballot& ballot) {
  flatbuffers::FlatBufferBuilder builder(32);
  fb::Ballot fb_ballot(ballot.round, ballot.node);
  builder.Finish(fb::CreatePromiseRecord(builder, &fb_ballot));
  return Finish(&builder);
}

std::string EncodeAccepted(const PValue& pvalue) {
  SYNOD_CHECK(pvalue.slot >= 1);
  SYNOD_CHECK(pvalue.batch != nullptr);
  flatbuffers::FlatBufferBuilder builder(1024);
  auto batch = BuildBatch(&builder, *pvalue.batch);
  fb::Ballot fb_ballot(pvalue.ballot.round, pvalue.ballot.node);
  builder.Finish(fb::CreateAcceptedRecord(builder, pvalue.slot, &fb_ballot, batch));
  return Finish(&builder);
}

std::string EncodeDecided(Slot slot, const Batch& batch) {
  SYNOD_CHECK(slot >= 1);
  flatbuffers::FlatBufferBuilder builder(1024);
  auto fb_batch = BuildBatch(&builder, batch);
  builder.Finish(fb::CreateDecidedRecord(builder, slot, fb_batch));
  return Finish(&builder);
}

std::string EncodeSnapshotRecord(const SnapshotInfo& info) {
  SYNOD_CHECK(info.slot >= 1);
  flatbuffers::FlatBufferBuilder builder(128);
  const auto* key = reinterpret_cast<const uint8_t*>(info.data_key.data());
  auto data_key = builder.CreateVector(key, info.data_key.size());
  builder.Finish(fb::CreateSnapshotRecord(builder, info.slot, fb::SnapshotStorage::Inline, data_key,
                                          info.size_bytes, info.data_hash,
                                          info.created_at_unix_ns));
  return Finish(&builder);
}

Result<NodeMeta> DecodeNodeMeta(std::string_view value) {
  const auto* record = Verified<fb::NodeMeta>(value);
  if (record == nullptr) return Status::Corruption("node metadata record fails verification");
  return NodeMeta{record->format_version(), record->cluster_id(), record->node_id(),
                  record->created_at_unix_ns(), record->incarnation()};
}

Result<Membership> DecodeJoined(std::string_view value) {
  const auto* record = Verified<fb::JoinedRecord>(value);
  if (record == nullptr) return Status::Corruption("joined record fails verification");
  Membership out;
  out.rejoining = record->rejoining();
  out.vote_floor = record->vote_floor();
  if (!StructsAligned(record->genesis())) {
    return Status::Corruption("joined record: genesis members misaligned");
  }
  if (record->genesis() != nullptr) {
    if (record->genesis()->size() > limits::kNodesMax) {
      return Status::Corruption("joined record: genesis of " +
                                std::to_string(record->genesis()->size()) + " members exceeds " +
                                std::to_string(limits::kNodesMax));
    }
    for (const fb::GenesisMember* g : *record->genesis()) {
      out.genesis.push_back({g->node(), g->incarnation()});
    }
  }
  out.learning = record->learning();
  return out;
}

Result<std::vector<ClusterConfig>> DecodeConfigs(std::string_view value) {
  const auto* record = Verified<fb::ConfigRecord>(value);
  if (record == nullptr) return Status::Corruption("configuration record fails verification");
  auto configs = ConfigsFromTables(record->configs(), "configuration record");
  if (!configs.ok()) return Status::Corruption(configs.status().message());
  if (configs.value().empty()) return Status::Corruption("configuration record is empty");
  return configs;
}

Result<Ballot> DecodePromise(std::string_view value) {
  const auto* record = Verified<fb::PromiseRecord>(value);
  if (record == nullptr) return Status::Corruption("promise record fails verification");
  if (record->ballot() == nullptr) return Status::Corruption("promise record has no ballot");
  return ReadBallot(record->ballot());
}

Result<PValue> DecodeAccepted(std::string_view key, std::string_view value) {
  Result<Slot> slot = SlotFromKey(key, std::string_view(&kAcceptedTag, 1), "accepted record");
  if (!slot.ok()) return slot.status();
  const std::string where = "accepted record for slot " + std::to_string(slot.value());
  const auto* record = Verified<fb::AcceptedRecord>(value);
  if (record == nullptr) return Status::Corruption(where + " fails verification");
  if (record->slot() != slot.value()) return Status::Corruption(where + " holds another slot");
  Result<BatchRef> batch = ReadBatch(*record->batch(), where);
  if (!batch.ok()) return batch.status();
  return PValue{slot.value(), ReadBallot(record->ballot()), std::move(batch.value())};
}

Result<Decision> DecodeDecided(std::string_view key, std::string_view value) {
  Result<Slot> slot = SlotFromKey(key, std::string_view(), "decided record");
  if (!slot.ok()) return slot.status();
  const std::string where = "decided record for slot " + std::to_string(slot.value());
  const auto* record = Verified<fb::DecidedRecord>(value);
  if (record == nullptr) return Status::Corruption(where + " fails verification");
  if (record->slot() != slot.value()) return Status::Corruption(where + " holds another slot");
  Result<BatchRef> batch = ReadBatch(*record->batch(), where);
  if (!batch.ok()) return batch.status();
  return Decision{slot.value(), std::move(batch.value())};
}

Result<SnapshotInfo> DecodeSnapshotRecord(std::string_view value) {
  const auto* record = Verified<fb::SnapshotRecord>(value);
  if (record == nullptr) return Status::Corruption("snapshot record fails verification");
  if (record->slot() == 0) return Status::Corruption("snapshot record has slot 0");
  if (record->storage() != fb::SnapshotStorage::Inline) {
    return Status::Corruption("snapshot record has unknown storage kind " +
                              std::to_string(static_cast<int>(record->storage())));
  }
  if (record->data_key() == nullptr) return Status::Corruption("snapshot record has no data key");
  SnapshotInfo info;
  info.slot = record->slot();
  const auto* key = reinterpret_cast<const char*>(record->data_key()->data());
  info.data_key.assign(key, record->data_key()->size());
  info.size_bytes = record->size_bytes();
  info.data_hash = record->data_hash();
  info.created_at_unix_ns = record->created_at_unix_ns();
  if (info.data_key != SnapshotDataKey(info.slot)) {
    return Status::Corruption("snapshot record for slot " + std::to_string(info.slot) +
                              " points at key " + HexKey(info.data_key));
  }
  return info;
}

std::string HexKey(std::string_view key) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : key) {
    out.push_back(kDigits[static_cast<uint8_t>(c) >> 4]);
    out.push_back(kDigits[static_cast<uint8_t>(c) & 0xf]);
  }
  return out.empty() ? "(empty)" : out;
}

}  // namespace synod::storage
