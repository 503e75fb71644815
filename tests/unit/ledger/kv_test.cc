// KV commands: put/get/delete/cas/scan, versions, limits on keys and values.
#include "paxos/limits.h"
#include "test_util.h"

namespace synod::ledger::testing {
namespace {

TEST(LedgerKv, PutThenGetReturnsValueAndVersion) {
  Harness h;
  DecodedResult put = h.Apply(EncodeKvPut("k", "v1"));
  EXPECT_EQ(put.code, RC::ok);
  EXPECT_EQ(put.version, 1u);
  DecodedResult get = h.Apply(EncodeKvGet("k"));
  ASSERT_EQ(get.code, RC::ok);
  ASSERT_EQ(get.items.size(), 1u);
  EXPECT_EQ(get.items[0].value, "v1");
  EXPECT_EQ(get.items[0].version, 1u);
}

TEST(LedgerKv, GetAndDeleteOfMissingKeyAnswerNotFound) {
  Harness h;
  EXPECT_EQ(h.Apply(EncodeKvGet("nope")).code, RC::not_found);
  EXPECT_EQ(h.Apply(EncodeKvDelete("nope")).code, RC::not_found);
}

TEST(LedgerKv, VersionsAreNeverReusedAfterDelete) {
  Harness h;
  EXPECT_EQ(h.Apply(EncodeKvPut("k", "a")).version, 1u);
  DecodedResult del = h.Apply(EncodeKvDelete("k"));
  EXPECT_EQ(del.code, RC::ok);
  EXPECT_EQ(del.version, 2u);
  EXPECT_EQ(h.Apply(EncodeKvGet("k")).code, RC::not_found);
  EXPECT_EQ(h.Apply(EncodeKvPut("k", "b")).version, 3u);
  // A CAS that expected the pre-delete version fails (no ABA).
  DecodedResult cas = h.Apply(EncodeKvCas("k", 1, "c"));
  EXPECT_EQ(cas.code, RC::version_mismatch);
  EXPECT_EQ(cas.version, 3u);
}

TEST(LedgerKv, CasWithVersionZeroCreatesOnlyMissingKeys) {
  Harness h;
  EXPECT_EQ(h.Apply(EncodeKvCas("k", 0, "first")).code, RC::ok);
  DecodedResult again = h.Apply(EncodeKvCas("k", 0, "second"));
  EXPECT_EQ(again.code, RC::version_mismatch);
  EXPECT_EQ(again.version, 1u);
  EXPECT_EQ(h.Apply(EncodeKvGet("k")).items[0].value, "first");
}

TEST(LedgerKv, CasRaceInOneBatchHasExactlyOneWinner) {
  Harness h;
  uint64_t v = h.Apply(EncodeKvPut("counter", "0")).version;
  // Two clients read version v and both try to swap in the same batch.
  std::vector<DecodedResult> r =
      h.ApplyMany({EncodeKvCas("counter", v, "from-a"), EncodeKvCas("counter", v, "from-b")});
  EXPECT_EQ(r[0].code, RC::ok);
  EXPECT_EQ(r[1].code, RC::version_mismatch);
  EXPECT_EQ(r[1].version, r[0].version);
  EXPECT_EQ(h.Apply(EncodeKvGet("counter")).items[0].value, "from-a");
}

TEST(LedgerKv, CasOnMissingKeyWithNonzeroVersionFails) {
  Harness h;
  DecodedResult r = h.Apply(EncodeKvCas("k", 5, "x"));
  EXPECT_EQ(r.code, RC::version_mismatch);
  EXPECT_EQ(r.version, 0u);
}

TEST(LedgerKv, KeyAndValueSizeLimitsAreEnforced) {
  Harness h;
  std::string key_max(1024, 'k'), key_over(1025, 'k');
  std::string value_max(64 * 1024, 'v'), value_over(64 * 1024 + 1, 'v');
  EXPECT_EQ(h.Apply(EncodeKvPut(key_max, value_max)).code, RC::ok);
  EXPECT_EQ(h.Apply(EncodeKvPut(key_over, "v")).code, RC::key_too_long);
  EXPECT_EQ(h.Apply(EncodeKvPut("k", value_over)).code, RC::value_too_long);
  EXPECT_EQ(h.Apply(EncodeKvCas("k", 0, value_over)).code, RC::value_too_long);
  EXPECT_EQ(h.Apply(EncodeKvPut("", "v")).code, RC::key_must_not_be_empty);
  EXPECT_EQ(h.Apply(EncodeKvGet(key_over)).code, RC::key_too_long);
  EXPECT_EQ(h.Apply(EncodeKvScan(key_over, 1)).code, RC::key_too_long);
  EXPECT_EQ(h.Apply(EncodeKvGet(key_max)).items[0].value.size(), value_max.size());
  EXPECT_EQ(h.sm().kv_count(), 1u);
}

TEST(LedgerKv, ScanReturnsPrefixInKeyOrderUpToLimit) {
  Harness h;
  for (const char* k : {"b/2", "a/1", "b/1", "b/3", "c/1"}) h.Apply(EncodeKvPut(k, k));
  DecodedResult all = h.Apply(EncodeKvScan("b/", 0));
  ASSERT_EQ(all.items.size(), 3u);
  EXPECT_EQ(all.items[0].key, "b/1");
  EXPECT_EQ(all.items[2].key, "b/3");
  EXPECT_FALSE(all.more);
  DecodedResult two = h.Apply(EncodeKvScan("b/", 2));
  ASSERT_EQ(two.items.size(), 2u);
  EXPECT_EQ(two.items[1].key, "b/2");
  EXPECT_TRUE(two.more);
  DecodedResult exact = h.Apply(EncodeKvScan("b/", 3));
  EXPECT_FALSE(exact.more);
  EXPECT_EQ(h.Apply(EncodeKvScan("", 0)).items.size(), 5u);
  EXPECT_EQ(h.Apply(EncodeKvScan("zzz", 0)).items.size(), 0u);
}

TEST(LedgerKv, ScanCapsLimitAndBytes) {
  Harness h;
  std::vector<std::string> puts;
  for (int i = 0; i < 1200; ++i) puts.push_back(EncodeKvPut("n/" + std::to_string(10000 + i), "x"));
  h.ApplyMany(puts);
  std::vector<std::string> raw = h.ApplyManyRaw({EncodeKvScan("n/", 5000)});
  DecodedResult r = Decode(raw[0]);
  EXPECT_EQ(r.items.size(), 1000u);  // limits::kScanItemsMax.
  EXPECT_TRUE(r.more);
  EXPECT_LE(raw[0].size(), synod::limits::kResultBytesMax);
  // Big values: the byte budget stops the scan early, but always returns one item.
  std::string big(60 * 1024, 'b');
  h.ApplyMany({EncodeKvPut("big/1", big), EncodeKvPut("big/2", big)});
  DecodedResult b = h.Apply(EncodeKvScan("big/", 10));
  EXPECT_EQ(b.items.size(), 1u);
  EXPECT_TRUE(b.more);
}

TEST(LedgerKv, MalformedPayloadIsRejectedAndChangesNothing) {
  Harness h;
  h.Apply(EncodeKvGet("k"));  // Sets the cluster time, part of the hash.
  Hash128 before = h.sm().StateHash();
  DecodedResult r = h.ApplyRaw(Command{1, 1, "not a flatbuffer"});
  EXPECT_EQ(r.code, RC::malformed_command);
  EXPECT_EQ(h.sm().kv_count(), 0u);
  EXPECT_EQ(h.sm().StateHash(), before);
}

}  // namespace
}  // namespace synod::ledger::testing
