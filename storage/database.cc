#include "storage/database.h"

#include <rocksdb/table.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "paxos/check.h"
#include "storage/data_dir.h"
#include "storage/ledger/rocksdb_ledger_tables.h"

namespace synod::storage {
namespace {

// RocksDB's info log, sent to spdlog instead of a LOG file in the data dir: warnings and errors
// only, and no file is written, which keeps a read-only open (and so a refusal) off the disk.
class SpdlogLogger final : public rocksdb::Logger {
 public:
  SpdlogLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char line[1024];
    std::vsnprintf(line, sizeof(line), format, ap);
    // DB::VerifyChecksum (run on every open) reads each SST through a table reader that has no
    // unique id to compare, and says so once per process; expected, not worth a warning.
    if (std::strstr(line, "opened without unique ID to verify") != nullptr) return;
    spdlog::warn("rocksdb: {}", line);
  }
};

// Closes a database and its handles; used for the read-only check and by ~Database.
void CloseDb(rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*>* handles) {
  if (db == nullptr) return;
  for (rocksdb::ColumnFamilyHandle* handle : *handles) {
    rocksdb::Status status = db->DestroyColumnFamilyHandle(handle);
    if (!status.ok()) spdlog::warn("storage: closing a column family: {}", status.ToString());
  }
  handles->clear();
  rocksdb::Status status = db->Close();
  if (!status.ok()) spdlog::warn("storage: closing the database: {}", status.ToString());
}

bool IsKnownFamily(const std::string& name) {
  for (std::string_view known : kAllFamilies) {
    if (known == name) return true;
  }
  return false;
}

Status Unreadable(const std::string& dir, const rocksdb::Status& status) {
  return Status::Corruption("data dir " + dir +
                            " holds an unreadable or corrupted database: " + status.ToString());
}

// The identity checks, in order: format version first (a newer format may move anything else).
Status CheckMeta(const NodeMeta& meta, const std::string& dir, uint64_t cluster_id,
                 NodeId node_id) {
  const std::string where = "data dir " + dir;
  if (meta.format_version == 0) {
    return Status::InvalidArgument(where + " has unknown format version 0");
  }
  if (meta.format_version > kFormatVersion) {
    return Status::InvalidArgument(
        where + " has format version " + std::to_string(meta.format_version) +
        ", newer than the newest this build reads (" + std::to_string(kFormatVersion) + ")");
  }
  if (cluster_id != kAnyClusterId && meta.cluster_id != cluster_id) {
    return Status::InvalidArgument(where + " belongs to cluster id " +
                                   std::to_string(meta.cluster_id) + ", not cluster id " +
                                   std::to_string(cluster_id));
  }
  if (meta.node_id != node_id) {
    return Status::InvalidArgument(where + " belongs to node id " + std::to_string(meta.node_id) +
                                   ", not node id " + std::to_string(node_id));
  }
  return Status::Ok();
}

Result<NodeMeta> ReadMeta(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
                          const std::string& dir) {
  std::string value;
  rocksdb::ReadOptions read;
  read.verify_checksums = true;
  rocksdb::Status status = db->Get(read, family, NodeMetaKey(), &value);
  if (status.IsNotFound()) {
    return Status::Corruption("data dir " + dir +
                              " has no node metadata record (creation interrupted?)");
  }
  if (!status.ok()) return Unreadable(dir, status);
  Result<NodeMeta> meta = DecodeNodeMeta(value);
  if (!meta.ok()) return Status::Corruption("data dir " + dir + ": " + meta.status().message());
  return meta;
}

// The set of families must be exactly the format's (after the version check passed).
Status CheckFamilies(const std::vector<std::string>& names, const std::string& dir) {
  for (const std::string& name : names) {
    if (!IsKnownFamily(name)) {
      return Status::Corruption("data dir " + dir + " has unknown column family '" + name + "'");
    }
  }
  for (std::string_view known : kAllFamilies) {
    if (std::find(names.begin(), names.end(), known) == names.end()) {
      return Status::Corruption("data dir " + dir + " lacks column family '" + std::string(known) +
                                "'");
    }
  }
  return Status::Ok();
}

// Opens `dir` read-only and runs every check of OpenExisting; writes nothing.
Result<NodeMeta> CheckReadOnly(const std::string& dir, rocksdb::Env* env, uint64_t cluster_id,
                               NodeId node_id, bool verify_checksums) {
  rocksdb::DBOptions options = MakeDbOptions(env);
  std::vector<std::string> names;
  rocksdb::Status status = rocksdb::DB::ListColumnFamilies(options, dir, &names);
  if (!status.ok()) return Unreadable(dir, status);
  if (std::find(names.begin(), names.end(), kMetaFamily) == names.end()) {
    return Status::Corruption("data dir " + dir + " has no '" + std::string(kMetaFamily) +
                              "' column family: not a Synod data dir");
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    if (IsKnownFamily(name)) descriptors.emplace_back(name, MakeFamilyOptions(name));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  status = rocksdb::DB::OpenForReadOnly(options, dir, descriptors, &handles, &db);
  if (!status.ok()) return Unreadable(dir, status);
  rocksdb::ColumnFamilyHandle* meta_family = nullptr;
  for (size_t i = 0; i < descriptors.size(); ++i) {
    if (descriptors[i].name == kMetaFamily) meta_family = handles[i];
  }
  SYNOD_CHECK(meta_family != nullptr);
  Result<NodeMeta> meta = ReadMeta(db, meta_family, dir);
  Status checked = meta.ok() ? CheckMeta(meta.value(), dir, cluster_id, node_id) : meta.status();
  if (checked.ok()) checked = CheckFamilies(names, dir);
  if (checked.ok() && verify_checksums) {
    status = db->VerifyChecksum();
    if (!status.ok()) checked = Unreadable(dir, status);
  }
  CloseDb(db, &handles);
  delete db;
  if (!checked.ok()) return checked;
  return meta;
}

}  // namespace

rocksdb::DBOptions MakeDbOptions(rocksdb::Env* env) {
  rocksdb::DBOptions options;
  options.env = env != nullptr ? env : rocksdb::Env::Default();
  options.paranoid_checks = true;
  options.manual_wal_flush = false;  // Every Write() reaches the WAL file before it returns.
  options.use_fsync = false;         // fdatasync(2) for the WAL; enough for appended data.
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  options.track_and_verify_wals_in_manifest = true;
  options.info_log = std::make_shared<SpdlogLogger>();
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  options.max_background_jobs = 2;
  options.write_buffer_manager = ledger::MemtableBudget();  // Charged to the block cache.
  return options;
}

rocksdb::ColumnFamilyOptions MakeFamilyOptions(std::string_view name) {
  const auto& ledger_families = ledger::kLedgerColumnFamilies;
  if (std::find(ledger_families.begin(), ledger_families.end(), name) != ledger_families.end()) {
    // The ledger's own tuning (bloom filters for ids that do not exist yet, a shared block
    // cache); without it every new transfer id was looked up through every SST's index.
    rocksdb::ColumnFamilyOptions options = ledger::LedgerColumnFamilyOptions();
    options.level_compaction_dynamic_level_bytes = true;
    return options;
  }
  rocksdb::BlockBasedTableOptions table;
  table.checksum = rocksdb::ChecksumType::kXXH3;
  table.block_cache = ledger::BlockCache();  // The process's one budget (rocksdb_ledger_tables.h).
  rocksdb::ColumnFamilyOptions options;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.write_buffer_size = 16 << 20;
  options.arena_block_size = ledger::kMemtableArenaBlockBytes;
  options.level_compaction_dynamic_level_bytes = true;
  if (name == kAcceptorFamily || name == kDecidedFamily || name == kSnapshotFamily) {
    // Batches and snapshots are written once, read only to recover or catch up, and deleted
    // after the next snapshot: compressing them spent CPU the hot path needs (profiled: snappy
    // took about a tenth of a node's time under KV load) for disk that is soon freed.
    options.compression = rocksdb::kNoCompression;
  }
  return options;
}

Result<std::unique_ptr<Database>> Database::OpenReadWrite(const std::string& dir, rocksdb::Env* env,
                                                          bool create) {
  rocksdb::DBOptions options = MakeDbOptions(env);
  options.create_if_missing = create;
  options.create_missing_column_families = create;
  options.error_if_exists = create;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (std::string_view name : kAllFamilies) {
    descriptors.emplace_back(std::string(name), MakeFamilyOptions(name));
  }
  std::unique_ptr<Database> database(new Database());
  rocksdb::DB* db = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(options, dir, descriptors, &database->handles_, &db);
  if (!status.ok()) {
    if (create)
      return Status::IoError("cannot create database in " + dir + ": " + status.ToString());
    return Unreadable(dir, status);
  }
  database->db_.reset(db);
  SYNOD_CHECK(database->handles_.size() == kAllFamilies.size());
  return database;
}

Status Database::CreateAtomically(const std::string& data_dir, rocksdb::Env* env,
                                  const NodeMeta& meta) {
  SYNOD_CHECK(meta.format_version == kFormatVersion);
  namespace fs = std::filesystem;
  const std::string staging = data_dir + "/" + kStagingDirName;
  const std::string final_dir = data_dir + "/" + kDbDirName;
  std::error_code error;
  fs::remove_all(staging, error);  // Left by a crash during an earlier creation.
  if (error) return Status::IoError("cannot remove " + staging + ": " + error.message());
  fs::create_directory(staging, error);  // Else RocksDB's first scan logs an error.
  if (error) return Status::IoError("cannot create " + staging + ": " + error.message());
  {
    Result<std::unique_ptr<Database>> database = OpenReadWrite(staging, env, /*create=*/true);
    if (!database.ok()) return database.status();
    rocksdb::WriteOptions write;
    write.sync = true;
    rocksdb::Status status = database.value()->db()->Put(
        write, database.value()->Family(kMetaFamily), NodeMetaKey(), EncodeNodeMeta(meta));
    if (!status.ok()) {
      return Status::IoError("cannot write node metadata in " + staging + ": " + status.ToString());
    }
  }  // Closed here: RocksDB syncs its files and directory.
  Status synced = SyncDir(staging);
  if (!synced.ok()) return synced;
  fs::rename(staging, final_dir, error);
  if (error) return Status::IoError("cannot rename " + staging + ": " + error.message());
  return SyncDir(data_dir);
}

Result<std::unique_ptr<Database>> Database::OpenExisting(const std::string& dir, rocksdb::Env* env,
                                                         uint64_t cluster_id, NodeId node_id,
                                                         bool verify_checksums) {
  Result<NodeMeta> meta = CheckReadOnly(dir, env, cluster_id, node_id, verify_checksums);
  if (!meta.ok()) return meta.status();
  Result<std::unique_ptr<Database>> database = OpenReadWrite(dir, env, /*create=*/false);
  if (!database.ok()) return database.status();
  // Both sides of the boundary: what the read-write open sees is what the check accepted.
  Result<NodeMeta> again =
      ReadMeta(database.value()->db(), database.value()->Family(kMetaFamily), dir);
  if (!again.ok()) return again.status();
  SYNOD_CHECK(again.value().cluster_id == meta.value().cluster_id);
  SYNOD_CHECK(again.value().node_id == meta.value().node_id);
  database.value()->meta_ = again.value();
  return database;
}

Database::~Database() { CloseDb(db_.get(), &handles_); }

rocksdb::ColumnFamilyHandle* Database::Family(std::string_view name) const {
  for (size_t i = 0; i < kAllFamilies.size(); ++i) {
    if (kAllFamilies[i] == name) return handles_[i];
  }
  return nullptr;
}

Database::MemoryUse Database::Memory() const {
  MemoryUse use;
  db_->GetAggregatedIntProperty(rocksdb::DB::Properties::kSizeAllMemTables, &use.memtables);
  db_->GetAggregatedIntProperty(rocksdb::DB::Properties::kEstimateTableReadersMem,
                                &use.table_readers);
  use.block_cache = ledger::BlockCacheBlockBytes();  // Every family reads through it.
  return use;
}

}  // namespace synod::storage
