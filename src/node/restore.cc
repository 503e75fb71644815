#include "node/restore.h"

#include <filesystem>

#include "node/ledger_app.h"
#include "node/node.h"
#include "node/snapshot_files.h"
#include "storage/rocks_log_store.h"

namespace synod::node {
namespace {

namespace fs = std::filesystem;

Status Populate(const Backup& backup, const RestoreOptions& o) {
  storage::StoreOptions so;
  so.data_dir = o.data_dir;
  so.cluster_id = ClusterIdOf(o.cluster);
  so.node_id = o.id;
  auto store = storage::RocksLogStore::Open(so);
  if (!store.ok()) return store.status();
  auto snapshot_data = std::make_shared<const std::string>(backup.blob);
  std::vector<DurableWrite> writes(2);
  writes[0].kind = DurableWrite::Kind::kJoined;
  writes[1].kind = DurableWrite::Kind::kSnapshot;
  writes[1].snapshot = Snapshot{backup.slot, snapshot_data};
  if (Status s = store.value()->Persist(writes); !s.ok()) return s;
  LedgerApp app(store.value().get());
  if (Status s =
          app.Install(backup.slot, [&](const auto& add) { return ForEachChunk(backup.blob, add); });
      !s.ok()) {
    return s;
  }
  if (app.StateHash() != backup.state_hash) {
    return Status::Corruption("restored ledger has state hash " + app.StateHash() +
                              ", not the backup's " + backup.state_hash);
  }
  return Status::Ok();
}

}  // namespace

Status RestoreDataDir(const Backup& backup, const RestoreOptions& o) {
  if (o.cluster.Find(o.id) == nullptr) {
    return Status::InvalidArgument("node id " + std::to_string(o.id) + " is not in the cluster " +
                                   o.cluster.ToString());
  }
  std::error_code ec;
  const bool existed = fs::exists(o.data_dir, ec);
  if (existed && (!fs::is_directory(o.data_dir, ec) || !fs::is_empty(o.data_dir, ec))) {
    return Status::InvalidArgument("data dir " + o.data_dir +
                                   " is not empty; restore only creates new data dirs");
  }
  Status s = Populate(backup, o);
  if (!s.ok()) {
    // Leave no half-restored dir behind (the store is closed by now).
    if (existed) {
      for (const auto& entry : fs::directory_iterator(o.data_dir, ec)) fs::remove_all(entry, ec);
    } else {
      fs::remove_all(o.data_dir, ec);
    }
    return s;
  }
  fs::permissions(o.data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  return Status::Ok();
}

}  // namespace synod::node
