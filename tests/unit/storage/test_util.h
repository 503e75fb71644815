// Helpers shared by the storage tests: temporary data dirs, durable-write builders,
// deterministic batches, and a byte-exact picture of a directory for "nothing changed" checks.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "paxos/types.h"
#include "storage/rocks_log_store.h"

namespace synod::storage::testing {

// A fresh directory under $TMPDIR (default /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// SYNOD_SIM_SEEDS_SCALE (the ASan pass sets it below 1), default 1; iteration counts scale by it.
double SeedsScale();
uint64_t Scaled(uint64_t count, uint64_t minimum);

inline constexpr uint64_t kCluster = 7;
inline constexpr NodeId kNode = 1;
StoreOptions Options(const std::string& dir, uint64_t cluster_id = kCluster,
                     NodeId node_id = kNode);
// Opens the store or fails the calling test with the status (returns null then).
std::unique_ptr<RocksLogStore> OpenOrDie(const StoreOptions& options);

// A batch whose content is a function of (seed, commands, payload_bytes) only.
BatchRef MakeBatch(uint64_t seed, size_t commands, size_t payload_bytes);

DurableWrite JoinedWrite();
DurableWrite PromiseWrite(Ballot ballot);
DurableWrite AcceptWrite(Slot slot, Ballot ballot, BatchRef batch);
DurableWrite DecideWrite(Slot slot, BatchRef batch);
DurableWrite SnapshotWrite(Slot slot, std::string data);
DurableWrite CompactWrite(Slot slot);

// Every regular file under `dir` (relative path -> contents).
std::map<std::string, std::string> DirContents(const std::string& dir);

// Number of live keys in a column family of an open store.
size_t CountKeys(RocksLogStore* store, std::string_view family);

}  // namespace synod::storage::testing
