// `synod backup` (a consistent snapshot of a running cluster into a file) and `synod restore`
// (a data dir for one node of a new cluster from that file). File format: node/backup_file.h.
#include <chrono>
#include <filesystem>
#include <thread>

#include "client/client.h"
#include "node/backup_file.h"
#include "node/backup_source.h"
#include "node/restore.h"
#include "tools/commands.h"
#include "tools/common.h"

namespace synod::tools {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct BackupFlags {
  ClientFlags client;
  std::string out;
};

struct RestoreFlags {
  std::string from;
  std::string data;
  uint32_t id = 0;
  std::string cluster;
  bool json = false;
};

// The node to take the backup from: the leader if it answers, else the most advanced node;
// and the slot the backup must reach: the highest decided slot any node reported, so that
// every write acknowledged before the backup began is in it.
bool ChooseSource(const std::vector<NodeView>& views, NodeId* node, Slot* min_slot) {
  const NodeView* best = nullptr;
  *min_slot = 0;
  for (const NodeView& v : views) {
    if (!v.up || v.report.role == "learner") continue;
    *min_slot = std::max(*min_slot, v.report.decided_slot);
    const bool better =
        best == nullptr || (v.report.role == "leader") ||
        (best->report.role != "leader" && v.report.applied_slot > best->report.applied_slot);
    if (better) best = &v;
  }
  if (best == nullptr) return false;
  *node = best->address.id;
  *min_slot = std::max<Slot>(*min_slot, 1);
  return true;
}

// Fetches the backup blob at a slot >= min_slot from `node`, chunk by chunk, until the
// deadline. Restarts when the node replaced the backup meanwhile.
Result<node::Backup> Fetch(client::Client& c, NodeId node, Slot min_slot,
                           Clock::time_point deadline) {
  auto left_ms = [&] {
    return static_cast<int>(std::max<int64_t>(
        100,
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count()));
  };
  node::Backup b;
  while (Clock::now() < deadline) {
    auto first = c.FetchSnapshot(node, SnapshotFetchMsg{node::kBackupLatest, min_slot},
                                 std::min(2000, left_ms()));
    if (!first.ok()) return first.status();
    if (first.value().slot == node::kBackupLatest) {  // Being made.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    const uint64_t total = first.value().total;
    if (total > node::kBackupBlobBytesMax) {
      return Status::InvalidArgument("the snapshot is " + std::to_string(total) +
                                     " bytes, above the " +
                                     std::to_string(node::kBackupBlobBytesMax) + " a backup holds");
    }
    b.slot = first.value().slot;
    b.blob = std::move(first.value().data);
    while (b.blob.size() < total && Clock::now() < deadline) {
      auto next =
          c.FetchSnapshot(node, SnapshotFetchMsg{b.slot, b.blob.size()}, std::min(2000, left_ms()));
      if (!next.ok()) return next.status();
      if (next.value().total != total || next.value().data.empty()) break;  // Replaced.
      b.blob += next.value().data;
    }
    if (b.blob.size() == total) return b;
  }
  return Status::IoError("no complete backup from node " + std::to_string(node) +
                         " before the timeout");
}

int RunBackup(const BackupFlags& f) {
  std::error_code ec;
  if (f.out.empty()) return Fail(kExitUsage, "--out is empty: name the backup file to write");
  if (f.out.back() == '/') return Fail(kExitUsage, "--out " + f.out + " names a directory");
  if (fs::exists(f.out, ec)) return Fail(kExitUsage, "--out " + f.out + " already exists");
  const fs::path parent = fs::path(f.out).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, ec)) {
    return Fail(kExitUsage, "--out " + f.out + ": directory " + parent.string() + " not found");
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(f.client.timeout_ms);
  std::vector<NodeView> views;
  int rc = 0;
  if (!QueryAll(f.client, false, &views, &rc)) return rc;
  NodeId node = 0;
  Slot min_slot = 0;
  if (!ChooseSource(views, &node, &min_slot)) {
    return Fail(kExitFailure, "no member of the cluster answered");
  }
  client::ClientOptions o;
  if (!ResolveClient(f.client, &o.cluster, &o.security)) return kExitUsage;
  auto c = client::Client::Connect(o);
  if (!c.ok()) return Fail(kExitFailure, c.status().message());
  auto backup = Fetch(*c.value(), node, min_slot, deadline);
  if (!backup.ok()) return Fail(kExitFailure, "backup failed: " + backup.status().message());
  // The hash the ledger itself computes from the records: this also proves the blob loads.
  auto hash = node::SnapshotBlobHash(backup.value().slot, backup.value().blob);
  if (!hash.ok()) {
    return Fail(kExitFailure,
                "node " + std::to_string(node) +
                    " sent a snapshot that does not load: " + hash.status().message());
  }
  backup.value().state_hash = hash.value();
  const std::string bytes = node::EncodeBackup(backup.value());
  if (Status s = node::WriteFileDurably(f.out, bytes); !s.ok()) {
    return Fail(kExitFailure, "cannot write the backup: " + s.message());
  }
  nlohmann::json j = {{"file", f.out},
                      {"slot", backup.value().slot},
                      {"state_hash", hash.value()},
                      {"bytes", bytes.size()},
                      {"node", node}};
  Print(f.client, j,
        "backup of slot " + std::to_string(backup.value().slot) + " from node " +
            std::to_string(node) + " written to " + f.out + " (" + std::to_string(bytes.size()) +
            " bytes, state hash " + hash.value() + ")");
  return kExitOk;
}

int RunRestore(const RestoreFlags& f) {
  auto spec = net::ClusterSpec::Parse(f.cluster);
  if (!spec.ok()) return Fail(kExitUsage, "--cluster: " + spec.status().message());
  if (spec.value().Find(f.id) == nullptr) {
    return Fail(kExitUsage, "--id " + std::to_string(f.id) + " is not in the cluster " +
                                spec.value().ToString());
  }
  // Everything is checked before anything is written.
  auto bytes = node::ReadWholeFile(f.from, node::kBackupHeaderBytes + node::kBackupBlobBytesMax);
  if (!bytes.ok()) return Fail(kExitUsage, "--from: " + bytes.status().message());
  auto backup = node::DecodeBackup(bytes.value());
  if (!backup.ok()) return Fail(kExitUsage, "--from " + f.from + ": " + backup.status().message());
  if (Status s = node::VerifyBackup(backup.value()); !s.ok()) {
    return Fail(kExitUsage, "--from " + f.from + ": " + s.message());
  }
  node::RestoreOptions o{f.data, f.id, spec.value()};
  if (Status s = node::RestoreDataDir(backup.value(), o); !s.ok()) {
    const bool usage = s.code() == Status::Code::kInvalidArgument;
    return Fail(usage ? kExitUsage : kExitFailure, "--data " + f.data + ": " + s.message());
  }
  ClientFlags print;
  print.json = f.json;
  nlohmann::json j = {{"data", f.data},
                      {"id", f.id},
                      {"cluster", spec.value().ToString()},
                      {"slot", backup.value().slot},
                      {"state_hash", backup.value().state_hash}};
  Print(print, j,
        "restored slot " + std::to_string(backup.value().slot) + " (state hash " +
            backup.value().state_hash + ") into " + f.data + " for node " + std::to_string(f.id) +
            " of " + spec.value().ToString());
  return kExitOk;
}

}  // namespace

