// The screen (net/screen.h): peer messages that make no sense in the cluster {1, 2, 3} are
// dropped and counted under their reason; honest ones pass untouched.
#include "net/screen.h"

#include <gtest/gtest.h>

#include "paxos/limits.h"

namespace synod::net {
namespace {

const std::vector<NodeId> kMembers = {1, 2, 3};

BatchRef Batch1() { return std::make_shared<const Batch>(Batch{1, {Command{7, 1, "payload"}}}); }

// Screens `body` from `from` at a node that decided up to slot 100.
bool Passes(NodeId from, Body body, Rejections* r, std::string* why = nullptr) {
  std::string reason;
  ScreenContext ctx{&kMembers, 100};
  const bool ok = Screen(Envelope{from, 1, std::move(body)}, ctx, r, &reason);
  if (why) *why = reason;
  return ok;
}

TEST(Screen, HonestPeerMessagesPass) {
  Rejections r;
  const Ballot b2{5, 2};
  EXPECT_TRUE(Passes(2, PrepareMsg{b2, 90}, &r));
  EXPECT_TRUE(Passes(2, AcceptMsg{b2, 101, Batch1()}, &r));
  EXPECT_TRUE(Passes(2, ActiveMsg{b2, 100}, &r));
  EXPECT_TRUE(Passes(2, DecisionMsg{101, b2, Batch1()}, &r));
  EXPECT_TRUE(Passes(3, PromiseMsg{b2, 0, {PValue{99, Ballot{4, 3}, Batch1()}}}, &r));
  EXPECT_TRUE(Passes(3, PromiseMsg{Ballot{}, 0, {}}, &r));  // Nothing promised yet.
  EXPECT_TRUE(Passes(3, AcceptedMsg{b2, 101}, &r));
  EXPECT_TRUE(Passes(3, DecisionsMsg{{Decision{50, Batch1()}, Decision{51, Batch1()}}}, &r));
  EXPECT_TRUE(Passes(3, CatchupMsg{1}, &r));
  EXPECT_TRUE(Passes(3, JoinMsg{}, &r));
  EXPECT_TRUE(Passes(2, ConfirmMsg{b2, 7}, &r));
  EXPECT_TRUE(Passes(3, ConfirmedMsg{b2, 7}, &r));
  EXPECT_EQ(r.Total(), 0u);
}

TEST(Screen, SenderOutsideTheClusterIsCounted) {
  Rejections r;
  EXPECT_FALSE(Passes(9, CatchupMsg{1}, &r));
  EXPECT_FALSE(Passes(0 + 4, JoinMsg{}, &r));
  EXPECT_EQ(r.not_member, 2u);
  EXPECT_EQ(r.Total(), 2u);
}

TEST(Screen, BallotsOfStrangersOrOfAnotherLeaderAreCounted) {
  Rejections r;
  std::string why;
  EXPECT_FALSE(Passes(2, PrepareMsg{Ballot{5, 9}, 1}, &r, &why));  // A non-member's ballot.
  EXPECT_NE(why.find("node 9"), std::string::npos) << why;
  EXPECT_FALSE(Passes(2, AcceptMsg{Ballot{5, 3}, 101, Batch1()}, &r));  // Node 3's, from 2.
  EXPECT_FALSE(Passes(2, ActiveMsg{Ballot{5, 1}, 100}, &r));
  EXPECT_FALSE(Passes(2, DecisionMsg{101, Ballot{5, 3}, Batch1()}, &r));
  EXPECT_FALSE(Passes(3, PromiseMsg{Ballot{5, 2}, 0, {PValue{9, Ballot{4, 7}, Batch1()}}}, &r));
  EXPECT_FALSE(Passes(3, AcceptedMsg{Ballot{5, 8}, 101}, &r));
  EXPECT_FALSE(Passes(2, ConfirmMsg{Ballot{5, 3}, 7}, &r));  // Asks about node 3's ballot.
  EXPECT_FALSE(Passes(3, ConfirmedMsg{Ballot{5, 9}, 7}, &r));
  EXPECT_EQ(r.ballot_not_member, 8u);
  EXPECT_EQ(r.Total(), 8u);
}

TEST(Screen, SlotsBeyondAnyHonestSenderAreCounted) {
  Rejections r;
  const Slot far = 100 + limits::kSlotsAheadMax + 1;
  EXPECT_TRUE(Passes(2, AcceptMsg{Ballot{5, 2}, far - 1, Batch1()}, &r));  // The last allowed.
  EXPECT_FALSE(Passes(2, AcceptMsg{Ballot{5, 2}, far, Batch1()}, &r));
  EXPECT_FALSE(Passes(2, CatchupMsg{UINT64_MAX}, &r));
  EXPECT_FALSE(Passes(2, DecisionsMsg{{Decision{far, Batch1()}}}, &r));
  EXPECT_FALSE(Passes(2, ActiveMsg{Ballot{5, 2}, UINT64_MAX - 1}, &r));
  EXPECT_EQ(r.slot_outside_window, 4u);
}

TEST(Screen, BatchesBeyondTheLimitsAreCounted) {
  Rejections r;
  auto big = std::make_shared<Batch>();
  big->commands.resize(limits::kCommandsPerBatchMax + 1, Command{7, 1, "x"});
  EXPECT_FALSE(Passes(2, AcceptMsg{Ballot{5, 2}, 101, big}, &r));
  std::vector<Command> heavy(9, Command{7, 1, std::string(limits::kBatchBytesMax / 8, 'x')});
  EXPECT_FALSE(Passes(2, ProposeMsg{heavy}, &r));
  std::vector<Decision> many(limits::kDecisionsPerMessageMax + 1, Decision{50, Batch1()});
  EXPECT_FALSE(Passes(2, DecisionsMsg{many}, &r));
  EXPECT_EQ(r.batch_over_limits, 3u);
}

}  // namespace
}  // namespace synod::net
