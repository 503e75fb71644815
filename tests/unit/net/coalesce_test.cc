// Coalesced frames (wire.fbs Envelope.more): several envelopes in one frame, each decoded and
// checked as if it had come alone, within limits::kEnvelopesPerFrameMax and kCoalescedBytesMax.
#include <gtest/gtest.h>

#include "net/codec.h"
#include "paxos/limits.h"
#include "schemas/wire_generated.h"

namespace synod::net {
namespace {

std::vector<Envelope> Invokes(size_t n, size_t payload_bytes = 8) {
  std::vector<Envelope> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(
        {kClientEndpoint, 1, InvokeMsg{Command{42, i + 1, std::string(payload_bytes, 'p')}}});
  }
  return out;
}

// A frame built by hand: `count` Invokes, the last of which carries a `more` of its own when
// `nested`.
std::string HandMadeFrame(size_t count, bool nested) {
  flatbuffers::FlatBufferBuilder fbb;
  auto invoke =
      [&](uint64_t request,
          flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<wire::Envelope>>> more = 0) {
        const uint8_t payload[] = {1, 2, 3};
        auto command = wire::CreateCommand(fbb, 42, request, fbb.CreateVector(payload, 3));
        return wire::CreateEnvelope(fbb, 0, 1, wire::Body::Invoke,
                                    wire::CreateInvoke(fbb, command).Union(), more);
      };
  std::vector<flatbuffers::Offset<wire::Envelope>> rest;
  for (size_t i = 1; i < count; ++i) {
    flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<wire::Envelope>>> inner = 0;
    if (nested && i + 1 == count) inner = fbb.CreateVector(std::vector{invoke(1000)});
    rest.push_back(invoke(i + 1, inner));
  }
  auto more = fbb.CreateVector(rest);
  fbb.Finish(invoke(1, more));
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

TEST(Coalesce, EnvelopesOfOneFrameComeBackInOrder) {
  std::vector<Envelope> sent = Invokes(3);
  sent.push_back({2, 0, InvokedMsg{42, 9, true, "result", 2}});
  const std::string frame = EncodeFrame(sent);
  std::vector<Envelope> got{{0, 1, StatusQueryMsg{}}};  // Appended to, not replaced.
  ASSERT_TRUE(DecodeFrame(frame, &got).ok());
  ASSERT_EQ(got.size(), 1 + sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(Encode(got[i + 1]), Encode(sent[i])) << "envelope " << i;
  }
  EXPECT_EQ(EncodeFrame(std::span<const Envelope>(got).subspan(1)), frame);
}

TEST(Coalesce, OneEnvelopeFramesAreWhatEncodeWrites) {
  const std::vector<Envelope> one = Invokes(1);
  EXPECT_EQ(EncodeFrame(one), Encode(one.front()));
  EXPECT_TRUE(Decode(EncodeFrame(one)).ok());
}

TEST(Coalesce, DecodeOfOneRefusesAFrameOfSeveralNamingTheCount) {
  auto r = Decode(EncodeFrame(Invokes(2)));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("frame carries 2 envelopes"), std::string::npos)
      << r.status().ToString();
}

TEST(Coalesce, ABadEnvelopeInMoreRejectsTheWholeFrame) {
  std::vector<Envelope> sent = Invokes(2);
  sent.push_back({2, 1, DecisionMsg{0, Ballot{1, 2}, nullptr}});  // Slot 0: meaningless.
  std::vector<Envelope> got;
  Status s = DecodeFrame(EncodeFrame(sent), &got);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("decision slot"), std::string::npos) << s.ToString();
  EXPECT_TRUE(got.empty());
}

TEST(Coalesce, AnEnvelopeInMoreMayNotCarryMoreOfItsOwn) {
  std::vector<Envelope> got;
  ASSERT_TRUE(DecodeFrame(HandMadeFrame(3, false), &got).ok());
  EXPECT_EQ(got.size(), 3u);
  got.clear();
  Status s = DecodeFrame(HandMadeFrame(3, true), &got);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("has a `more` of its own"), std::string::npos) << s.ToString();
  EXPECT_TRUE(got.empty());
}

TEST(Coalesce, FramesAboveTheEnvelopeLimitAreRejected) {
  std::vector<Envelope> got;
  EXPECT_TRUE(DecodeFrame(HandMadeFrame(limits::kEnvelopesPerFrameMax, false), &got).ok());
  got.clear();
  Status s = DecodeFrame(HandMadeFrame(limits::kEnvelopesPerFrameMax + 1, false), &got);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("exceeds the limit of 4096"), std::string::npos) << s.ToString();
  EXPECT_TRUE(got.empty());
}

size_t EnvelopesIn(const std::vector<std::string>& frames) {
  size_t n = 0;
  for (const std::string& f : frames) {
    std::vector<Envelope> got;
    EXPECT_TRUE(DecodeFrame(f, &got).ok());
    EXPECT_LE(f.size(), limits::kFrameBytesMax);
    n += got.size();
  }
  return n;
}

TEST(Coalesce, EncodeFramesSplitsAtTheEnvelopeLimit) {
  const auto frames = EncodeFrames(Invokes(limits::kEnvelopesPerFrameMax + 10));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(EnvelopesIn({frames[0]}), limits::kEnvelopesPerFrameMax);
  EXPECT_EQ(EnvelopesIn({frames[1]}), 10u);
  EXPECT_TRUE(EncodeFrames({}).empty());
}

TEST(Coalesce, EncodeFramesSplitsAtTheByteLimit) {
  // Largest commands: at most kCoalescedBytesMax of payload per frame, so 3 of 1 MiB each.
  const auto sent = Invokes(7, limits::kPayloadBytesMax);
  const auto frames = EncodeFrames(sent);
  const size_t per_frame = limits::kCoalescedBytesMax / (limits::kPayloadBytesMax + 256);
  EXPECT_EQ(frames.size(), (sent.size() + per_frame - 1) / per_frame);
  EXPECT_EQ(EnvelopesIn(frames), sent.size());
}

TEST(Coalesce, OnlyInvokesAndRepliesShareAFrame) {
  std::vector<Envelope> sent = Invokes(2);
  sent.push_back({0, 1, StatusQueryMsg{}});
  sent.push_back(Invokes(1).front());
  const auto frames = EncodeFrames(sent);
  ASSERT_EQ(frames.size(), 3u);  // [invoke invoke] [status] [invoke]
  std::vector<Envelope> got;
  for (const auto& f : frames) ASSERT_TRUE(DecodeFrame(f, &got).ok());
  ASSERT_EQ(got.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(Encode(got[i]), Encode(sent[i]));
}

TEST(Coalesce, TheAcceptsMoreFlagTravelsAndDefaultsToFalse) {
  bool accepts_more = true;
  std::vector<Envelope> got;
  ASSERT_TRUE(DecodeFrame(Encode(Invokes(1).front()), &got, &accepts_more).ok());
  EXPECT_FALSE(accepts_more);
  ASSERT_TRUE(
      DecodeFrame(EncodeFrame(Invokes(1), /*accepts_more=*/true), &got, &accepts_more).ok());
  EXPECT_TRUE(accepts_more);
  for (const std::string& f : EncodeFrames(Invokes(3), /*accepts_more=*/true)) {
    ASSERT_TRUE(DecodeFrame(f, &got, &accepts_more).ok());
    EXPECT_TRUE(accepts_more);
  }
}

}  // namespace
}  // namespace synod::net
