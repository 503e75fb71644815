#include "node/snapshot_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "ledger/ledger_limits.h"
#include "paxos/wire_bytes.h"

namespace synod::node {
namespace {

constexpr std::string_view kInTables = "in-tables";
constexpr std::string_view kFile = "file ";
// A chunk of the ledger is at most kSnapshotChunkBytesMax; twice that is surely not one.
constexpr uint64_t kChunkBytesLimit = 2 * ledger::limits::kSnapshotChunkBytesMax;

Status Errno(const std::string& what, const std::string& path) {
  return Status::IoError(what + " " + path + ": " + std::strerror(errno));
}

Status FsyncDir(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open directory", dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Errno("cannot fsync directory", dir);
}

bool ValidFileName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) return false;
  }
  return name.find("..") == std::string_view::npos;
}

}  // namespace

std::string InTablesRef() { return std::string(kRefMagic) + std::string(kInTables); }

std::string FileRef(const std::string& file, uint64_t bytes) {
  return std::string(kRefMagic) + std::string(kFile) + file + " " + std::to_string(bytes);
}

Result<SnapshotRef> ParseRef(const std::string& data) {
  SnapshotRef ref;
  std::string_view s(data);
  if (s.substr(0, kRefMagic.size()) != kRefMagic) return ref;  // A blob.
  s.remove_prefix(kRefMagic.size());
  if (s == kInTables) {
    ref.kind = SnapshotRef::Kind::kInTables;
    return ref;
  }
  const auto bad = [&] {
    return Status::Corruption("snapshot reference \"" + data.substr(0, 120) +
                              "\" is malformed: expected \"in-tables\" or \"file NAME BYTES\"");
  };
  if (s.substr(0, kFile.size()) != kFile) return bad();
  s.remove_prefix(kFile.size());
  const size_t space = s.find(' ');
  if (space == std::string_view::npos) return bad();
  ref.kind = SnapshotRef::Kind::kFile;
  ref.file = std::string(s.substr(0, space));
  const std::string_view digits = s.substr(space + 1);
  if (!ValidFileName(ref.file) || digits.empty() || digits.size() > 19) return bad();
  for (char c : digits) {
    if (c < '0' || c > '9') return bad();
    ref.bytes = ref.bytes * 10 + static_cast<uint64_t>(c - '0');
  }
  return ref;
}

std::string SnapshotsDir(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "snapshots").string();
}

std::string ServedFileName(Slot slot) { return "serve-" + std::to_string(slot) + ".snap"; }
std::string ReceivedFileName(Slot slot) { return "recv-" + std::to_string(slot) + ".snap"; }

Result<std::shared_ptr<SnapshotFile>> SnapshotFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open snapshot file", path);
  const off_t end = ::lseek(fd, 0, SEEK_END);
  if (end < 0) {
    Status s = Errno("cannot size snapshot file", path);
    ::close(fd);
    return s;
  }
  return std::shared_ptr<SnapshotFile>(new SnapshotFile(fd, static_cast<uint64_t>(end), path));
}

SnapshotFile::~SnapshotFile() { ::close(fd_); }

Result<std::string> SnapshotFile::Read(uint64_t offset, size_t max) const {
  if (offset >= size_) return std::string();
  std::string out(static_cast<size_t>(std::min<uint64_t>(max, size_ - offset)), '\0');
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n =
        ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot read snapshot file", path_);
    if (n == 0) return Status::Corruption("snapshot file " + path_ + " is shorter than it was");
    done += static_cast<size_t>(n);
  }
  return out;
}

Result<std::unique_ptr<SnapshotFileWriter>> SnapshotFileWriter::Create(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create snapshot file", path);
  return std::unique_ptr<SnapshotFileWriter>(new SnapshotFileWriter(fd, path));
}

SnapshotFileWriter::~SnapshotFileWriter() { ::close(fd_); }

Status SnapshotFileWriter::Append(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot write snapshot file", path_);
    data.remove_prefix(static_cast<size_t>(n));
    size_ += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Status SnapshotFileWriter::Finish() {
  if (::fdatasync(fd_) != 0) return Errno("cannot fsync snapshot file", path_);
  return FsyncDir(path_);
}

Result<uint64_t> WriteSnapshotFile(ledger::SnapshotStream* stream, const std::string& path) {
  auto writer = SnapshotFileWriter::Create(path);
  if (!writer.ok()) return writer.status();
  while (!stream->done()) {
    auto chunk = stream->Next();
    if (!chunk.ok()) return chunk.status();
    ByteWriter prefix;
    prefix.U64(chunk.value().size());
    if (Status s = writer.value()->Append(prefix.Take()); !s.ok()) return s;
    if (Status s = writer.value()->Append(chunk.value()); !s.ok()) return s;
  }
  if (Status s = writer.value()->Finish(); !s.ok()) return s;
  return writer.value()->size();
}

Status ForEachChunk(const std::string& blob, const std::function<Status(std::string_view)>& add) {
  ByteReader reader(blob);
  std::string chunk;
  while (!reader.Done()) {
    if (!reader.Bytes(&chunk, kChunkBytesLimit)) {
      return Status::Corruption("snapshot blob is cut short");
    }
    if (Status s = add(chunk); !s.ok()) return s;
  }
  return Status::Ok();
}

Status ForEachChunk(const SnapshotFile& file, const std::function<Status(std::string_view)>& add) {
  uint64_t offset = 0;
  while (offset < file.size()) {
    auto prefix = file.Read(offset, 8);
    if (!prefix.ok()) return prefix.status();
    uint64_t n = 0;
    ByteReader reader(prefix.value());
    if (!reader.U64(&n) || n > kChunkBytesLimit || n > file.size() - offset - 8) {
      return Status::Corruption("snapshot file " + file.path() +
                                " is cut short or damaged at byte " + std::to_string(offset));
    }
    auto chunk = file.Read(offset + 8, static_cast<size_t>(n));
    if (!chunk.ok()) return chunk.status();
    if (Status s = add(chunk.value()); !s.ok()) return s;
    offset += 8 + n;
  }
  return Status::Ok();
}

}  // namespace synod::node
