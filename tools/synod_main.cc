// synod: the one binary. Subcommands parse flags, call the libraries, and print.
// Exit codes: 0 ok, 1 operational failure, 2 bad usage, 3 not found.
#include <CLI/CLI.hpp>

#include "tools/commands.h"

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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return rc;
}
