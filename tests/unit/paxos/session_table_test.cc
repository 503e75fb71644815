#include "paxos/session_table.h"

#include <gtest/gtest.h>

#include "paxos/limits.h"

namespace synod {
namespace {

TEST(SessionTable, NewRequestThenDuplicateReturnsFirstResult) {
  SessionTable table;
  std::string result;
  EXPECT_EQ(table.Lookup(7, 1, &result), SessionTable::Outcome::kNew);
  table.Record(7, 1, /*slot=*/3, "first");
  EXPECT_EQ(table.Lookup(7, 1, &result), SessionTable::Outcome::kDuplicate);
  EXPECT_EQ(result, "first");
  EXPECT_EQ(table.Lookup(8, 1, &result), SessionTable::Outcome::kNew);
}

TEST(SessionTable, OutOfOrderRequestsOfOneClientAreBothNew) {
  SessionTable table;
  table.Record(7, 2, 1, "two");
  EXPECT_EQ(table.Lookup(7, 1, nullptr), SessionTable::Outcome::kNew);
  table.Record(7, 1, 2, "one");
  EXPECT_EQ(table.Lookup(7, 1, nullptr), SessionTable::Outcome::kDuplicate);
}

TEST(SessionTable, ForgetsOldestResultsBeyondLimitAndCallsThemTooOld) {
  SessionTable table;
  for (uint64_t r = 1; r <= limits::kSessionResultsMax + 2; ++r) table.Record(1, r, r, "x");
  EXPECT_EQ(table.Lookup(1, 1, nullptr), SessionTable::Outcome::kTooOld);
  EXPECT_EQ(table.Lookup(1, 2, nullptr), SessionTable::Outcome::kTooOld);
  EXPECT_EQ(table.Lookup(1, 3, nullptr), SessionTable::Outcome::kDuplicate);
}

TEST(SessionTable, EncodeDecodeRoundTripsAndRejectsGarbage) {
  SessionTable table;
  table.Record(5, 1, 1, "a");
  table.Record(9, 4, 2, std::string("b\0c", 3));
  auto decoded = SessionTable::Decode(table.Encode());
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded.value() == table);
  std::string bytes = table.Encode();
  EXPECT_FALSE(SessionTable::Decode(bytes.substr(0, bytes.size() - 1)).ok());
  EXPECT_FALSE(SessionTable::Decode(bytes + "z").ok());
}

TEST(SessionTable, DigestChangesWithContentAndSurvivesDecode) {
  SessionTable a, b;
  a.Record(1, 1, 1, "x");
  a.Record(2, 1, 2, "y");
  b.Record(2, 1, 2, "y");
  EXPECT_NE(a.Digest(), b.Digest());
  auto decoded = SessionTable::Decode(a.Encode());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded.value().Digest(), a.Digest());
  SessionTable c;
  c.Record(1, 1, 1, "x");
  c.Record(2, 1, 2, "z");  // Other result, other digest.
  EXPECT_NE(c.Digest(), a.Digest());
}

TEST(SessionTable, DigestStaysExactAcrossForgetting) {
  SessionTable table;
  for (uint64_t r = 1; r <= limits::kSessionResultsMax + 10; ++r) table.Record(3, r, r, "v");
  auto decoded = SessionTable::Decode(table.Encode());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded.value().Digest(), table.Digest());
}

}  // namespace
}  // namespace synod
