// Fuzz target: wire frames from the network, decoded and handled. Each part of the input is one
// frame (fuzz_input.h). A frame the codec accepts must re-encode to bytes that decode to the same
// encoding, and is then stepped into a joined member's consensus core (node 1 of {1, 2, 3}), with
// ticks in between; the core's invariants must hold after every step. A crash, a sanitizer
// report or a broken invariant is a finding.
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
    auto decoded = net::Decode(frame);
    if (!decoded.ok()) continue;
    const std::string again = net::Encode(decoded.value());
    auto redecoded = net::Decode(again);
    Require(redecoded.ok(), "re-encoded frame does not decode:", redecoded.status().ToString());
    Require(net::Encode(redecoded.value()) == again, "encoding is not stable");
    Envelope e = std::move(decoded.value());
    if (e.to != config.self) continue;  // The transport drops misaddressed frames.
    Ready ready;
    core.Step(e, &ready);
    Require(core.CheckInvariants().empty(), "invariant broken after Step:", core.CheckInvariants());
    core.Tick(now_ns += 5000000, &ready);
    Require(core.CheckInvariants().empty(), "invariant broken after Tick:", core.CheckInvariants());
  }
  return 0;
}
