// The node data dir as a directory of files, before RocksDB looks inside: whether it is empty,
// holds a database or holds something else, and the lock that keeps a second process out.
//
// Layout:  DIR/synod.lock    the lock file (below)
//          DIR/db/           the RocksDB database (FORMAT.md), present only once complete
//          DIR/db.creating/  a database being created; renamed to db/ when its metadata is
//                            synced, so a crash during creation leaves no half-made db/ (a
//                            leftover db.creating/ is removed by the next open: no Open() ever
//                            succeeded on it, so nothing in it was acknowledged).
//
// DataDirLock is owned by the RocksLogStore that opened the dir and held for its lifetime. It
// is an flock(2) on "<dir>/synod.lock", taken before RocksDB opens anything, so a second
// opener (another process, or another store in the same process: flock locks belong to the
// open file description) is refused before it reads or writes a byte of the database. RocksDB's
// own LOCK file is taken later, by the read-write open, and stays as a second line of defence.
// The kernel drops the flock when the process dies, so a kill -9 leaves no stale lock.
//
// Not thread-safe; used only while opening and closing a store.
#pragma once

#include <memory>
#include <string>

#include "paxos/status.h"

namespace synod::storage {

inline constexpr char kLockFileName[] = "synod.lock";
inline constexpr char kDbDirName[] = "db";
inline constexpr char kStagingDirName[] = "db.creating";
// The node's log file (tools/node_cmd.cc); its presence does not make a dir foreign.
inline constexpr char kLogFileName[] = "synod.log";

enum class DataDirState {
  kEmpty,     // Missing (now created), empty, or holding only synod.lock and db.creating/.
  kDatabase,  // Holds db/: an existing database to validate.
  kForeign,   // Holds other files and no db/: not a Synod data dir.
};

// Classifies `dir`, creating it (and its parents) if it does not exist.
Result<DataDirState> InspectDataDir(const std::string& dir);

class DataDirLock {
 public:
  // Opens (creating if needed) and flocks "<dir>/synod.lock" without waiting. Busy if another
  // opener holds it; IoError if the file cannot be opened.
  static Result<std::unique_ptr<DataDirLock>> Acquire(const std::string& dir);
  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;  // Invariant: an open descriptor holding LOCK_EX on the lock file.
};

// fsync(2) of a directory, so that file creations and renames in it are durable.
Status SyncDir(const std::string& dir);

}  // namespace synod::storage
