#include "child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace synod::storage::testing {

ChildProcess::ChildProcess(const std::vector<std::string>& argv) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);  // dup2 clears CLOEXEC.
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  if (::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) == 0) pid_ = pid;
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  out_fd_ = fds[0];
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (out_fd_ >= 0) ::close(out_fd_);
}

bool ChildProcess::ReadLines(int timeout_ms, std::vector<std::string>* lines) {
  pollfd pfd{out_fd_, POLLIN, 0};
  if (::poll(&pfd, 1, timeout_ms) <= 0) return true;  // Timeout (or EINTR): nothing yet.
  char buffer[4096];
  const ssize_t n = ::read(out_fd_, buffer, sizeof(buffer));
  if (n <= 0) return false;
  partial_.append(buffer, static_cast<size_t>(n));
  size_t newline;
  while ((newline = partial_.find('\n')) != std::string::npos) {
    lines->push_back(partial_.substr(0, newline));
    partial_.erase(0, newline + 1);
  }
  return true;
}

int ChildProcess::KillAndReap(std::vector<std::string>* lines) {
  ::kill(pid_, SIGKILL);
  return WaitForExit(lines);
}

int ChildProcess::WaitForExit(std::vector<std::string>* lines) {
  while (ReadLines(1000, lines)) {
  }
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

}  // namespace synod::storage::testing
