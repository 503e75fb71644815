#include "node/backup_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "ledger/memory_tables.h"
#include "node/ledger_app.h"
#include "paxos/check.h"
#include "paxos/hash.h"
#include "paxos/wire_bytes.h"

namespace synod::node {
namespace {

constexpr size_t kMagicBytes = 8;
constexpr size_t kHashHexBytes = 32;
static_assert(sizeof(kBackupMagic) == kMagicBytes + 1);
static_assert(kBackupHeaderBytes == kMagicBytes + 8 + 8 + kHashHexBytes + 8 + 8 + 8);

bool IsHashHex(std::string_view s) {
  if (s.size() != kHashHexBytes) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status Errno(const std::string& what) {
  return Status::IoError(what + ": " + std::strerror(errno));
}

Status FsyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open " + path);
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Errno("cannot fsync " + path);
}

}  // namespace

std::string EncodeBackup(const Backup& b) {
  SYNOD_CHECK(b.slot >= 1);
  SYNOD_CHECK(IsHashHex(b.state_hash));
  std::string out(kBackupMagic, kMagicBytes);
  ByteWriter w;
  w.U64(kBackupFormatVersion);
  w.U64(b.slot);
  out += w.Take();
  out += b.state_hash;
  ByteWriter tail;
  tail.U64(b.blob.size());
  tail.U64(Fnv1a64(b.blob));
  out += tail.Take();
  ByteWriter check;
  check.U64(Fnv1a64(out));
  out += check.Take();
  SYNOD_CHECK(out.size() == kBackupHeaderBytes);
  return out + b.blob;
}

Result<Backup> DecodeBackup(std::string_view bytes) {
  if (bytes.size() < kBackupHeaderBytes) {
    return Status::Corruption("backup file is " + std::to_string(bytes.size()) +
                              " bytes, shorter than its " + std::to_string(kBackupHeaderBytes) +
                              "-byte header");
  }
  if (bytes.substr(0, kMagicBytes) != std::string_view(kBackupMagic, kMagicBytes)) {
    return Status::Corruption("not a Synod backup file (bad magic)");
  }
  ByteReader r(bytes.substr(kMagicBytes, 16));
  uint64_t version = 0;
  Backup b;
  SYNOD_CHECK(r.U64(&version) && r.U64(&b.slot));
  if (version != kBackupFormatVersion) {
    return Status::InvalidArgument("backup format version " + std::to_string(version) +
                                   " is not supported (this synod reads version " +
                                   std::to_string(kBackupFormatVersion) + ")");
  }
  const std::string_view header = bytes.substr(0, kBackupHeaderBytes - 8);
  ByteReader rest(bytes.substr(kMagicBytes + 16 + kHashHexBytes, 24));
  uint64_t blob_bytes = 0, blob_checksum = 0, header_checksum = 0;
  SYNOD_CHECK(rest.U64(&blob_bytes) && rest.U64(&blob_checksum) && rest.U64(&header_checksum));
  if (Fnv1a64(header) != header_checksum) {
    return Status::Corruption("backup header checksum mismatch (the header is damaged)");
  }
  b.state_hash = std::string(bytes.substr(kMagicBytes + 16, kHashHexBytes));
  if (!IsHashHex(b.state_hash) || b.slot == 0) {
    return Status::Corruption("backup header holds a bad slot or state hash");
  }
  if (blob_bytes > kBackupBlobBytesMax || bytes.size() - kBackupHeaderBytes != blob_bytes) {
    return Status::Corruption(
        "backup file is " + std::to_string(bytes.size()) + " bytes; its header announces " +
        std::to_string(kBackupHeaderBytes + blob_bytes) + " (cut short or appended to)");
  }
  b.blob = std::string(bytes.substr(kBackupHeaderBytes));
  if (Fnv1a64(b.blob) != blob_checksum) {
    return Status::Corruption("backup snapshot checksum mismatch (the data is damaged)");
  }
  return b;
}

Result<std::string> SnapshotBlobHash(Slot slot, const std::string& blob) {
  ledger::MemoryTables tables;
  auto sm = InstallBlob(&tables, slot, blob);
  if (!sm.ok()) return sm.status();
  return sm.value()->StateHash().ToHex();
}

Status VerifyBackup(const Backup& b) {
  auto hash = SnapshotBlobHash(b.slot, b.blob);
  if (!hash.ok())
    return Status::Corruption("backup snapshot does not load: " + hash.status().message());
  if (hash.value() != b.state_hash) {
    return Status::Corruption("backup snapshot loads with state hash " + hash.value() +
                              ", not the " + b.state_hash + " its header records");
  }
  return Status::Ok();
}

Status WriteFileDurably(const std::string& path, const std::string& bytes) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(path, ec)) return Status::InvalidArgument(path + " already exists");
  fs::path p(path);
  const std::string dir = p.parent_path().empty() ? "." : p.parent_path().string();
  const std::string tmp = path + ".partial";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create " + tmp);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = Errno("cannot write " + tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    Status s = Errno("cannot sync " + tmp);
    ::unlink(tmp.c_str());
    return s;
  }
  // link(2) fails if `path` appeared meanwhile, so nothing is ever overwritten.
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    Status s = Errno("cannot create " + path);
    ::unlink(tmp.c_str());
    return s;
  }
  ::unlink(tmp.c_str());
  return FsyncPath(dir, O_RDONLY | O_DIRECTORY);
}

Result<std::string> ReadWholeFile(const std::string& path, uint64_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open " + path);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(path + " is not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return Status::Corruption(path + " is " + std::to_string(st.st_size) +
                              " bytes, more than a backup can hold (" + std::to_string(max_bytes) +
                              ")");
  }
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (done != out.size()) return Status::IoError("short read of " + path);
  return out;
}

}  // namespace synod::node
