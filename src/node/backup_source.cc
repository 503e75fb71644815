#include "node/backup_source.h"

#include <spdlog/spdlog.h>

#include "paxos/limits.h"

namespace synod::node {

SnapshotChunkMsg BackupSource::OnFetch(const SnapshotFetchMsg& f) {
  asked_ = std::chrono::steady_clock::now();
  if (f.slot == kBackupLatest) {
    if (slot_ > 0 && slot_ >= f.offset) return ChunkAt(0);
    wanted_ = std::max(wanted_, std::max<Slot>(f.offset, 1));
    return SnapshotChunkMsg{kBackupLatest, 0, 0, {}};  // Being made: ask again.
  }
  if (f.slot != slot_) return SnapshotChunkMsg{f.slot, f.offset, 0, {}};  // Gone.
  return ChunkAt(f.offset);
}

SnapshotChunkMsg BackupSource::ChunkAt(uint64_t offset) const {
  SnapshotChunkMsg c{slot_, offset, blob_->size(), {}};
  if (offset < blob_->size()) {
    c.data = blob_->substr(offset, limits::kSnapshotChunkBytes);
    metrics_->snapshot_chunks_served.fetch_add(1, std::memory_order_relaxed);
  }
  return c;
}

Status BackupSource::Poll() {
  if (making_) {
    if (making_->blob.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      return Status::Ok();
    }
    auto blob = making_->blob.get();
    const Slot slot = making_->slot;
    const auto started = making_->started;
    making_.reset();
    if (!blob.ok()) {
      spdlog::error("node {}: backup snapshot at slot {} failed: {}", self_, slot,
                    blob.status().ToString());
      return blob.status();  // A read error of our own database: stop like any storage error.
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    spdlog::info("node {} took a backup snapshot at slot {} ({} bytes, {:.2f} s)", self_, slot,
                 blob.value().size(), seconds);
    slot_ = slot;
    blob_ = std::make_shared<const std::string>(std::move(blob.value()));
    metrics_->backups_taken.fetch_add(1, std::memory_order_relaxed);
    if (slot_ >= wanted_) wanted_ = 0;
  }
  if (blob_ && !making_ &&
      std::chrono::steady_clock::now() - asked_ > std::chrono::seconds(kBackupKeepSeconds)) {
    slot_ = 0;  // Nobody fetched it for a while: give the memory back.
    blob_.reset();
  }
  if (wanted_ == 0 || making_ || app_->applied_slot() < wanted_) return Status::Ok();
  auto stream = app_->BeginSnapshot();
  if (!stream.ok()) return stream.status();
  std::shared_ptr<ledger::SnapshotStream> s = std::move(stream.value());
  making_ = Making{s->applied_slot(),
                   std::async(std::launch::async, [s] { return LedgerApp::Drain(s.get()); }),
                   std::chrono::steady_clock::now()};
  return Status::Ok();
}

}  // namespace synod::node
