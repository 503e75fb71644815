#include "storage/rocks_log_store.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>
#include <random>

#include "paxos/check.h"

namespace synod::storage {
namespace {

// A data dir's incarnation: random and non-zero, so a wiped node's new data dir differs.
uint64_t NewIncarnation() {
  std::random_device device;
  uint64_t value = (uint64_t{device()} << 32) ^ device();
  return value == 0 ? 1 : value;
}

uint64_t NowUnixNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

rocksdb::ReadOptions VerifyingReads() {
  rocksdb::ReadOptions read;
  read.verify_checksums = true;
  read.fill_cache = false;  // Recovery reads everything once; keep the cache for the ledger.
  return read;
}

Status ReadError(std::string_view family, const rocksdb::Status& status) {
  return Status::Corruption("reading column family '" + std::string(family) +
                            "' failed: " + status.ToString());
}

// Calls `visit(key, value)` for every record of `family` in key order. Values are copied into
// std::string so that the FlatBuffers verifier sees an aligned buffer.
Status ForEach(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, std::string_view name,
               const std::function<Status(const std::string&, const std::string&)>& visit) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(VerifyingReads(), family));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    Status status = visit(it->key().ToString(), it->value().ToString());
    if (!status.ok()) return status;
  }
  if (!it->status().ok()) return ReadError(name, it->status());
  return Status::Ok();
}

Status InFamily(std::string_view family, const Status& status) {
  if (status.ok()) return status;
  return Status::Corruption("column family '" + std::string(family) + "': " + status.message());
}

}  // namespace

Result<std::unique_ptr<RocksLogStore>> RocksLogStore::Open(const StoreOptions& options) {
  SYNOD_CHECK(!options.data_dir.empty());
  Result<DataDirState> state = InspectDataDir(options.data_dir);
  if (!state.ok()) return state.status();
  if (state.value() == DataDirState::kForeign) {
    return Status::Corruption("data dir " + options.data_dir +
                              " is not empty and holds no database (no db/ directory): not a "
                              "Synod data dir");
  }
  Result<std::unique_ptr<DataDirLock>> lock = DataDirLock::Acquire(options.data_dir);
  if (!lock.ok()) return lock.status();
  state = InspectDataDir(options.data_dir);  // Again, under the lock: no one else creates db/.
  if (!state.ok()) return state.status();
  if (state.value() == DataDirState::kEmpty) {
    SYNOD_CHECK(options.cluster_id != kAnyClusterId);  // A new data dir names its cluster.
    Status created =
        Database::CreateAtomically(options.data_dir, options.env,
                                   NodeMeta{kFormatVersion, options.cluster_id, options.node_id,
                                            NowUnixNs(), NewIncarnation()});
    if (!created.ok()) return created;
  }
  Result<std::unique_ptr<Database>> database =
      Database::OpenExisting(options.data_dir + "/" + kDbDirName, options.env,
                             options.adopt_cluster_id ? kAnyClusterId : options.cluster_id,
                             options.node_id, options.verify_checksums_on_open);
  if (!database.ok()) return database.status();
  std::unique_ptr<RocksLogStore> store(
      new RocksLogStore(options.data_dir, std::move(lock.value()), std::move(database.value())));
  Status loaded = store->LoadTracked();
  if (!loaded.ok()) return loaded;
  return store;
}

RocksLogStore::RocksLogStore(std::string data_dir, std::unique_ptr<DataDirLock> lock,
                             std::unique_ptr<Database> database)
    : data_dir_(std::move(data_dir)), lock_(std::move(lock)), database_(std::move(database)) {}

RocksLogStore::~RocksLogStore() = default;

Status RocksLogStore::Get(std::string_view family, const std::string& key,
                          std::string* value) const {
  rocksdb::Status status = db()->Get(VerifyingReads(), ColumnFamily(family), key, value);
  if (status.IsNotFound()) return Status::NotFound(HexKey(key));
  if (!status.ok()) return ReadError(family, status);
  return Status::Ok();
}

Status RocksLogStore::LoadTracked() {
  std::string value;
  Status status = Get(kAcceptorFamily, PromiseKey(), &value);
  if (status.ok()) {
    Result<Ballot> promised = DecodePromise(value);
    if (!promised.ok()) return InFamily(kAcceptorFamily, promised.status());
    tracked_.promised = promised.value();
  } else if (status.code() != Status::Code::kNotFound) {
    return status;
  }
  status = Get(kSnapshotFamily, SnapshotRecordKey(), &value);
  if (status.ok()) {
    Result<SnapshotInfo> info = DecodeSnapshotRecord(value);
    if (!info.ok()) return InFamily(kSnapshotFamily, info.status());
    tracked_.snapshot_slot = info.value().slot;
  } else if (status.code() != Status::Code::kNotFound) {
    return status;
  }
  return Status::Ok();
}

