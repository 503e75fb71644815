// Fuzz target: client requests as the state machine receives them. Each part of the input is
// one command payload (a ledger.fbs LedgerCommand from an untrusted client); every 8 commands
// make one decided batch applied to an in-memory ledger. Every command must get a result that
// decodes, and the ledger invariants (balanced ledgers, no overdrawn flagged account) must hold
// after every batch.
#include <cstdio>
#include <cstdlib>

#include "ledger/client.h"
#include "ledger/invariants.h"
#include "ledger/memory_tables.h"
#include "ledger/state_machine.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace synod;

void Require(bool ok, const char* what, const std::string& detail = "") {
  if (ok) return;
  std::fprintf(stderr, "client_request_fuzz: %s %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ledger::MemoryTables tables;
  auto sm = ledger::StateMachine::Open(&tables);
  Require(sm.ok(), "cannot open an empty ledger");
  std::vector<std::string> payloads = fuzz::SplitParts(data, size, 64);
  Slot slot = 0;
  uint64_t request = 0;
  for (size_t first = 0; first < payloads.size(); first += 8) {
    Batch batch;
    batch.timestamp_ns = 1000000000ull * (slot + 1);
    for (size_t i = first; i < std::min(payloads.size(), first + 8); ++i) {
      batch.commands.push_back(Command{1 + i % 3, ++request, payloads[i]});
    }
    auto results = sm.value()->Apply(++slot, batch);
    Require(results.ok(), "Apply failed:", results.ok() ? "" : results.status().ToString());
    Require(results.value().size() == batch.commands.size(), "one result per command");
    for (const std::string& r : results.value()) {
      auto decoded = ledger::DecodeResult(r);
      Require(decoded.ok(),
              "a result does not decode:", decoded.ok() ? "" : decoded.status().ToString());
    }
    ledger::InvariantReport report = ledger::CheckLedgerInvariants(*sm.value());
    Require(report.ok, "ledger invariants broken:",
            report.violations.empty() ? "" : report.violations.front());
  }
  return 0;
}
