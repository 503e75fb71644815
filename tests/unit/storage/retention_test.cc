// RetentionPolicy: which slots survive a compaction after a snapshot, and that the compaction
// it produces, applied through the store, keeps exactly the margin.
#include "storage/retention.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace synod::storage {
namespace {

TEST(RetentionPolicy, KeepsTheMarginAtAndBelowTheSnapshot) {
  const RetentionPolicy policy(10);
  EXPECT_EQ(policy.KeepFrom(100), 91u);  // Slots 91..100 stay: 10 slots.
  EXPECT_EQ(policy.KeepFrom(10), 1u);    // Exactly the margin: nothing to delete.
  EXPECT_EQ(policy.KeepFrom(11), 2u);
  EXPECT_EQ(policy.KeepFrom(3), 1u);
  EXPECT_EQ(policy.KeepFrom(0), 1u);
}

TEST(RetentionPolicy, AMarginOfOneKeepsOnlyTheSnapshotSlot) {
  EXPECT_EQ(RetentionPolicy(1).KeepFrom(50), 50u);
}

TEST(RetentionPolicy, ProducesNoCompactionWhileTheLogIsShorterThanTheMargin) {
  const RetentionPolicy policy(10);
  EXPECT_FALSE(policy.CompactionFor(0).has_value());
  EXPECT_FALSE(policy.CompactionFor(10).has_value());
  std::optional<DurableWrite> compact = policy.CompactionFor(25);
  ASSERT_TRUE(compact.has_value());
  EXPECT_EQ(compact->kind, DurableWrite::Kind::kCompact);
  EXPECT_EQ(compact->slot, 16u);
}

TEST(RetentionPolicyDeathTest, AZeroMarginIsABug) {
  EXPECT_DEATH(RetentionPolicy(0), "retention_slots_ >= 1");
}

TEST(RetentionPolicy, ItsCompactionThroughTheStoreLeavesExactlyTheMargin) {
  testing::TempDir dir;
  auto store = testing::OpenOrDie(testing::Options(dir.path()));
  ASSERT_NE(store, nullptr);
  std::vector<DurableWrite> writes;
  for (Slot slot = 1; slot <= 40; ++slot) {
    writes.push_back(testing::DecideWrite(slot, testing::MakeBatch(slot, 1, 4)));
  }
  writes.push_back(testing::SnapshotWrite(30, "state at 30"));
  const RetentionPolicy policy(8);
  writes.push_back(*policy.CompactionFor(30));
  ASSERT_TRUE(store->Persist(writes).ok());
  Result<RecoveredState> state = store->Recover();
  ASSERT_TRUE(state.ok());
  ASSERT_EQ(state.value().decided.size(), 18u);  // 23..30 (the margin) and 31..40.
  EXPECT_EQ(state.value().decided.begin()->first, 23u);
}

}  // namespace
}  // namespace synod::storage
