#include "tools/process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <thread>

namespace synod::tools {
namespace {

bool CanBind(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

Result<std::vector<uint16_t>> FreePorts(size_t count) {
  std::mt19937 rng(std::random_device{}());
  std::vector<uint16_t> ports;
  for (int attempt = 0; attempt < 1000 && ports.size() < count; ++attempt) {
    uint16_t p = 20000 + rng() % 12000;  // [20000, 32000).
    bool taken = false;
    for (uint16_t q : ports) taken |= q == p;
    if (!taken && CanBind(p)) ports.push_back(p);
  }
  if (ports.size() < count) return Status::IoError("no free ports below 32768");
  return ports;
}

Result<pid_t> SpawnSelf(const std::vector<std::string>& args, const std::string& log_path,
                        ChildLife life) {
  char exe[4096];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) return Status::IoError("cannot find this binary (/proc/self/exe)");
  exe[n] = '\0';
  int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0) return Status::IoError("cannot open " + log_path);
  std::vector<char*> argv;
  argv.push_back(exe);
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log);
    return Status::IoError("fork failed");
  }
  if (pid == 0) {
    if (life == ChildLife::kDetached) {
      ::setsid();
      const int null = ::open("/dev/null", O_RDONLY);
      ::dup2(null, STDIN_FILENO);
    } else {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
    }
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    ::execv(exe, argv.data());
    ::_exit(127);
  }
  ::close(log);
  return pid;
}

std::string FileTail(const std::string& path, size_t lines, const std::string& indent) {
  std::ifstream in(path);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  std::string out;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) {
    out += indent + all[i] + "\n";
  }
  return out;
}

void StopChild(pid_t pid, int grace_ms) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  for (int waited = 0; waited < grace_ms; waited += 20) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  KillChild(pid);
}

void KillChild(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

}  // namespace synod::tools
