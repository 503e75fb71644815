#include "test_util.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace synod::storage::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/synod-storage-test-XXXXXX";
  char* made = ::mkdtemp(pattern.data());
  if (made == nullptr) std::abort();
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code error;
  std::filesystem::remove_all(path_, error);
}

double SeedsScale() {
  const char* value = std::getenv("SYNOD_SIM_SEEDS_SCALE");
  if (value == nullptr) return 1.0;
  const double scale = std::atof(value);
  return scale > 0 ? scale : 1.0;
}

uint64_t Scaled(uint64_t count, uint64_t minimum) {
  const auto scaled = static_cast<uint64_t>(static_cast<double>(count) * SeedsScale());
  return scaled < minimum ? minimum : scaled;
}

StoreOptions Options(const std::string& dir, uint64_t cluster_id, NodeId node_id) {
  StoreOptions options;
  options.data_dir = dir;
  options.cluster_id = cluster_id;
  options.node_id = node_id;
  return options;
}

std::unique_ptr<RocksLogStore> OpenOrDie(const StoreOptions& options) {
  Result<std::unique_ptr<RocksLogStore>> store = RocksLogStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return nullptr;
  return std::move(store.value());
}

BatchRef MakeBatch(uint64_t seed, size_t commands, size_t payload_bytes) {
  auto batch = std::make_shared<Batch>();
  batch->timestamp_ns = seed * 1000 + 17;
  batch->commands.reserve(commands);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < commands; ++i) {
    Command command;
    command.client_id = seed;
    command.request_id = i + 1;
    command.payload.resize(payload_bytes);
    for (char& c : command.payload) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;  // xorshift64
      c = static_cast<char>(x);
    }
    batch->commands.push_back(std::move(command));
  }
  return batch;
}

DurableWrite JoinedWrite() {
  DurableWrite write;
  write.kind = DurableWrite::Kind::kJoined;
  return write;
}

DurableWrite PromiseWrite(Ballot ballot) {
  DurableWrite write;
  write.kind = DurableWrite::Kind::kPromise;
  write.ballot = ballot;
  return write;
}

DurableWrite AcceptWrite(Slot slot, Ballot ballot, BatchRef batch) {
  DurableWrite write;
  write.kind = DurableWrite::Kind::kAccept;
  write.slot = slot;
  write.ballot = ballot;
  write.batch = std::move(batch);
  return write;
}

DurableWrite DecideWrite(Slot slot, BatchRef batch) {
  DurableWrite write;
  write.kind = DurableWrite::Kind::kDecide;
  write.slot = slot;
  write.batch = std::move(batch);
  return write;
}

DurableWrite SnapshotWrite(Slot slot, std::string data) {
  DurableWrite write;
  write.kind = DurableWrite::Kind::kSnapshot;
  write.snapshot = Snapshot{slot, std::make_shared<const std::string>(std::move(data))};
  return write;
}

DurableWrite CompactWrite(Slot slot) {
  DurableWrite write;
  write.kind = DurableWrite::Kind::kCompact;
  write.slot = slot;
  return write;
}

std::map<std::string, std::string> DirContents(const std::string& dir) {
  std::map<std::string, std::string> contents;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    contents[std::filesystem::relative(entry.path(), dir).string()] = bytes.str();
  }
  return contents;
}

size_t CountKeys(RocksLogStore* store, std::string_view family) {
  std::unique_ptr<rocksdb::Iterator> it(
      store->db()->NewIterator(rocksdb::ReadOptions(), store->ColumnFamily(family)));
  size_t count = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++count;
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return count;
}

}  // namespace synod::storage::testing
