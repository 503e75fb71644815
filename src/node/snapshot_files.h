// Snapshots of a real node, without O(state) memory.
//
// The core (src/paxos) treats Snapshot::data as opaque bytes. A node puts one of three things
// there (SnapshotRef):
//   - kInTables: the state at the snapshot's slot is the node's own ledger tables, made durable
//     by the synced write that persists the snapshot record (the ledger shares the log's
//     RocksDB WAL). This is what the node takes every few thousand slots to compact its log:
//     it costs one fsync, whatever the size of the state (etcd's snapshots of its bbolt file
//     work the same way).
//   - kFile: a snapshot received from a peer, kept in a file under <data>/snapshots until a
//     later kInTables snapshot replaces it, so that an install cut short by a crash is
//     redone from it at restart.
//   - kBlob: the ledger's chunks inline (what `synod restore` writes and older data dirs hold).
// A reference starts with kRefMagic; a blob starts with the 8-byte length of its first chunk
// (at most a few MiB), so the two never look alike.
//
// A peer that needs a snapshot gets a served file: the node encodes its current applied state
// to <data>/snapshots/serve-<slot>.snap on a background thread (the same chunk format as a blob:
// each chunk length-prefixed, ByteWriter::Bytes) and streams it in chunks from an open
// descriptor (SnapshotFile), so that an unlinked file stays readable to the end of a fetch.
// Received snapshots are written as they arrive (SnapshotFileWriter) and fsynced before the
// core records them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ledger/snapshot.h"
#include "paxos/status.h"
#include "paxos/types.h"

namespace synod::node {

inline constexpr std::string_view kRefMagic = "synod-snapshot-ref/1 ";

struct SnapshotRef {
  enum class Kind { kBlob, kInTables, kFile };
  Kind kind = Kind::kBlob;
  std::string file;    // kFile: its name in the snapshots dir.
  uint64_t bytes = 0;  // kFile: its size.
};

std::string InTablesRef();
std::string FileRef(const std::string& file, uint64_t bytes);
// Corruption naming what is wrong when `data` has the magic but not a valid reference.
Result<SnapshotRef> ParseRef(const std::string& data);

// The snapshots directory of a data dir (created when missing).
std::string SnapshotsDir(const std::string& data_dir);
std::string ServedFileName(Slot slot);
std::string ReceivedFileName(Slot slot);

// A snapshot file opened for reading; the descriptor keeps it readable after it is unlinked.
class SnapshotFile {
 public:
  static Result<std::shared_ptr<SnapshotFile>> Open(const std::string& path);
  ~SnapshotFile();
  SnapshotFile(const SnapshotFile&) = delete;
  SnapshotFile& operator=(const SnapshotFile&) = delete;

  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Up to `max` bytes from `offset` (fewer at the end of the file).
  Result<std::string> Read(uint64_t offset, size_t max) const;

 private:
  SnapshotFile(int fd, uint64_t size, std::string path)
      : fd_(fd), size_(size), path_(std::move(path)) {}
  int fd_;
  uint64_t size_;
  std::string path_;
};

// Writes a file from its start; Finish() fsyncs it and its directory.
class SnapshotFileWriter {
 public:
  static Result<std::unique_ptr<SnapshotFileWriter>> Create(const std::string& path);
  ~SnapshotFileWriter();
  SnapshotFileWriter(const SnapshotFileWriter&) = delete;
  SnapshotFileWriter& operator=(const SnapshotFileWriter&) = delete;

  Status Append(std::string_view data);
  Status Finish();
  uint64_t size() const { return size_; }

 private:
  SnapshotFileWriter(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
  uint64_t size_ = 0;
};

// Encodes `stream` into the file at `path` (created or truncated), each chunk length-prefixed,
// and fsyncs it. Returns its size. Memory: one chunk at a time.
Result<uint64_t> WriteSnapshotFile(ledger::SnapshotStream* stream, const std::string& path);

// Hands the chunks of a length-prefixed chunk sequence to `add`, in order: from a blob, or
// from a file read one chunk at a time. Corruption when the bytes are cut short or a length is
// impossible.
Status ForEachChunk(const std::string& blob, const std::function<Status(std::string_view)>& add);
Status ForEachChunk(const SnapshotFile& file, const std::function<Status(std::string_view)>& add);

}  // namespace synod::node
