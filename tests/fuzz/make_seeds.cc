// Writes the seed corpus of every fuzz target (tests/fuzz/<target>/corpus/seed-*) from the
// real encoders, so that the fuzzers start from valid inputs. Run by hand after a format change:
//   cmake --build build --target fuzz_make_seeds && build/bin/fuzz_make_seeds tests/fuzz
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "ledger/client.h"
#include "ledger/memory_tables.h"
#include "ledger/snapshot.h"
#include "ledger/state_machine.h"
#include "net/codec.h"
#include "storage/format.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace synod;
namespace fs = std::filesystem;

void Write(const fs::path& dir, int n, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / ("seed-" + std::to_string(n)), std::ios::binary) << bytes;
}

std::string Frames(const std::vector<Envelope>& envelopes) {
  std::string out;
  for (const Envelope& e : envelopes) fuzz::AppendPart(&out, net::Encode(e));
  return out;
}

std::vector<std::string> LedgerCommands() {
  ledger::AccountSpec a{1, 1, 1, 0}, b{2, 1, 1, 0};
  ledger::AccountSpec strict{3, 1, 1, 1};  // debits_must_not_exceed_credits
  ledger::AccountSpec accounts[] = {a, b, strict};
  ledger::TransferSpec t{};
  t.id = 10, t.debit = 1, t.credit = 2, t.amount = 100, t.ledger = 1, t.code = 1;
  ledger::TransferSpec pending = t;
  pending.id = 11, pending.flags = 2, pending.timeout_ns = 1000000000;  // pending
  ledger::TransferSpec post{};
  post.id = 12, post.pending_id = 11, post.amount = 50, post.flags = 4;  // post_pending
  ledger::TransferSpec overdraw = t;
  overdraw.id = 13, overdraw.debit = 3;
  ledger::Id128 ids[] = {1, 2, 3};
  return {ledger::EncodeCreateAccounts(accounts),
          ledger::EncodeCreateTransfers({&t, 1}),
          ledger::EncodeCreateTransfers({&pending, 1}),
          ledger::EncodeCreateTransfers({&post, 1}),
          ledger::EncodeCreateTransfers({&overdraw, 1}),
          ledger::EncodeLookupAccounts(ids),
          ledger::EncodeLookupTransfers({ids, 1}),
          ledger::EncodeLookupAccountTransfers(1, 10),
          ledger::EncodeKvPut("key", "value"),
          ledger::EncodeKvGet("key"),
          ledger::EncodeKvCas("key", 1, "new"),
          ledger::EncodeKvScan("k", 10),
          ledger::EncodeKvDelete("key")};
}

// A genesis configuration of three voters and the one after adding node 4 as a learner.
std::vector<ClusterConfig> GrownHistory() {
  ClusterConfig genesis{1, 0, {{1, "h:1", true}, {2, "h:2", true}, {3, "h:3", true}}};
  ClusterConfig grown = genesis;
  grown.decided_at = 9;
  grown.from = 73;
  grown.members.push_back({4, "h:4", false});
  return {genesis, grown};
}

