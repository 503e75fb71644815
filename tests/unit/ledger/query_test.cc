// StateMachine::Query, the node's read path outside the log: it answers exactly what the same
// read through the log answers, on the state at applied_slot(), changes nothing (slot, hash),
// and refuses writes and malformed payloads (nullopt), so a write can never bypass the log.
#include "test_util.h"

namespace synod::ledger::testing {
namespace {

TEST(LedgerQuery, AnswersLikeTheLogAndChangesNothing) {
  Harness h;
  h.Apply(EncodeKvPut("k", "v1"));
  h.Apply(EncodeKvPut("k/2", "v2"));
  for (const std::string& read :
       {EncodeKvGet("k"), EncodeKvGet("missing"), EncodeKvScan("k", 10)}) {
    const Slot slot = h.sm().applied_slot();
    const std::string hash = h.sm().StateHash().ToHex();
    auto answered = h.sm().Query(read);
    ASSERT_TRUE(answered.has_value());
    auto from_query = DecodeResult(*answered);
    ASSERT_TRUE(from_query.ok());
    EXPECT_EQ(h.sm().applied_slot(), slot) << "a query moved the applied slot";
    EXPECT_EQ(h.sm().StateHash().ToHex(), hash) << "a query changed the state";
    DecodedResult through_log = h.Apply(read);
    EXPECT_EQ(from_query.value().code, through_log.code);
    ASSERT_EQ(from_query.value().items.size(), through_log.items.size());
    for (size_t i = 0; i < through_log.items.size(); ++i) {
      EXPECT_EQ(from_query.value().items[i].value, through_log.items[i].value);
      EXPECT_EQ(from_query.value().items[i].version, through_log.items[i].version);
    }
  }
}

TEST(LedgerQuery, RefusesWritesAndMalformedPayloads) {
  Harness h;
  const std::string hash = h.sm().StateHash().ToHex();
  EXPECT_FALSE(h.sm().Query(EncodeKvPut("k", "v")).has_value());
  EXPECT_FALSE(h.sm().Query(EncodeKvDelete("k")).has_value());
  EXPECT_FALSE(h.sm().Query(EncodeKvCas("k", 0, "v")).has_value());
  EXPECT_FALSE(h.sm().Query("not a command").has_value());
  EXPECT_FALSE(h.sm().Query("").has_value());
  EXPECT_EQ(h.sm().StateHash().ToHex(), hash);
  EXPECT_EQ(h.Apply(EncodeKvGet("k")).code, RC::not_found) << "a refused write was applied";
}

}  // namespace
}  // namespace synod::ledger::testing
