// ChildProcess: a helper binary run by a test, its stdout on a pipe. posix_spawn (no fork of the
// multi-threaded test process), killed with SIGKILL and reaped on destruction, so a failing
// test leaves no process behind.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace synod::storage::testing {

class ChildProcess {
 public:
  // Starts `argv[0]` with `argv`; stdout goes to a pipe the parent reads, stderr is inherited.
  explicit ChildProcess(const std::vector<std::string>& argv);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }

  // Reads what the child wrote, waiting at most `timeout_ms`; appends complete lines to
  // `lines`. Returns false once the pipe reached end of file.
  bool ReadLines(int timeout_ms, std::vector<std::string>* lines);
  // SIGKILL, reap, then read the rest of the pipe. Returns the wait status.
  int KillAndReap(std::vector<std::string>* lines);
  // Waits for the child to exit by itself (reading its output). Returns the wait status.
  int WaitForExit(std::vector<std::string>* lines);

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string partial_;  // Bytes after the last newline seen.
};

}  // namespace synod::storage::testing
