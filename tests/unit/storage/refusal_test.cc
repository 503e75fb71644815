// Every refusal of RocksLogStore::Open: the Status names the problem, and the data dir is left
// byte for byte as it was (compared file by file before and after the refused open).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include "child_process.h"
#include "crash_protocol.h"
#include "storage/database.h"
#include "test_util.h"

namespace synod::storage {
namespace {

using testing::DirContents;
using testing::MakeBatch;
using testing::OpenOrDie;
using testing::Options;
using testing::TempDir;

class Refusal : public ::testing::Test {
 protected:
  // A data dir of cluster 7, node 1 with records in every consensus family, flushed to SST
  // files so that there is an SST to corrupt.
  void SetUp() override {
    auto store = OpenOrDie(Options(dir_.path()));
    ASSERT_NE(store, nullptr);
    std::vector<DurableWrite> writes = {testing::JoinedWrite(), testing::PromiseWrite({2, 1})};
    for (Slot slot = 1; slot <= 50; ++slot) {
      writes.push_back(testing::AcceptWrite(slot, {2, 1}, MakeBatch(slot, 4, 100)));
      writes.push_back(testing::DecideWrite(slot, MakeBatch(slot, 4, 100)));
    }
    writes.push_back(testing::SnapshotWrite(10, "state"));
    ASSERT_TRUE(store->Persist(writes).ok());
    rocksdb::FlushOptions flush;
    for (std::string_view family : kAllFamilies) {
      ASSERT_TRUE(store->db()->Flush(flush, store->ColumnFamily(family)).ok());
    }
  }

  // Opens with `options`, expects a refusal of `code` whose message contains `needle`, and an
  // unchanged data dir.
  void ExpectRefused(const StoreOptions& options, Status::Code code, const std::string& needle) {
    const auto before = DirContents(dir_.path());
    Result<std::unique_ptr<RocksLogStore>> store = RocksLogStore::Open(options);
    ASSERT_FALSE(store.ok()) << "opened a data dir that should be refused";
    EXPECT_EQ(store.status().code(), code) << store.status().ToString();
    EXPECT_NE(store.status().message().find(needle), std::string::npos)
        << "message does not name the problem (" << needle << "): " << store.status().ToString();
    EXPECT_NE(store.status().message().find(dir_.path()), std::string::npos)
        << "message does not name the data dir: " << store.status().ToString();
    EXPECT_TRUE(DirContents(dir_.path()) == before) << "the refused open changed the data dir";
  }

  // Rewrites the node metadata record behind the store's back (as a newer build might).
  void RewriteMeta(const NodeMeta& meta) {
    rocksdb::DBOptions options = MakeDbOptions(nullptr);
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (std::string_view name : kAllFamilies)
      families.emplace_back(std::string(name), MakeFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir_.Sub("db"), families, &handles, &db).ok());
    rocksdb::WriteOptions write;
    write.sync = true;
    EXPECT_TRUE(db->Put(write, handles[1], NodeMetaKey(), EncodeNodeMeta(meta)).ok());
    for (auto* handle : handles) EXPECT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
    EXPECT_TRUE(db->Close().ok());
    delete db;
  }

  // Overwrites up to 64 bytes in the middle of the largest file of DIR/db whose name starts
  // with `prefix` and ends with `suffix`.
  void Scribble(const std::string& prefix, const std::string& suffix) {
    std::filesystem::path victim;
    uintmax_t victim_size = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir_.Sub("db"))) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(prefix, 0) != 0 || !name.ends_with(suffix)) continue;
      if (entry.file_size() > victim_size) victim = entry.path(), victim_size = entry.file_size();
    }
    ASSERT_FALSE(victim.empty()) << "no file " << prefix << "*" << suffix;
    std::fstream file(victim, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(victim_size / 2));
    const std::string junk(std::min<uintmax_t>(victim_size / 4 + 1, 64), '\xA5');
    file.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    ASSERT_TRUE(file.good());
  }

  TempDir dir_;
};

TEST_F(Refusal, RefusesADataDirOfAnotherCluster) {
  ExpectRefused(Options(dir_.path(), testing::kCluster + 1), Status::Code::kInvalidArgument,
                "belongs to cluster id 7, not cluster id 8");
}

TEST_F(Refusal, RefusesADataDirOfAnotherNode) {
  ExpectRefused(Options(dir_.path(), testing::kCluster, 2), Status::Code::kInvalidArgument,
                "belongs to node id 1, not node id 2");
}

TEST_F(Refusal, RefusesANewerFormatVersion) {
  RewriteMeta(NodeMeta{kFormatVersion + 1, testing::kCluster, testing::kNode, 1});
  ExpectRefused(Options(dir_.path()), Status::Code::kInvalidArgument,
                "has format version 2, newer than");
}

TEST_F(Refusal, RefusesAnUnknownFormatVersion) {
  RewriteMeta(NodeMeta{0, testing::kCluster, testing::kNode, 1});
  ExpectRefused(Options(dir_.path()), Status::Code::kInvalidArgument, "unknown format version 0");
}

