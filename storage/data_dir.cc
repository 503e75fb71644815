#include "storage/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "paxos/check.h"

namespace synod::storage {
namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

Result<DataDirState> InspectDataDir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::exists(dir, error)) {
    if (error) return Status::IoError("cannot stat data dir " + dir + ": " + error.message());
    if (!fs::create_directories(dir, error)) {
      return Status::IoError("cannot create data dir " + dir + ": " + error.message());
    }
    return DataDirState::kEmpty;
  }
  if (!fs::is_directory(dir, error)) {
    return Status::InvalidArgument("data dir " + dir + " is not a directory");
  }
  bool has_db = false;
  bool has_other = false;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (name == kDbDirName) has_db = true;
    if (name != kLockFileName && name != kStagingDirName && name != kLogFileName) {
      has_other = true;
    }
  }
  if (error) return Status::IoError("cannot list data dir " + dir + ": " + error.message());
  if (has_db) return DataDirState::kDatabase;
  return has_other ? DataDirState::kForeign : DataDirState::kEmpty;
}

Result<std::unique_ptr<DataDirLock>> DataDirLock::Acquire(const std::string& dir) {
  const std::string path = dir + "/" + kLockFileName;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError(Errno("cannot open lock file " + path));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int lock_errno = errno;
    ::close(fd);
    if (lock_errno == EWOULDBLOCK) {
      return Status::Busy("data dir " + dir + " is in use by another process (lock file " + path +
                          " is held)");
    }
    errno = lock_errno;
    return Status::IoError(Errno("cannot lock " + path));
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(fd));
}

DataDirLock::~DataDirLock() {
  SYNOD_CHECK(fd_ >= 0);
  ::close(fd_);  // Releases the flock.
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IoError(Errno("cannot open directory " + dir));
  const int rc = ::fsync(fd);
  const int sync_errno = errno;
  ::close(fd);
  if (rc != 0) {
    errno = sync_errno;
    return Status::IoError(Errno("cannot fsync directory " + dir));
  }
  return Status::Ok();
}

}  // namespace synod::storage
