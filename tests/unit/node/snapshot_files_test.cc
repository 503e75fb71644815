// Snapshot references and files (node/snapshot_files.h): what a node keeps in Snapshot::data,
// and the chunk files peers fetch. Bad references and damaged files are refused with errors
// naming what is wrong.
#include "node/snapshot_files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "ledger/client.h"
#include "ledger/memory_tables.h"
#include "node/ledger_app.h"

namespace synod::node {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "synod-snapfiles-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A ledger with some KV entries, applied through `slots` slots.
std::unique_ptr<ledger::StateMachine> SomeLedger(ledger::MemoryTables* tables, Slot slots) {
  auto sm = ledger::StateMachine::Open(tables);
  EXPECT_TRUE(sm.ok());
  for (Slot slot = 1; slot <= slots; ++slot) {
    Batch batch;
    batch.timestamp_ns = slot;
    for (int i = 0; i < 50; ++i) {
      batch.commands.push_back(
          {1, slot * 100 + static_cast<uint64_t>(i),
           ledger::EncodeKvPut("key/" + std::to_string(slot * 100 + i), std::string(3000, 'v'))});
    }
    EXPECT_TRUE(sm.value()->Apply(slot, batch).ok());
  }
  return std::move(sm.value());
}

TEST(SnapshotRef, RoundTripsAndTellsBlobsApart) {
  auto in_tables = ParseRef(InTablesRef());
  ASSERT_TRUE(in_tables.ok());
  EXPECT_EQ(in_tables.value().kind, SnapshotRef::Kind::kInTables);
  auto file = ParseRef(FileRef(ReceivedFileName(42), 12345));
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file.value().kind, SnapshotRef::Kind::kFile);
  EXPECT_EQ(file.value().file, "recv-42.snap");
  EXPECT_EQ(file.value().bytes, 12345u);
  // A blob starts with its first chunk's 8-byte length.
  std::string blob(8, '\0');
  blob[1] = 1;
  auto b = ParseRef(blob);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b.value().kind, SnapshotRef::Kind::kBlob);
}

TEST(SnapshotRef, MalformedReferencesAreRefused) {
  const std::string magic(kRefMagic);
  for (const std::string& bad :
       {magic, magic + "in-tables ", magic + "file", magic + "file recv-1.snap",
        magic + "file ../etc/passwd 10", magic + "file recv-1.snap 12x",
        magic + "file recv-1.snap 99999999999999999999", magic + "file /abs 1",
        magic + "file recv-1.snap -1"}) {
    auto r = ParseRef(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().ToString().find("malformed"), std::string::npos) << r.status().ToString();
  }
}

TEST(SnapshotFiles, AFileInstallsTheSameStateAsTheStream) {
  TempDir dir;
  ledger::MemoryTables source;
  auto sm = SomeLedger(&source, 30);  // About 4.5 MB: several chunks.
  auto stream = sm->NewSnapshot();
  ASSERT_TRUE(stream.ok());
  const std::string path = dir.path() + "/" + ServedFileName(30);
  auto bytes = WriteSnapshotFile(stream.value().get(), path);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(bytes.value(), fs::file_size(path));
  auto file = SnapshotFile::Open(path);
  ASSERT_TRUE(file.ok());
  // Readable after unlink, through the open descriptor (a fetch under way).
  fs::remove(path);
  int chunks = 0;
  ledger::MemoryTables target;
  auto installed = InstallChunks(&target, 30, [&](const auto& add) {
    return ForEachChunk(*file.value(), [&](std::string_view c) {
      ++chunks;
      return add(c);
    });
  });
  ASSERT_TRUE(installed.ok()) << installed.status().ToString();
  EXPECT_GT(chunks, 3);
  EXPECT_EQ(installed.value()->StateHash().ToHex(), sm->StateHash().ToHex());
  EXPECT_EQ(installed.value()->applied_slot(), 30u);
}

TEST(SnapshotFiles, DamagedFilesAreRefused) {
  TempDir dir;
  ledger::MemoryTables source;
  auto sm = SomeLedger(&source, 10);
  auto stream = sm->NewSnapshot();
  ASSERT_TRUE(stream.ok());
  const std::string path = dir.path() + "/whole.snap";
  auto bytes = WriteSnapshotFile(stream.value().get(), path);
  ASSERT_TRUE(bytes.ok());
  std::string whole;
  {
    std::ifstream in(path, std::ios::binary);
    whole.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto install = [&](const std::string& content) {
    const std::string p = dir.path() + "/damaged.snap";
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
    auto file = SnapshotFile::Open(p);
    EXPECT_TRUE(file.ok());
    ledger::MemoryTables target;
    return InstallChunks(&target, 10,
                         [&](const auto& add) { return ForEachChunk(*file.value(), add); })
        .status();
  };
  // Cut short: in a length prefix, and in a chunk.
  Status s = install(whole.substr(0, whole.size() - 3));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("cut short"), std::string::npos) << s.ToString();
  s = install(whole.substr(0, 4));
  EXPECT_NE(s.ToString().find("cut short"), std::string::npos) << s.ToString();
  // An impossible length.
  std::string huge = whole;
  huge[7] = '\x7f';
  s = install(huge);
  EXPECT_NE(s.ToString().find("damaged"), std::string::npos) << s.ToString();
  // A flipped byte inside a chunk: the chunk's own checks or the hashes catch it.
  std::string flipped = whole;
  flipped[whole.size() / 2] ^= 0x20;
  EXPECT_FALSE(install(flipped).ok());
  // Complete chunks, but of another slot than the one announced.
  ledger::MemoryTables target;
  auto file = SnapshotFile::Open(path);
  ASSERT_TRUE(file.ok());
  s = InstallChunks(&target, 11, [&](const auto& add) {
        return ForEachChunk(*file.value(), add);
      }).status();
  EXPECT_NE(s.ToString().find("holds slot 10, expected 11"), std::string::npos) << s.ToString();
  // The whole file still installs.
  EXPECT_TRUE(install(whole).ok());
}

TEST(SnapshotFiles, AReceivedFileIsWrittenInPieces) {
  TempDir dir;
  const std::string path = SnapshotsDir(dir.path()) + "/" + ReceivedFileName(7);
  auto writer = SnapshotFileWriter::Create(path);  // Makes the snapshots dir.
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE(writer.value()->Append("abc").ok());
  ASSERT_TRUE(writer.value()->Append("defg").ok());
  ASSERT_TRUE(writer.value()->Finish().ok());
  EXPECT_EQ(writer.value()->size(), 7u);
  auto file = SnapshotFile::Open(path);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file.value()->Read(2, 3).value(), "cde");
  EXPECT_EQ(file.value()->Read(5, 100).value(), "fg");
  EXPECT_EQ(file.value()->Read(7, 100).value(), "");
  auto missing = SnapshotFile::Open(dir.path() + "/nope.snap");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().ToString().find("nope.snap"), std::string::npos);
}

}  // namespace
}  // namespace synod::node