void AddBackupCommands(CLI::App& app, int* rc) {
  auto bf = std::make_shared<BackupFlags>();
  bf->client.timeout_ms = 60000;
  CLI::App* backup =
      app.add_subcommand("backup", "Write a consistent snapshot of the running cluster to a file");
  AddClientFlags(backup, &bf->client);
  backup->add_option("--out", bf->out, "Backup file to create (must not exist)")->required();
  backup->callback([bf, rc] { *rc = RunBackup(*bf); });

  auto rf = std::make_shared<RestoreFlags>();
  CLI::App* restore = app.add_subcommand(
      "restore", "Create the data dir of one node of a new cluster from a backup file");
  restore->add_option("--from", rf->from, "Backup file written by `synod backup`")->required();
  restore->add_option("--data", rf->data, "Data dir to create (missing or empty)")->required();
  restore->add_option("--id", rf->id, "This node's id in the new cluster")
      ->required()
      ->check(CLI::Range(1, 65535));
  restore->add_option("--cluster", rf->cluster, "The NEW cluster as ID=HOST:PORT,...")
      ->required()
      ->check(NonEmptySpec());
  restore->add_flag("--json", rf->json, "One JSON object on stdout");
  restore->callback([rf, rc] { *rc = RunRestore(*rf); });
}

}  // namespace synod::tools
