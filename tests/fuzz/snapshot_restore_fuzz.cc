// Fuzz target: snapshot chunks from a peer, installed into an empty ledger. Each part of the
// input is one chunk, added in order; bad chunks must come back as a Status, and a snapshot
// that installs must open and report the slot it claimed.
#include <cstdio>
#include <cstdlib>

#include "ledger/memory_tables.h"
#include "ledger/snapshot.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace synod;

void Require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "snapshot_restore_fuzz: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ledger::MemoryTables tables;
  ledger::SnapshotInstaller installer(&tables);
  for (const std::string& chunk : fuzz::SplitParts(data, size, 64)) {
    if (!installer.Add(chunk).ok()) return 0;
    if (installer.complete()) break;
  }
  if (!installer.complete()) return 0;
  auto sm = installer.Finish();
  if (!sm.ok()) return 0;
  Require(sm.value()->applied_slot() == installer.applied_slot(), "installed at another slot");
  return 0;
}
