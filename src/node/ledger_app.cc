#include "node/ledger_app.h"

#include "ledger/snapshot.h"
#include "node/snapshot_files.h"
#include "paxos/wire_bytes.h"
#include "storage/ledger/ledger_column_families.h"

namespace synod::node {

ledger::RocksDbLedgerTables::Handles LedgerHandles(storage::RocksLogStore* store) {
  ledger::RocksDbLedgerTables::Handles handles{};
  for (size_t i = 0; i < handles.size(); ++i) {
    handles[i] = store->ColumnFamily(ledger::kLedgerColumnFamilies[i]);
    SYNOD_CHECK(handles[i] != nullptr);
  }
  return handles;
}

LedgerApp::LedgerApp(storage::RocksLogStore* store)
    : tables_(std::make_unique<ledger::RocksDbLedgerTables>(store->db(), LedgerHandles(store))) {}

Status LedgerApp::Open() {
  auto sm = ledger::StateMachine::Open(tables_.get());
  if (!sm.ok()) return sm.status();
  sm_ = std::move(sm.value());
  return Status::Ok();
}

Result<std::vector<std::string>> LedgerApp::Apply(Slot slot, const Batch& batch) {
  SYNOD_CHECK(sm_ != nullptr);
  return sm_->Apply(slot, batch);
}

std::optional<std::string> LedgerApp::Query(std::string_view payload) {
  return sm_ ? sm_->Query(payload) : std::nullopt;
}

Result<std::unique_ptr<ledger::SnapshotStream>> LedgerApp::BeginSnapshot() {
  return sm_->NewSnapshot();
}

Result<std::string> LedgerApp::Drain(ledger::SnapshotStream* stream) {
  ByteWriter blob;
  while (!stream->done()) {
    auto chunk = stream->Next();
    if (!chunk.ok()) return chunk.status();
    blob.Bytes(chunk.value());
  }
  return blob.Take();
}

Result<std::unique_ptr<ledger::StateMachine>> InstallChunks(ledger::LedgerTables* tables, Slot slot,
                                                            const ChunkSource& chunks) {
  ledger::SnapshotInstaller installer(tables);
  if (Status s = chunks([&](std::string_view chunk) { return installer.Add(chunk); }); !s.ok()) {
    return s;
  }
  if (!installer.complete()) return Status::Corruption("snapshot ends before its last chunk");
  if (installer.applied_slot() != slot) {
    return Status::Corruption("snapshot holds slot " + std::to_string(installer.applied_slot()) +
                              ", expected " + std::to_string(slot));
  }
  return installer.Finish();
}

Result<std::unique_ptr<ledger::StateMachine>> InstallBlob(ledger::LedgerTables* tables, Slot slot,
                                                          const std::string& blob) {
  return InstallChunks(tables, slot, [&](const auto& add) { return ForEachChunk(blob, add); });
}

Status LedgerApp::Install(Slot slot, const ChunkSource& chunks) {
  sm_.reset();
  auto sm = InstallChunks(tables_.get(), slot, chunks);
  if (!sm.ok()) return sm.status();
  sm_ = std::move(sm.value());
  return Status::Ok();
}

std::string LedgerApp::StateHash() { return sm_ ? sm_->StateHash().ToHex() : ""; }

ledger::InvariantReport LedgerApp::CheckInvariants() const {
  return ledger::CheckLedgerInvariants(*sm_);
}

}  // namespace synod::node
