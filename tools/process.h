// Starting and stopping `synod node` child processes (for `synod demo`): free ports, spawn,
// signal, reap. Everything by pid; nothing here touches a process it did not start.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "paxos/status.h"

namespace synod::tools {

// `count` TCP ports on 127.0.0.1 that could be bound just now, all below 32768 (above it the
// kernel hands out client-side ports, and a restarted node could find its port taken).
Result<std::vector<uint16_t>> FreePorts(size_t count);

// How long a spawned child lives.
enum class ChildLife {
  // SIGKILLed when the calling THREAD exits (PR_SET_PDEATHSIG): call from a thread that lives as
  // long as the child should (`synod demo`).
  kTiedToThread,
  // Its own session, stdin from /dev/null: outlives us and ignores a Ctrl-C at our terminal
  // (`synod local up`).
  kDetached,
};

// Runs this same binary with `args`, stdout and stderr appended to `log_path`.
Result<pid_t> SpawnSelf(const std::vector<std::string>& args, const std::string& log_path,
                        ChildLife life = ChildLife::kTiedToThread);

// The last `lines` lines of a text file, each prefixed by `indent` (for error messages).
std::string FileTail(const std::string& path, size_t lines, const std::string& indent);

// SIGTERM, wait up to `grace_ms`, then SIGKILL; reaps the child.
void StopChild(pid_t pid, int grace_ms);
// SIGKILL and reap.
void KillChild(pid_t pid);

}  // namespace synod::tools
