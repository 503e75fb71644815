#include "ledger/snapshot.h"

#include "flatbuffers/flatbuffers.h"
#include "ledger/ledger_limits.h"
#include "ledger/results.h"
#include "schemas/ledger_generated.h"

namespace synod::ledger {
namespace {
// FlatBuffers framing per record (vtable, offsets, two vector headers, padding), over-counted.
constexpr size_t kRecordOverheadBytes = 64;
constexpr size_t kChunkOverheadBytes = 256;
}  // namespace

SnapshotStream::SnapshotStream(std::unique_ptr<TableView> view, Slot applied_slot,
                               Hash128 state_hash)
    : view_(std::move(view)), applied_slot_(applied_slot), state_hash_(state_hash) {
  cursor_ = view_->NewCursor(static_cast<Table>(table_));
  cursor_->Seek("");
}

bool SnapshotStream::AdvanceTable() {
  while (!cursor_->Valid()) {
    if (table_ + 1 == kTableCount) return false;
    ++table_;
    cursor_ = view_->NewCursor(static_cast<Table>(table_));
    cursor_->Seek("");
  }
  return true;
}

Result<std::string> SnapshotStream::Next() {
  SYNOD_CHECK(!done_);
  flatbuffers::FlatBufferBuilder fbb(64 * 1024);
  std::vector<flatbuffers::Offset<fb::SnapshotRecord>> records;
  size_t bytes = kChunkOverheadBytes;
  bool more = AdvanceTable();
  while (more) {
    if (!cursor_->status().ok()) return cursor_->status();
    size_t record_bytes = cursor_->key().size() + cursor_->value().size() + kRecordOverheadBytes;
    // A record is at most one KV entry or one session checkpoint part (ledger_limits.h).
    SYNOD_CHECK(record_bytes + kChunkOverheadBytes <= limits::kSnapshotChunkBytesMax);
    if (bytes + record_bytes > limits::kSnapshotChunkBytesMax) break;
    bytes += record_bytes;
    records.push_back(fb::CreateSnapshotRecord(fbb, uint8_t(table_), Bytes(&fbb, cursor_->key()),
                                               Bytes(&fbb, cursor_->value())));
    cursor_->Next();
    more = AdvanceTable();
  }
  if (!cursor_->status().ok()) return cursor_->status();
  auto vec = fbb.CreateVector(records);
  fb::SnapshotChunkBuilder b(fbb);
  b.add_format_version(kSnapshotFormatVersion);
  b.add_applied_slot(applied_slot_);
  b.add_index(index_++);
  b.add_records(vec);
  if (!more) {
    b.add_last(true);
    b.add_state_hash_lo(state_hash_.lo);
    b.add_state_hash_hi(state_hash_.hi);
    done_ = true;
  }
  fbb.Finish(b.Finish());
  SYNOD_CHECK(fbb.GetSize() <= limits::kSnapshotChunkBytesMax);
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

Status SnapshotInstaller::Add(std::string_view chunk) {
  if (complete_) return Status::InvalidArgument("snapshot: chunk after the last one");
  if (chunk.size() > limits::kSnapshotChunkBytesMax) {
    return Status::InvalidArgument("snapshot: chunk too large");
  }
  const auto* data = reinterpret_cast<const uint8_t*>(chunk.data());
  flatbuffers::Verifier verifier(data, chunk.size());
  if (!verifier.VerifyBuffer<fb::SnapshotChunk>(nullptr)) {
    return Status::Corruption("snapshot: chunk fails verification");
  }
  const auto* c = flatbuffers::GetRoot<fb::SnapshotChunk>(data);
  if (c->format_version() != kSnapshotFormatVersion) {
    return Status::InvalidArgument("snapshot: unknown format version");
  }
  if (c->index() != next_index_) return Status::InvalidArgument("snapshot: chunk out of order");
  if (next_index_ == 0) {
    applied_slot_ = c->applied_slot();
    Status s = tables_->Clear();
    if (!s.ok()) return s;
  } else if (c->applied_slot() != applied_slot_) {
    return Status::InvalidArgument("snapshot: chunks of different slots");
  }
  auto batch = tables_->NewWriteBatch();
  if (c->records() != nullptr) {
    for (const fb::SnapshotRecord* r : *c->records()) {
      if (r->table() >= kTableCount) return Status::Corruption("snapshot: unknown table");
      Table table = static_cast<Table>(r->table());
      if (table != Table::kMeta) record_sum_.Add(table, View(r->key()), View(r->value()));
      batch->Put(table, View(r->key()), View(r->value()));
    }
  }
  Status s = tables_->Write(batch.get());
  if (!s.ok()) return s;
  ++next_index_;
  if (c->last()) {
    complete_ = true;
    state_hash_ = Hash128{c->state_hash_lo(), c->state_hash_hi()};
  }
  return Status::Ok();
}

Result<std::unique_ptr<StateMachine>> SnapshotInstaller::Finish(StateMachine::Options options) {
  SYNOD_CHECK(complete_);
  Result<std::unique_ptr<StateMachine>> sm = StateMachine::Open(tables_, options);
  if (!sm.ok()) return sm.status();
  StateMachine& m = *sm.value();
  if (m.applied_slot() != applied_slot_) {
    return Status::Corruption("snapshot: installed applied slot differs from the chunks'");
  }
  if (!(m.record_sum() == record_sum_.sum())) {
    return Status::Corruption("snapshot: record hash differs from the records received");
  }
  if (!(m.StateHash() == state_hash_)) {
    return Status::Corruption("snapshot: installed state hash differs from the announced one");
  }
  return sm;
}

}  // namespace synod::ledger
