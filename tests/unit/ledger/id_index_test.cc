// IdIndex against a reference map: inserts, lookups, truncation (also across a growth of the
// table, which is where emptying a slot on removal would go wrong if rehashing lost the
// insertion order), and clearing.
#include "ledger/id_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

namespace synod::ledger::testing {
namespace {

void ExpectSame(const IdIndex& index, const std::vector<Id128>& inserted,
                const std::vector<Id128>& probes) {
  ASSERT_EQ(index.size(), inserted.size());
  std::map<Id128, uint32_t> position;
  for (uint32_t p = 0; p < inserted.size(); ++p) position[inserted[p]] = p;
  for (Id128 id : probes) {
    auto it = position.find(id);
    EXPECT_EQ(index.Find(id), it == position.end() ? IdIndex::kNone : it->second);
  }
  EXPECT_EQ(index.ids(), inserted);
}

TEST(LedgerIdIndex, FindsWhatWasInsertedInOrderAndNothingElse) {
  IdIndex index;
  EXPECT_EQ(index.Find(7), IdIndex::kNone);
  std::vector<Id128> inserted;
  for (Id128 id = 1; id <= 5000; ++id) {  // Sequential ids, across several growths.
    EXPECT_EQ(index.Insert(id << 64 | id), inserted.size());
    inserted.push_back(id << 64 | id);
  }
  bool was_new = true;
  EXPECT_EQ(index.FindOrInsert(inserted[42], &was_new), 42u);
  EXPECT_FALSE(was_new);
  std::vector<Id128> probes = inserted;
  for (Id128 id = 5001; id <= 5100; ++id) probes.push_back(id << 64 | id);
  probes.push_back(0);
  ExpectSame(index, inserted, probes);
}

TEST(LedgerIdIndex, RandomInsertsAndTruncationsMatchAReference) {
  std::mt19937_64 rng(4);
  IdIndex index;
  std::vector<Id128> inserted;
  std::vector<Id128> probes;
  for (int round = 0; round < 300; ++round) {
    const int inserts = int(rng() % 200);
    for (int i = 0; i < inserts; ++i) {
      // Few distinct high halves and colliding low bits, so that probe chains get long.
      Id128 id = (Id128(rng() % 4) << 64) | ((rng() % 100000) << 10);
      bool was_new = false;
      uint32_t p = index.FindOrInsert(id, &was_new);
      if (was_new) inserted.push_back(id);
      ASSERT_EQ(index.id(p), id);
      probes.push_back(id);
    }
    if (rng() % 3 == 0) {  // A linked chain rolled back: drop the newest ones.
      size_t keep = inserted.size() - std::min<size_t>(inserted.size(), rng() % 150);
      index.Truncate(keep);
      inserted.resize(keep);
    }
    if (round % 50 == 49) {
      ExpectSame(index, inserted, probes);
      index.Clear();
      inserted.clear();
    }
  }
  ExpectSame(index, inserted, probes);
}

}  // namespace
}  // namespace synod::ledger::testing
