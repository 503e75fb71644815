// Restore: turns a verified backup (node/backup_file.h) into the data dir of one node of a new
// cluster, through the storage API the node itself uses: one synced Persist of {kJoined,
// kSnapshot(slot, blob)} (so the node starts as a member whose log begins after the snapshot),
// then the snapshot installed into the ledger tables, whose state hash is checked against the
// backup's. The new cluster's nodes elect a leader as after a restart and continue at slot + 1.
//
// The data dir must be missing or empty; a failure removes what this call created. Not
// thread-safe (one call at a time per data dir; the store's lock refuses a second opener).
#pragma once

#include <string>

#include "net/cluster_spec.h"
#include "node/backup_file.h"
#include "paxos/status.h"

namespace synod::node {

struct RestoreOptions {
  std::string data_dir;
  NodeId id = 0;
  net::ClusterSpec cluster;  // The NEW cluster; the data dir is bound to its cluster id.
};

// REQUIRES: VerifyBackup(backup) returned ok. InvalidArgument if the dir is not empty or the
// id is not in the cluster; the storage error otherwise.
Status RestoreDataDir(const Backup& backup, const RestoreOptions& options);

}  // namespace synod::node