Status RocksLogStore::Persist(const std::vector<DurableWrite>& writes) {
  rocksdb::WriteBatch batch;
  return PersistWith(writes, &batch);
}

Status RocksLogStore::PersistWith(const std::vector<DurableWrite>& writes,
                                  rocksdb::WriteBatch* batch) {
  SYNOD_CHECK(batch != nullptr);
  if (!failure_.ok()) return failure_;
  Tracked next = tracked_;
  // Decided records alone are written without an fsync: a decided batch was accepted durably
  // by a majority of acceptors, so losing one in a power failure costs a catch-up (or a
  // re-proposal by the next leader), never a chosen value. The WAL keeps them in order, so a
  // crash loses only a suffix, and the next synced write makes them durable too. Every other
  // record (a promise, an accepted pvalue, membership, a snapshot, a compaction) and whatever
  // the caller put into `batch` is synced before this returns.
  bool sync = batch->Count() > 0;
  for (const DurableWrite& write : writes) {
    Status status = Append(write, &next, batch);
    if (!status.ok()) return status;
    sync = sync || write.kind != DurableWrite::Kind::kDecide;
  }
  if (batch->Count() == 0) return Status::Ok();
  Status status = Commit(batch, sync);
  if (status.ok()) tracked_ = next;
  return status;
}

Status RocksLogStore::Append(const DurableWrite& write, Tracked* next,
                             rocksdb::WriteBatch* batch) const {
  rocksdb::ColumnFamilyHandle* acceptor = ColumnFamily(kAcceptorFamily);
  rocksdb::Status status;
  switch (write.kind) {
    case DurableWrite::Kind::kJoined:
      status = batch->Put(acceptor, JoinedKey(), EncodeJoined(write.membership));
      break;
    case DurableWrite::Kind::kConfig:
      status = batch->Put(acceptor, ConfigKey(), EncodeConfigs(write.configs));
      break;
    case DurableWrite::Kind::kPromise:
      SYNOD_CHECK(write.ballot >= next->promised);  // A promise never regresses.
      next->promised = write.ballot;
      status = batch->Put(acceptor, PromiseKey(), EncodePromise(write.ballot));
      break;
    case DurableWrite::Kind::kAccept:
      status = batch->Put(acceptor, AcceptedKey(write.slot),
                          EncodeAccepted(PValue{write.slot, write.ballot, write.batch}));
      break;
    case DurableWrite::Kind::kDecide:
      SYNOD_CHECK(write.batch != nullptr);
      status = batch->Put(ColumnFamily(kDecidedFamily), DecidedKey(write.slot),
                          EncodeDecided(write.slot, *write.batch));
      break;
    case DurableWrite::Kind::kSnapshot:
      SYNOD_CHECK(write.snapshot.slot >= 1);
      SYNOD_CHECK(write.snapshot.data != nullptr);
      SYNOD_CHECK(write.snapshot.slot >= next->snapshot_slot);  // Snapshots never regress.
      if (write.snapshot.data->size() > kInlineSnapshotBytesMax) {
        return Status::InvalidArgument("snapshot at slot " + std::to_string(write.snapshot.slot) +
                                       " is " + std::to_string(write.snapshot.data->size()) +
                                       " bytes, above the inline limit");
      }
      next->snapshot_slot = write.snapshot.slot;
      AppendSnapshot(write.snapshot, batch);
      break;
    case DurableWrite::Kind::kCompact:
      // The log below a snapshot goes only once the snapshot is durable (ARCHITECTURE.md).
      SYNOD_CHECK(write.slot <= next->snapshot_slot + 1);
      AppendCompact(write.slot, batch);
      break;
  }
  // WriteBatch::Put fails only on keys or values above 4 GiB, which our encoders never build.
  SYNOD_CHECK(status.ok());
  return Status::Ok();
}

// The bytes, the record pointing at them, and the removal of every older snapshot's bytes.
void RocksLogStore::AppendSnapshot(const Snapshot& snapshot, rocksdb::WriteBatch* batch) const {
  rocksdb::ColumnFamilyHandle* family = ColumnFamily(kSnapshotFamily);
  SnapshotInfo info;
  info.slot = snapshot.slot;
  info.data_key = SnapshotDataKey(snapshot.slot);
  info.size_bytes = snapshot.data->size();
  info.data_hash = Fnv1a64(*snapshot.data);
  info.created_at_unix_ns = NowUnixNs();
  SYNOD_CHECK(batch->DeleteRange(family, SnapshotDataKey(0), info.data_key).ok());
  SYNOD_CHECK(batch->Put(family, info.data_key, *snapshot.data).ok());
  SYNOD_CHECK(batch->Put(family, SnapshotRecordKey(), EncodeSnapshotRecord(info)).ok());
}

