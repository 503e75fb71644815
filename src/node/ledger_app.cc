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

std::unique_lock<std::mutex> LedgerApp::LockForLoop() {
  loop_waiting_.fetch_add(1, std::memory_order_acq_rel);
  std::unique_lock<std::mutex> lock(mu_);
  if (loop_waiting_.fetch_sub(1, std::memory_order_acq_rel) == 1) loop_waiting_.notify_all();
  return lock;
}

void LedgerApp::Publish() {
  applied_.store(sm_ ? sm_->applied_slot() : 0, std::memory_order_release);
}

Status LedgerApp::Open() {
  auto lock = LockForLoop();
  auto sm = ledger::StateMachine::Open(tables_.get());
  if (!sm.ok()) return sm.status();
  sm_ = std::move(sm.value());
  Publish();
  return Status::Ok();
}

Result<std::vector<std::string>> LedgerApp::Apply(Slot slot, const Batch& batch, bool* already) {
  // The loop is waiting for the state (a read, a status, a snapshot): let it go first. The
  // wait sleeps (a futex) until the last waiting loop call holds the lock.
  for (int n; (n = loop_waiting_.load(std::memory_order_acquire)) > 0;) loop_waiting_.wait(n);
  std::lock_guard<std::mutex> lock(mu_);
  SYNOD_CHECK(sm_ != nullptr);
  *already = slot <= sm_->applied_slot();
  if (*already) return std::vector<std::string>{};
  auto results = sm_->Apply(slot, batch);
  Publish();
  return results;
}

std::optional<std::string> LedgerApp::Query(std::string_view payload) {
  auto lock = LockForLoop();
  return sm_ ? sm_->Query(payload) : std::nullopt;
}

Result<std::unique_ptr<ledger::SnapshotStream>> LedgerApp::BeginSnapshot() {
  auto lock = LockForLoop();
  SYNOD_CHECK(sm_ != nullptr);
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
  auto lock = LockForLoop();
  sm_.reset();
  Publish();
  auto sm = InstallChunks(tables_.get(), slot, chunks);
  if (!sm.ok()) return sm.status();
  sm_ = std::move(sm.value());
  Publish();
  return Status::Ok();
}

std::string LedgerApp::StateHash() {
  auto lock = LockForLoop();
  return sm_ ? sm_->StateHash().ToHex() : "";
}

ledger::InvariantReport LedgerApp::CheckInvariants() {
  auto lock = LockForLoop();
  SYNOD_CHECK(sm_ != nullptr);
  return ledger::CheckLedgerInvariants(*sm_);
}

}  // namespace synod::node
