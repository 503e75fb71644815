// Disk use stays bounded: 1,000,000 commands decided through the store (1,000 commands per
// slot, accept + decide per slot, 10 slots per synced Persist as a pipelined window would),
// with a snapshot every N slots followed by the retention policy's compaction. At the end the
// acceptor and decided families hold at most the retention margin, and after a manual
// compaction their SST files are a small fraction of what went through them.
// SYNOD_SIM_SEEDS_SCALE < 1 (the ASan pass) shrinks the run.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "storage/retention.h"
#include "test_util.h"

namespace synod::storage {
namespace {

using testing::TempDir;

constexpr size_t kCommandsPerSlot = 1000;
constexpr size_t kPayloadBytes = 8;
constexpr Slot kSlotsPerPersist = 10;

// Flushes and fully compacts `family`, then returns the size of its SST files.
uint64_t CompactedBytesOnDisk(RocksLogStore* store, std::string_view family) {
  EXPECT_TRUE(store->db()->Flush(rocksdb::FlushOptions(), store->ColumnFamily(family)).ok());
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  EXPECT_TRUE(
      store->db()->CompactRange(compact, store->ColumnFamily(family), nullptr, nullptr).ok());
  rocksdb::ColumnFamilyMetaData meta;
  store->db()->GetColumnFamilyMetaData(store->ColumnFamily(family), &meta);
  return meta.size;
}

// Decides slots 1..slots through `store`, kSlotsPerPersist per synced Persist, with a snapshot
// and the policy's compaction every `snapshot_every` slots. Returns the record bytes written.
uint64_t DecideAll(RocksLogStore* store, Slot slots, Slot snapshot_every,
                   const RetentionPolicy& policy) {
  uint64_t bytes_written = 0;
  for (Slot first = 1; first <= slots; first += kSlotsPerPersist) {
    std::vector<DurableWrite> writes;
    for (Slot slot = first; slot < first + kSlotsPerPersist && slot <= slots; ++slot) {
      BatchRef batch = testing::MakeBatch(slot, kCommandsPerSlot, kPayloadBytes);
      writes.push_back(testing::AcceptWrite(slot, {1, 1}, batch));
      writes.push_back(testing::DecideWrite(slot, batch));
      bytes_written += 2 * EncodeDecided(slot, *batch).size();
      if (slot % snapshot_every == 0) {
        writes.push_back(testing::SnapshotWrite(slot, "state at " + std::to_string(slot)));
        if (auto compact = policy.CompactionFor(slot)) writes.push_back(*compact);
      }
    }
    Status status = store->Persist(writes);
    EXPECT_TRUE(status.ok()) << status.ToString();
    if (!status.ok()) break;
  }
  return bytes_written;
}

TEST(BoundedDisk, OneMillionCommandsLeaveOnlyTheRetentionMargin) {
  const uint64_t commands = testing::Scaled(1000000, 100000);
  const Slot slots = commands / kCommandsPerSlot;
  const Slot snapshot_every = slots / 10;
  const RetentionPolicy policy(snapshot_every / 2);
  ASSERT_EQ(slots % snapshot_every, 0u);  // The run ends on a snapshot.
  TempDir dir;
  auto store = testing::OpenOrDie(testing::Options(dir.path()));
  ASSERT_NE(store, nullptr);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(store->Persist({testing::JoinedWrite(), testing::PromiseWrite({1, 1})}).ok());
  const uint64_t bytes_written = DecideAll(store.get(), slots, snapshot_every, policy);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("decided %llu commands in %llu slots, %.1f MB of records, %.2f s\n",
              static_cast<unsigned long long>(commands), static_cast<unsigned long long>(slots),
              bytes_written / 1e6, seconds);

  const uint64_t margin = policy.retention_slots();
  EXPECT_LE(testing::CountKeys(store.get(), kDecidedFamily), margin);
  EXPECT_LE(testing::CountKeys(store.get(), kAcceptorFamily), margin + 2);  // + promise, joined.
  EXPECT_EQ(testing::CountKeys(store.get(), kSnapshotFamily), 2u);
  Result<RecoveredState> state = store->Recover();
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(state.value().decided.size(), margin);
  EXPECT_EQ(state.value().decided.begin()->first, slots - margin + 1);
  EXPECT_EQ(state.value().snapshot.slot, slots);

  for (std::string_view family : {kAcceptorFamily, kDecidedFamily}) {
    const uint64_t on_disk = CompactedBytesOnDisk(store.get(), family);
    std::printf("%s: %llu bytes of SST after compaction\n", std::string(family).c_str(),
                static_cast<unsigned long long>(on_disk));
    // The margin's records (compressed or not) plus table overhead, far below the total.
    EXPECT_LE(on_disk, bytes_written / 2 * margin / slots * 2 + (1 << 20)) << family;
  }
}

}  // namespace
}  // namespace synod::storage
