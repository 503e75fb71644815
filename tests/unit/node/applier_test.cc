// The Applier (node/applier.h): small slots are applied at once on the caller's thread when the
// apply thread is idle, large ones on the thread; either way every slot is applied in slot
// order and none is skipped, and a slot already applied is reported as skipped.
#include "node/applier.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "ledger/client.h"

namespace synod::node {
namespace {

namespace fs = std::filesystem;

class ApplierTest : public ::testing::Test {
 protected:
  ApplierTest() {
    std::string tmpl = (fs::temp_directory_path() / "synod-applier-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    storage::StoreOptions o;
    o.data_dir = dir_ + "/data";
    o.cluster_id = 7;
    o.node_id = 1;
    auto store = storage::RocksLogStore::Open(o);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store.value());
    app_ = std::make_unique<LedgerApp>(store_.get());
    EXPECT_TRUE(app_->Open().ok());
  }
  ~ApplierTest() override {
    app_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // A slot of `puts` KV puts of `value_bytes` each, keys "s<slot>/<i>".
  static Decision Slot(synod::Slot slot, int puts, size_t value_bytes) {
    auto batch = std::make_shared<Batch>();
    batch->timestamp_ns = slot;
    for (int i = 0; i < puts; ++i) {
      batch->commands.push_back(
          {1, slot * 1000 + static_cast<uint64_t>(i),
           ledger::EncodeKvPut("s" + std::to_string(slot) + "/" + std::to_string(i),
                               std::string(value_bytes, 'v'))});
    }
    return Decision{slot, batch};
  }

  // Collects until the applier is idle (bounded).
  static void Drain(Applier& applier, std::vector<Applier::Applied>* done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!applier.idle() && std::chrono::steady_clock::now() < deadline) {
      ASSERT_TRUE(applier.Collect(done).ok());
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_TRUE(applier.idle());
  }

  std::string dir_;
  std::unique_ptr<storage::RocksLogStore> store_;
  std::unique_ptr<LedgerApp> app_;
};

TEST_F(ApplierTest, SmallSlotsGoInlineLargeOnesToTheThreadAndAllApplyInSlotOrder) {
  Applier applier(app_.get());
  std::vector<Applier::Applied> done;
  ASSERT_TRUE(applier.Submit(Slot(1, 3, 100), &done).ok());
  ASSERT_EQ(done.size(), 1u) << "a small slot with the thread idle is applied at once";
  EXPECT_EQ(done[0].decision.slot, 1u);
  EXPECT_EQ(app_->applied_slot(), 1u);
  // Three large slots (100 x 4 KiB > kInlineBytes), each followed by a small one: the small
  // ones must wait their turn whenever the thread still has work.
  static_assert(100 * 4096 > Applier::kInlineBytes);
  for (synod::Slot s = 2; s <= 7; ++s) {
    const bool large = s % 2 == 0;
    const size_t before = done.size();
    ASSERT_TRUE(applier.Submit(Slot(s, large ? 100 : 2, large ? 4096 : 100), &done).ok());
    if (large) {
      EXPECT_EQ(done.size(), before) << "slot " << s << " was applied on the caller";
    }
  }
  Drain(applier, &done);
  ASSERT_EQ(done.size(), 7u);
  std::vector<synod::Slot> slots;
  for (const Applier::Applied& a : done) {
    EXPECT_FALSE(a.skipped) << "slot " << a.decision.slot << " was skipped: applied out of order";
    EXPECT_EQ(a.results.size(), a.decision.batch->commands.size());
    EXPECT_EQ(a.index.size(), a.decision.batch->commands.size());
    for (const std::string& r : a.results) {
      auto decoded = ledger::DecodeResult(r);
      ASSERT_TRUE(decoded.ok());
      EXPECT_EQ(decoded.value().code, ledger::ResultCode::ok);
    }
    slots.push_back(a.decision.slot);
  }
  std::sort(slots.begin(), slots.end());
  EXPECT_EQ(slots, (std::vector<synod::Slot>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(app_->applied_slot(), 7u);
  // Every slot's writes are there.
  for (synod::Slot s = 1; s <= 7; ++s) {
    auto got = app_->Query(ledger::EncodeKvGet("s" + std::to_string(s) + "/0"));
    ASSERT_TRUE(got.has_value());
    auto decoded = ledger::DecodeResult(*got);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded.value().items.size(), 1u) << "slot " << s;
  }
}

TEST_F(ApplierTest, ASlotAppliedBeforeIsSkippedAndQueuedOnesBelowASnapshotAreDropped) {
  Applier applier(app_.get());
  std::vector<Applier::Applied> done;
  ASSERT_TRUE(applier.Submit(Slot(1, 1, 10), &done).ok());
  ASSERT_TRUE(applier.Submit(Slot(1, 1, 10), &done).ok());  // A replay after a restart.
  ASSERT_EQ(done.size(), 2u);
  EXPECT_FALSE(done[0].skipped);
  EXPECT_TRUE(done[1].skipped);
  EXPECT_TRUE(done[1].results.empty());
  // Queue large slots, then drop those at or below 5: whatever the thread had not taken yet.
  for (synod::Slot s = 2; s <= 8; ++s) ASSERT_TRUE(applier.Submit(Slot(s, 100, 4096), &done).ok());
  applier.DropThrough(5);
  Drain(applier, &done);
  std::vector<synod::Slot> applied;
  for (size_t i = 2; i < done.size(); ++i) applied.push_back(done[i].decision.slot);
  ASSERT_GE(applied.size(), 3u);
  // 6, 7 and 8 were never dropped; what came before them is a prefix of 2..5.
  EXPECT_EQ(std::vector<synod::Slot>(applied.end() - 3, applied.end()),
            (std::vector<synod::Slot>{6, 7, 8}));
  for (size_t i = 0; i + 3 < applied.size(); ++i) EXPECT_EQ(applied[i], 2 + i);
  EXPECT_EQ(app_->applied_slot(), 8u);
}

// The loop waits on wake_fd() beside its sockets: it must become readable when the thread has
// applied a slot, and Collect must drain it, or the loop would sleep through finished slots
// (or, never drained, spin).
TEST_F(ApplierTest, TheWakeFdIsReadableWhileAnAppliedSlotWaitsAndCollectDrainsIt) {
  Applier applier(app_.get());
  auto readable = [&](int timeout_ms) {
    pollfd p{applier.wake_fd(), POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN) != 0;
  };
  EXPECT_FALSE(readable(0));
  std::vector<Applier::Applied> done;
  ASSERT_TRUE(applier.Submit(Slot(1, 100, 4096), &done).ok());  // Large: to the thread.
  EXPECT_TRUE(done.empty());
  ASSERT_TRUE(readable(30000)) << "the thread applied a slot and did not signal";
  ASSERT_TRUE(applier.Collect(&done).ok());
  ASSERT_EQ(done.size(), 1u);
  EXPECT_FALSE(done[0].skipped);
  size_t bytes = 0;
  for (const Command& c : done[0].decision.batch->commands) bytes += c.payload.size();
  EXPECT_EQ(done[0].payload_bytes, bytes);
  EXPECT_GT(bytes, size_t{100 * 4096});
  EXPECT_FALSE(readable(0)) << "Collect left the eventfd readable: the loop would spin";
  EXPECT_TRUE(applier.idle());
}

// The loop may install a snapshot while the apply thread waits for the ledger's lock: the
// ledger itself then refuses the slot it no longer needs, instead of applying it twice.
TEST_F(ApplierTest, TheLedgerSkipsASlotAtOrBelowItsAppliedOne) {
  bool already = true;
  auto first = app_->Apply(3, *Slot(3, 1, 10).batch, &already);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(already);
  EXPECT_EQ(first.value().size(), 1u);
  for (synod::Slot s : {synod::Slot{2}, synod::Slot{3}}) {
    auto again = app_->Apply(s, *Slot(s, 1, 10).batch, &already);
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(already) << "slot " << s;
    EXPECT_TRUE(again.value().empty());
  }
  EXPECT_EQ(app_->applied_slot(), 3u);
}

}  // namespace
}  // namespace synod::node