// Deletes accepted and decided records of slots [0, slot): one range tombstone per family.
void RocksLogStore::AppendCompact(Slot slot, rocksdb::WriteBatch* batch) const {
  if (slot <= 1) return;  // Slots start at 1: nothing below.
  SYNOD_CHECK(
      batch->DeleteRange(ColumnFamily(kAcceptorFamily), AcceptedKeyBegin(), AcceptedKey(slot))
          .ok());
  SYNOD_CHECK(
      batch->DeleteRange(ColumnFamily(kDecidedFamily), DecidedKey(0), DecidedKey(slot)).ok());
}

Status RocksLogStore::Commit(rocksdb::WriteBatch* batch, bool sync) {
  SYNOD_CHECK(failure_.ok());
  rocksdb::WriteOptions write;
  write.sync = sync;         // Durable before Persist returns: the durability contract.
  write.disableWAL = false;  // The WAL is what the sync makes durable.
  rocksdb::Status status = db()->Write(write, batch);
  if (status.ok()) return Status::Ok();
  failure_ = Status::IoError("write to data dir " + data_dir_ +
                             " failed; the store refuses every later write: " + status.ToString());
  spdlog::error("storage: {}", failure_.message());  // Logged once: later calls return early.
  return failure_;
}

Result<RecoveredState> RocksLogStore::Recover() {
  RecoveredState state;
  Status status = RecoverAcceptor(&state);
  if (status.ok()) status = RecoverDecided(&state);
  if (status.ok()) status = RecoverSnapshot(&state);
  if (!status.ok()) return status;
  // Both sides of the boundary: what we read is what the write path tracked (unless a failed
  // write left the database's state unknown).
  if (failure_.ok()) {
    SYNOD_CHECK(state.promised == tracked_.promised);
    SYNOD_CHECK(state.snapshot.slot == tracked_.snapshot_slot);
  }
  return state;
}

Status RocksLogStore::RecoverAcceptor(RecoveredState* state) const {
  auto visit = [state](const std::string& key, const std::string& value) -> Status {
    if (key == PromiseKey()) {
      Result<Ballot> promised = DecodePromise(value);
      if (!promised.ok()) return promised.status();
      state->promised = promised.value();
    } else if (key == JoinedKey()) {
      Result<Membership> joined = DecodeJoined(value);
      if (!joined.ok()) return joined.status();
      state->joined = true;
      state->membership = std::move(joined.value());
    } else if (key == ConfigKey()) {
      Result<std::vector<ClusterConfig>> configs = DecodeConfigs(value);
      if (!configs.ok()) return configs.status();
      state->configs = std::move(configs.value());
    } else if (IsAcceptedKey(key)) {
      Result<PValue> pvalue = DecodeAccepted(key, value);
      if (!pvalue.ok()) return pvalue.status();
      state->accepted[pvalue.value().slot] = std::move(pvalue.value());
    } else {
      return Status::Corruption("unknown key " + HexKey(key));
    }
    return Status::Ok();
  };
  return InFamily(kAcceptorFamily,
                  ForEach(db(), ColumnFamily(kAcceptorFamily), kAcceptorFamily, visit));
}

Status RocksLogStore::RecoverDecided(RecoveredState* state) const {
  auto visit = [state](const std::string& key, const std::string& value) -> Status {
    Result<Decision> decision = DecodeDecided(key, value);
    if (!decision.ok()) return decision.status();
    state->decided[decision.value().slot] = std::move(decision.value().batch);
    return Status::Ok();
  };
  return InFamily(kDecidedFamily,
                  ForEach(db(), ColumnFamily(kDecidedFamily), kDecidedFamily, visit));
}

Result<SnapshotInfo> RocksLogStore::CurrentSnapshot() const {
  std::string value;
  Status status = Get(kSnapshotFamily, SnapshotRecordKey(), &value);
  if (status.code() == Status::Code::kNotFound) return Status::NotFound("no snapshot persisted");
  if (!status.ok()) return status;
  Result<SnapshotInfo> info = DecodeSnapshotRecord(value);
  if (!info.ok()) return InFamily(kSnapshotFamily, info.status());
  return info;
}

Status RocksLogStore::RecoverSnapshot(RecoveredState* state) const {
  Result<SnapshotInfo> info = CurrentSnapshot();
  if (info.status().code() == Status::Code::kNotFound) return Status::Ok();
  if (!info.ok()) return info.status();
  auto data = std::make_shared<std::string>();
  Status status = Get(kSnapshotFamily, info.value().data_key, data.get());
  const std::string where = "snapshot at slot " + std::to_string(info.value().slot);
  if (status.code() == Status::Code::kNotFound) {
    return Status::Corruption(where + ": its bytes are missing");
  }
  if (!status.ok()) return status;
  if (data->size() != info.value().size_bytes || Fnv1a64(*data) != info.value().data_hash) {
    return Status::Corruption(where + ": its bytes do not match the recorded size and hash");
  }
  state->snapshot = Snapshot{info.value().slot, std::move(data)};
  return Status::Ok();
}

}  // namespace synod::storage
