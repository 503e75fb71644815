// Fuzz target: wire frames from the network, decoded and handled. Each part of the input is one
// frame (fuzz_input.h). A frame the codec accepts must re-encode to bytes that decode to the same
// encoding, and each of its envelopes is then stepped into a joined member's consensus core (node 1
// of {1, 2, 3}), with ticks in between; the core's invariants must hold after every step. A crash,
// a sanitizer report or a broken invariant is a finding.
#include <cstdio>
#include <cstdlib>

#include "net/codec.h"
#include "paxos/core.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace synod;

void Require(bool ok, const char* what, const std::string& detail = "") {
  if (ok) return;
  std::fprintf(stderr, "wire_message_fuzz: %s %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  CoreConfig config;
  config.self = 1;
  config.members = {1, 2, 3};
  RecoveredState recovered;
  recovered.joined = true;
  Core core(config, std::move(recovered));
  Ready start;
  core.Start(&start);
  uint64_t now_ns = 1;
  for (const std::string& frame : fuzz::SplitParts(data, size, 64)) {
    std::vector<Envelope> decoded;  // A frame may carry several (wire.fbs Envelope.more).
    if (!net::DecodeFrame(frame, &decoded).ok()) continue;
    const std::string again = net::EncodeFrame(decoded);
    std::vector<Envelope> redecoded;
    const Status s = net::DecodeFrame(again, &redecoded);
    Require(s.ok(), "re-encoded frame does not decode:", s.ToString());
    Require(net::EncodeFrame(redecoded) == again, "encoding is not stable");
    for (const Envelope& e : decoded) {
      if (e.to != config.self) continue;  // The transport drops misaddressed frames.
      Ready ready;
      core.Step(e, &ready);
      Require(core.CheckInvariants().empty(),
              "invariant broken after Step:", core.CheckInvariants());
      core.Tick(now_ns += 5000000, &ready);
      Require(core.CheckInvariants().empty(),
              "invariant broken after Tick:", core.CheckInvariants());
    }
  }
  return 0;
}