void WireSeeds(const fs::path& dir) {
  Command c{7, 1, ledger::EncodeKvPut("k", "v")};
  auto batch = std::make_shared<const Batch>(Batch{5, {c}});
  const Ballot b2{2, 2};
  int n = 0;
  Write(dir, n++, Frames({{0, 1, InvokeMsg{c}}, {0, 1, StatusQueryMsg{true}}}));
  Write(dir, n++,
        Frames({{2, 1, PrepareMsg{b2, 1}},
                {2, 1, AcceptMsg{b2, 1, batch}},
                {2, 1, DecisionMsg{1, b2, batch}},
                {2, 1, ActiveMsg{b2, 1}}}));
  Write(dir, n++,
        Frames({{2, 1, PromiseMsg{Ballot{1, 1}, 0, {PValue{1, Ballot{1, 1}, batch}}}},
                {3, 1, AcceptedMsg{Ballot{1, 1}, 1}},
                {2, 1, CatchupMsg{1}},
                {3, 1, DecisionsMsg{{Decision{1, batch}, Decision{2, batch}}}}}));
  Write(dir, n++,
        Frames({{2, 1, JoinMsg{}},
                {2, 1, WelcomeMsg{Snapshot{}, {Decision{1, batch}}, 0, {}, {}}},
                {2, 1, SnapshotFetchMsg{3, 0}},
                {2, 1, SnapshotChunkMsg{3, 0, 5, "abcde"}},
                {2, 1, ProposeMsg{{c}}},
                {2, 1, InvokedMsg{7, 1, true, "r", 2}}}));
  Write(dir, n++,
        Frames({{2, 4, WelcomeMsg{Snapshot{}, {Decision{1, batch}}, 0, {}, GrownHistory()}}}));
  // Coalesced frames (Envelope.more): a client's Invokes, and a node's replies to one client.
  Command c2{7, 2, ledger::EncodeKvGet("k")};
  const std::vector<Envelope> invokes{{0, 1, InvokeMsg{c}}, {0, 1, InvokeMsg{c2}}};
  const std::vector<Envelope> replies{{2, 0, InvokedMsg{7, 1, true, "r", 2}},
                                      {2, 0, InvokedMsg{7, 2, true, "s", 2}}};
  std::string coalesced;
  fuzz::AppendPart(&coalesced, net::EncodeFrame(invokes));
  fuzz::AppendPart(&coalesced, net::EncodeFrame(replies));
  Write(dir, n++, coalesced);
}

void ClientSeeds(const fs::path& dir) {
  std::vector<std::string> commands = LedgerCommands();
  std::string all;
  for (const std::string& c : commands) fuzz::AppendPart(&all, c);
  Write(dir, 0, all);
  for (size_t i = 0; i < commands.size(); ++i) {
    std::string one;
    fuzz::AppendPart(&one, commands[0]);
    fuzz::AppendPart(&one, commands[i]);
    Write(dir, int(i) + 1, one);
  }
}

void SnapshotSeeds(const fs::path& dir) {
  ledger::MemoryTables tables;
  auto sm = ledger::StateMachine::Open(&tables);
  Batch batch{1, {}};
  uint64_t request = 0;
  for (const std::string& c : LedgerCommands()) batch.commands.push_back({1, ++request, c});
  SYNOD_CHECK(sm.value()->Apply(1, batch).ok());
  ledger::MemoryTables empty_tables;
  auto empty = ledger::StateMachine::Open(&empty_tables);
  int n = 0;
  for (ledger::StateMachine* m : {sm.value().get(), empty.value().get()}) {
    auto stream = m->NewSnapshot();
    std::string chunks;
    while (!stream.value()->done()) fuzz::AppendPart(&chunks, stream.value()->Next().value());
    Write(dir, n++, chunks);
  }
}

std::string Record(uint8_t kind, uint64_t slot, const std::string& value) {
  std::string out(1, char(kind));
  out.append(reinterpret_cast<const char*>(&slot), 8);
  return out + value;
}

void StorageSeeds(const fs::path& dir) {
  Command c{7, 1, "payload"};
  Batch batch{5, {c}};
  auto ref = std::make_shared<const Batch>(batch);
  storage::SnapshotInfo info{9, storage::SnapshotDataKey(9), 100, 12345, 1};
  int n = 0;
  Write(dir, n++, Record(0, 0, storage::EncodeNodeMeta({1, 42, 1, 1})));
  Write(dir, n++, Record(1, 0, storage::EncodeJoined(Membership{})));
  Write(dir, n++, Record(2, 0, storage::EncodePromise(Ballot{3, 1})));
  Write(dir, n++, Record(3, 4, storage::EncodeAccepted(PValue{4, Ballot{3, 1}, ref})));
  Write(dir, n++, Record(4, 4, storage::EncodeDecided(4, batch)));
  Write(dir, n++, Record(5, 0, storage::EncodeSnapshotRecord(info)));
  Write(dir, n++, Record(6, 0, storage::EncodeConfigs(GrownHistory())));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds tests/fuzz\n");
    return 2;
  }
  const fs::path root = argv[1];
  WireSeeds(root / "wire_message" / "corpus");
  ClientSeeds(root / "client_request" / "corpus");
  SnapshotSeeds(root / "snapshot_restore" / "corpus");
  StorageSeeds(root / "storage_record" / "corpus");
  std::printf("seeds written under %s\n", root.c_str());
  return 0;
}
