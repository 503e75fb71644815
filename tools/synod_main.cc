// synod: the one binary. Subcommands parse flags, call the libraries, and print.
// Exit codes: 0 ok, 1 operational failure, 2 bad usage, 3 not found.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <string>

#include "tools/commands.h"

namespace {

// CLI11 only says "A subcommand is required" for `synod frobnicate` or `synod local sideways`:
// name the word instead. Walks the leading words down the subcommand tree.
bool KnownSubcommands(const CLI::App& app, int argc, char** argv) {
  const CLI::App* at = &app;
  std::string path = "synod";
  for (int i = 1; i < argc && argv[i][0] != '-'; ++i) {
    auto subs = at->get_subcommands(std::function<bool(const CLI::App*)>());
    if (subs.empty()) return true;  // A leaf: the rest are its arguments.
    std::string known;
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : subs) {
      known += " " + sub->get_name();
      if (sub->get_name() == argv[i]) next = sub;
    }
    if (next == nullptr) {
      std::fprintf(stderr, "synod: unknown subcommand '%s' of '%s'; one of:%s\n", argv[i],
                   path.c_str(), known.c_str());
      return false;
    }
    at = next;
    path += " " + next->get_name();
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Synod: a replicated key-value and ledger store on Multi-Paxos", "synod"};
  app.set_version_flag("--version", std::string("synod ") + SYNOD_VERSION);
  app.require_subcommand(1);
  int rc = 0;
  synod::tools::AddSimCommand(app, &rc);
  synod::tools::AddNodeCommand(app, &rc);
  synod::tools::AddKvCommand(app, &rc);
  synod::tools::AddLedgerCommands(app, &rc);
  synod::tools::AddStatusCommands(app, &rc);
  synod::tools::AddLoadCommand(app, &rc);
  synod::tools::AddDemoCommand(app, &rc);
  synod::tools::AddLocalCommand(app, &rc);
  synod::tools::AddBackupCommands(app, &rc);
  synod::tools::AddLeaderCommand(app, &rc);
  synod::tools::AddKeygenCommand(app, &rc);
  synod::tools::AddMemberCommand(app, &rc);
  if (!KnownSubcommands(app, argc, argv)) return 2;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return rc;
}
