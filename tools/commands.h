// Subcommands of the `synod` binary. Each Add* registers its flags on the app and a callback
// that stores the exit code in *rc. Exit codes: 0 ok, 1 operational failure, 2 bad usage,
// 3 not found.
#pragma once

#include <CLI/CLI.hpp>

namespace synod::tools {

void AddSimCommand(CLI::App& app, int* rc);
void AddNodeCommand(CLI::App& app, int* rc);
void AddKvCommand(CLI::App& app, int* rc);
void AddLedgerCommands(CLI::App& app, int* rc);
void AddStatusCommands(CLI::App& app, int* rc);
void AddLoadCommand(CLI::App& app, int* rc);
void AddDemoCommand(CLI::App& app, int* rc);
void AddLocalCommand(CLI::App& app, int* rc);
void AddBackupCommands(CLI::App& app, int* rc);
void AddLeaderCommand(CLI::App& app, int* rc);
void AddKeygenCommand(CLI::App& app, int* rc);
void AddMemberCommand(CLI::App& app, int* rc);

}  // namespace synod::tools
