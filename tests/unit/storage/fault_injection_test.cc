// Injected write failures: a rocksdb::FileSystem wrapper that makes appends to, or syncs of, the
// write-ahead log fail on demand (an I/O error, a full disk). The store must report the failed
// Persist, latch (refuse every later write even after the disk recovers), log why, and leave
// every earlier acknowledged record intact for the next open.
#include <gtest/gtest.h>
#include <rocksdb/file_system.h>

#include <atomic>

#include "test_util.h"

namespace synod::storage {
namespace {

using testing::AcceptWrite;
using testing::MakeBatch;
using testing::OpenOrDie;
using testing::Options;
using testing::PromiseWrite;
using testing::TempDir;

enum class Fault { kNone, kWalAppend, kWalSync };

// Fails Append (nothing reaches the file) or Sync/Fsync (the bytes may be in the page cache, but
// fdatasync reported an error) of WAL files ("*.log") while `fault` says so.
class FailingWalFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FailingWalFile(std::unique_ptr<rocksdb::FSWritableFile> file, const std::atomic<Fault>* fault)
      : FSWritableFileOwnerWrapper(std::move(file)), fault_(fault) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (*fault_ == Fault::kWalAppend) return rocksdb::IOStatus::NoSpace("injected: disk full");
    return FSWritableFileOwnerWrapper::Append(data, options, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    if (*fault_ == Fault::kWalAppend) return rocksdb::IOStatus::NoSpace("injected: disk full");
    return FSWritableFileOwnerWrapper::Append(data, options, info, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (*fault_ == Fault::kWalSync) return rocksdb::IOStatus::IOError("injected: fdatasync EIO");
    return FSWritableFileOwnerWrapper::Sync(options, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (*fault_ == Fault::kWalSync) return rocksdb::IOStatus::IOError("injected: fsync EIO");
    return FSWritableFileOwnerWrapper::Fsync(options, dbg);
  }

 private:
  const std::atomic<Fault>* fault_;
};

class FailingFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  FailingFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "FailingFileSystem"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus status = FileSystemWrapper::NewWritableFile(name, options, result, dbg);
    if (status.ok() && name.ends_with(".log")) {
      *result = std::make_unique<FailingWalFile>(std::move(*result), &fault);
    }
    return status;
  }

  std::atomic<Fault> fault{Fault::kNone};
};

class WriteFailure : public ::testing::Test {
 protected:
  WriteFailure()
      : fs_(std::make_shared<FailingFileSystem>()), env_(rocksdb::NewCompositeEnv(fs_)) {}

  StoreOptions FaultyOptions() {
    StoreOptions options = Options(dir_.path());
    options.env = env_.get();
    return options;
  }

  // Persists promise 1.1 + accept slot 1, fails the next Persist (promise 2.1 + accept slot 2)
  // with `fault`, checks the latch, and returns the latched error.
  Status FailOnce(Fault fault) {
    auto store = OpenOrDie(FaultyOptions());
    if (store == nullptr) return Status::Aborted("no store");
    EXPECT_TRUE(store->Persist({PromiseWrite({1, 1}), AcceptWrite(1, {1, 1}, batch1_)}).ok());
    fs_->fault = fault;
    Status failed = store->Persist({PromiseWrite({2, 1}), AcceptWrite(2, {2, 1}, batch2_)});
    EXPECT_FALSE(failed.ok()) << "a write the disk refused was reported durable";
    EXPECT_EQ(failed.code(), Status::Code::kIoError);
    EXPECT_NE(failed.message().find("injected"), std::string::npos) << failed.ToString();
    EXPECT_NE(failed.message().find("refuses every later write"), std::string::npos);
    fs_->fault = Fault::kNone;  // The disk recovers; the store must not.
    EXPECT_EQ(store->failure().message(), failed.message());
    Status later = store->Persist({AcceptWrite(3, {2, 1}, batch2_)});
    EXPECT_FALSE(later.ok()) << "the store acknowledged a write after a failed one";
    EXPECT_EQ(later.message(), failed.message());
    return failed;
  }

  // Reopens with the real file system and returns what survived.
  RecoveredState Reopen() {
    auto store = OpenOrDie(Options(dir_.path()));
    if (store == nullptr) return RecoveredState{};
    Result<RecoveredState> state = store->Recover();
    EXPECT_TRUE(state.ok()) << state.status().ToString();
    return state.ok() ? state.value() : RecoveredState{};
  }

  TempDir dir_;
  std::shared_ptr<FailingFileSystem> fs_;
  std::unique_ptr<rocksdb::Env> env_;
  BatchRef batch1_ = MakeBatch(1, 3, 64);
  BatchRef batch2_ = MakeBatch(2, 3, 64);
};

TEST_F(WriteFailure, FailedWalAppendLatchesAndKeepsEarlierRecords) {
  (void)FailOnce(Fault::kWalAppend);
  RecoveredState state = Reopen();
  EXPECT_EQ(state.promised, (Ballot{1, 1}));
  ASSERT_EQ(state.accepted.size(), 1u) << "the refused write or a later one reached the disk";
  EXPECT_TRUE(SameBatch(state.accepted.at(1).batch, batch1_));
}

TEST_F(WriteFailure, FailedWalSyncLatchesAndKeepsEarlierRecords) {
  (void)FailOnce(Fault::kWalSync);
  RecoveredState state = Reopen();
  // The bytes of the failed call may have reached the file before fdatasync failed: the
  // contract lets them be durable or not, but nothing after the latch, and nothing earlier lost.
  ASSERT_TRUE(state.accepted.count(1));
  EXPECT_TRUE(SameBatch(state.accepted.at(1).batch, batch1_));
  EXPECT_FALSE(state.accepted.count(3)) << "a write after the latch reached the disk";
  EXPECT_GE(state.promised, (Ballot{1, 1}));
}

TEST_F(WriteFailure, ALatchedStoreStillRecoversWhatWasDurable) {
  auto store = OpenOrDie(FaultyOptions());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Persist({PromiseWrite({1, 1}), AcceptWrite(1, {1, 1}, batch1_)}).ok());
  fs_->fault = Fault::kWalAppend;
  EXPECT_FALSE(store->Persist({PromiseWrite({2, 1})}).ok());
  Result<RecoveredState> state = store->Recover();
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(state.value().promised, (Ballot{1, 1}));
  EXPECT_EQ(state.value().accepted.size(), 1u);
}

}  // namespace
}  // namespace synod::storage