TEST_F(Refusal, RefusesACorruptedSstFile) {
  Scribble("", ".sst");
  ExpectRefused(Options(dir_.path()), Status::Code::kCorruption, "corrupted database");
}

TEST_F(Refusal, RefusesACorruptedManifest) {
  Scribble("MANIFEST-", "");
  ExpectRefused(Options(dir_.path()), Status::Code::kCorruption, "corrupted database");
}

TEST_F(Refusal, RefusesACorruptedCurrentFile) {
  std::ofstream(dir_.Sub("db/CURRENT"), std::ios::trunc) << "MANIFEST-99999";  // No newline.
  ExpectRefused(Options(dir_.path()), Status::Code::kCorruption, "corrupted database");
}

TEST_F(Refusal, RefusesADatabaseWithoutItsCurrentFile) {
  std::filesystem::remove(dir_.Sub("db/CURRENT"));
  ExpectRefused(Options(dir_.path()), Status::Code::kCorruption, "corrupted database");
}

TEST(RefusalOfForeignDir, RefusesADirectoryWithFilesButNoDatabase) {
  TempDir dir;
  std::ofstream(dir.Sub("notes.txt")) << "not a database";
  const auto before = DirContents(dir.path());
  Result<std::unique_ptr<RocksLogStore>> store = RocksLogStore::Open(Options(dir.path()));
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("not a Synod data dir"), std::string::npos)
      << store.status().ToString();
  EXPECT_TRUE(DirContents(dir.path()) == before);
}

TEST(RefusalOfForeignDir, RefusesAFileInPlaceOfTheDataDir) {
  TempDir dir;
  std::ofstream(dir.Sub("file")) << "x";
  Result<std::unique_ptr<RocksLogStore>> store = RocksLogStore::Open(Options(dir.Sub("file")));
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("is not a directory"), std::string::npos)
      << store.status().ToString();
}

TEST(Creation, ALeftoverHalfCreatedDatabaseIsReplacedOnOpen) {
  TempDir dir;
  std::filesystem::create_directories(dir.Sub("db.creating"));
  std::ofstream(dir.Sub("db.creating/CURRENT")) << "MANIFEST-000001\n";
  auto store = OpenOrDie(Options(dir.path()));
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("db.creating")));
  EXPECT_TRUE(std::filesystem::exists(dir.Sub("db/CURRENT")));
}

TEST_F(Refusal, RefusesASecondOpenerInTheSameProcess) {
  auto first = OpenOrDie(Options(dir_.path()));
  ASSERT_NE(first, nullptr);
  ExpectRefused(Options(dir_.path()), Status::Code::kBusy, "is in use by another process");
  EXPECT_TRUE(first->Persist({testing::PromiseWrite({3, 1})}).ok());  // The first is unharmed.
}

TEST_F(Refusal, RefusesASecondProcess) {
  auto first = OpenOrDie(Options(dir_.path()));
  ASSERT_NE(first, nullptr);
  const auto before = DirContents(dir_.path());
  testing::ChildProcess child({SYNOD_CRASH_CHILD, "open", dir_.path(),
                               std::to_string(testing::kCluster), std::to_string(testing::kNode)});
  ASSERT_TRUE(child.started());
  std::vector<std::string> lines;
  const int status = child.WaitForExit(&lines);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), testing::kRefusedExit);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("is in use by another process"), std::string::npos) << lines[0];
  EXPECT_TRUE(DirContents(dir_.path()) == before);
}

TEST_F(Refusal, ASecondProcessOpensOnceTheFirstIsClosed) {
  testing::ChildProcess child({SYNOD_CRASH_CHILD, "open", dir_.path(),
                               std::to_string(testing::kCluster), std::to_string(testing::kNode)});
  ASSERT_TRUE(child.started());
  std::vector<std::string> lines;
  const int status = child.WaitForExit(&lines);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << (lines.empty() ? "" : lines[0]);
}

// After a membership change the --cluster spec no longer hashes to the id a data dir was
// made with: the node opens it adopting the stored id (it checks the rest itself, node.cc).
TEST_F(Refusal, AdoptingTheClusterIdOpensADataDirOfAnotherIdButNotOfAnotherNode) {
  StoreOptions adopt = Options(dir_.path(), 99);
  adopt.adopt_cluster_id = true;
  {
    auto store = OpenOrDie(adopt);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->meta().cluster_id, testing::kCluster);  // The stored id, not 99.
    ASSERT_TRUE(store->Recover().ok());
  }
  adopt.node_id = testing::kNode + 1;
  ExpectRefused(adopt, Status::Code::kInvalidArgument, "node id");
}

TEST_F(Refusal, TheRightIdentityStillOpensAfterARefusal) {
  ExpectRefused(Options(dir_.path(), 99), Status::Code::kInvalidArgument, "cluster id");
  auto store = OpenOrDie(Options(dir_.path()));
  ASSERT_NE(store, nullptr);
  Result<RecoveredState> state = store->Recover();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state.value().accepted.size(), 50u);
}

}  // namespace
}  // namespace synod::storage
