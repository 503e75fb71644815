// synod backup under load, restored into a brand-new 3-node cluster: `synod check` passes there
// and every node starts at the backup's state hash, with every write acknowledged before the
// backup began. Damaged backup files are refused (exit 2) with nothing written.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "ledger/client.h"
#include "node/backup_file.h"
#include "tests/integration/cluster.h"
#include "tests/integration/json_util.h"

namespace synod::integration {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

CliResult Restore(const std::string& file, const std::string& data, NodeId id,
                  const std::string& spec) {
  return RunSynod({"restore", "--from", file, "--data", data, "--id", std::to_string(id),
                   "--cluster", spec, "--json"});
}

TEST(Backup, TakenUnderLoadRestoresIntoANewClusterWithTheSameStateHash) {
  TestCluster source;
  source.StartAll();
  ASSERT_NE(source.WaitForLeader(20000), 0u) << source.DescribeStatus();
  CliResult load;
  std::thread loader([&] {
    load = source.Cli({"load", "--duration", "5", "--accounts", "200", "--clients", "4", "--batch",
                       "100", "--json"},
                      60000);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  // Acknowledged before the backup begins: must be in it.
  CliResult put = source.Cli({"kv", "put", "before-backup", "yes", "--json"});
  ASSERT_EQ(put.exit_code, kOk) << put.Describe();
  const std::string file = source.dir() + "/cluster.backup";
  CliResult backup = source.Cli({"backup", "--out", file, "--json"});
  loader.join();
  ASSERT_EQ(backup.exit_code, kOk) << backup.Describe();
  ASSERT_EQ(load.exit_code, kOk) << load.Describe();
  const json b = backup.First();
  const uint64_t slot = U64(b["slot"]);
  const std::string hash = b.value("state_hash", "");
  std::printf("backup: %s; load: %s\n", b.dump().c_str(), load.First().dump().c_str());
  ASSERT_GT(slot, 0u);
  ASSERT_EQ(hash.size(), 32u);
  EXPECT_EQ(U64(b["bytes"]), fs::file_size(file));
  // The load kept going while the backup was taken: the source moved past the backup's slot.
  ASSERT_TRUE(source.WaitForConvergence(30000)) << source.DescribeStatus();
  EXPECT_GT(source.Status(source.ids()[0])->applied_slot, slot);

  TestCluster restored;
  for (NodeId id : restored.ids()) {
    fs::create_directories(fs::path(restored.DataDir(id)).parent_path());
    CliResult r = Restore(file, restored.DataDir(id), id, restored.spec());
    ASSERT_EQ(r.exit_code, kOk) << r.Describe();
    EXPECT_EQ(U64(r.First()["slot"]), slot);
    EXPECT_EQ(r.First().value("state_hash", ""), hash);
  }
  restored.StartAll();
  ASSERT_NE(restored.WaitForLeader(20000), 0u) << restored.DescribeStatus();
  CliResult status = restored.Cli({"status", "--json"});
  ASSERT_EQ(status.exit_code, kOk) << status.Describe();
  ASSERT_EQ(status.Json().size(), 3u) << status.Describe();
  for (const json& row : status.Json()) {
    EXPECT_EQ(row.value("state_hash", ""), hash) << row;
    EXPECT_EQ(U64(row["applied_slot"]), slot) << row;
    EXPECT_EQ(U64(row["lag"]), 0u) << row;
  }
  CliResult check = restored.Cli({"check", "--json"});
  ASSERT_EQ(check.exit_code, kOk) << check.Describe();
  EXPECT_TRUE(check.First().value("ok", false)) << check.Describe();
  EXPECT_TRUE(check.First().value("state_hash_agree", false)) << check.Describe();
  CliResult get = restored.Cli({"kv", "get", "before-backup", "--json"});
  ASSERT_EQ(get.exit_code, kOk) << get.Describe();
  EXPECT_EQ(get.First().value("value", ""), "yes");
  // The new cluster takes writes after the restored state, and stays consistent.
  CliResult after = restored.Cli({"kv", "put", "after-restore", "1", "--json"});
  ASSERT_EQ(after.exit_code, kOk) << after.Describe();
  check = restored.Cli({"check", "--json"});
  EXPECT_EQ(check.exit_code, kOk) << check.Describe();
  EXPECT_GT(U64(check.First()["applied_slot"]), slot);
}

TEST(Backup, DamagedFilesAreRefusedWithNothingWritten) {
  TestCluster source;
  source.StartAll();
  ASSERT_NE(source.WaitForLeader(20000), 0u) << source.DescribeStatus();
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(source.Cli({"kv", "put", "k" + std::to_string(i), "v"}).exit_code, kOk);
  }
  const std::string file = source.dir() + "/good.backup";
  CliResult backup = source.Cli({"backup", "--out", file});
  ASSERT_EQ(backup.exit_code, kOk) << backup.Describe();
  // backup refuses to overwrite.
  CliResult again = source.Cli({"backup", "--out", file});
  EXPECT_EQ(again.exit_code, kUsage) << again.Describe();
  const std::string good = ReadAll(file);
  ASSERT_GT(good.size(), node::kBackupHeaderBytes + 100);

  // A backup whose checksums are all right but whose state hash is not the data's: only the
  // load-and-hash check can catch it (the planted bug for that checker).
  auto decoded = node::DecodeBackup(good);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  node::Backup wrong_hash = decoded.value();
  wrong_hash.state_hash[0] = wrong_hash.state_hash[0] == '0' ? '1' : '0';

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"bit flip in the data",
       [&] {
         std::string s = good;
         s[s.size() - 100] ^= 0x04;
         return s;
       }()},
      {"bit flip in the slot",
       [&] {
         std::string s = good;
         s[16] ^= 0x01;
         return s;
       }()},
      {"bad magic", "XYNODBAK" + good.substr(8)},
      {"cut short", good.substr(0, good.size() - 1)},
      {"appended to", good + "x"},
      {"header only", good.substr(0, node::kBackupHeaderBytes)},
      {"empty", ""},
      {"wrong state hash", node::EncodeBackup(wrong_hash)},
  };
  const std::string spec = "1=127.0.0.1:1,2=127.0.0.1:2,3=127.0.0.1:3";
  for (const auto& [why, bytes] : bad) {
    const std::string path = source.dir() + "/bad.backup";
    WriteAll(path, bytes);
    const std::string missing = source.dir() + "/restore-missing";
    const std::string empty = source.dir() + "/restore-empty";
    fs::create_directories(empty);
    for (const std::string& data : {missing, empty}) {
      CliResult r = Restore(path, data, 1, spec);
      EXPECT_EQ(r.exit_code, kUsage) << why << ": " << r.Describe();
      EXPECT_NE(r.err.find("--from"), std::string::npos) << why << ": " << r.Describe();
    }
    EXPECT_FALSE(fs::exists(missing)) << why;
    EXPECT_TRUE(fs::is_empty(empty)) << why;
  }
  // The good file restores; a second restore into the same dir is refused, nothing changed.
  const std::string data = source.dir() + "/restore-good";
  ASSERT_EQ(Restore(file, data, 2, spec).exit_code, kOk);
  CliResult twice = Restore(file, data, 2, spec);
  EXPECT_EQ(twice.exit_code, kUsage) << twice.Describe();
  EXPECT_NE(twice.err.find("not empty"), std::string::npos) << twice.Describe();
  // Usage errors name the argument.
  CliResult no_id = Restore(file, source.dir() + "/x", 9, spec);
  EXPECT_EQ(no_id.exit_code, kUsage) << no_id.Describe();
  EXPECT_NE(no_id.err.find("--id 9"), std::string::npos) << no_id.Describe();
  CliResult no_file = Restore(source.dir() + "/nope", source.dir() + "/x", 1, spec);
  EXPECT_EQ(no_file.exit_code, kUsage) << no_file.Describe();
  EXPECT_FALSE(fs::exists(source.dir() + "/x"));
}

}  // namespace
}  // namespace synod::integration
