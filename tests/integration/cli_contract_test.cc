// A 3-node cluster answers every client command of the interface contract
// (../shared/ARCHITECTURE.md) with the documented JSON shapes and exit codes.
#include <gtest/gtest.h>

#include <set>

#include "tests/integration/cluster.h"
#include "tests/integration/json_util.h"

namespace synod::integration {
namespace {

class CliContract : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.StartAll();
    ASSERT_NE(cluster_.WaitForLeader(20000), 0u) << cluster_.DescribeStatus();
  }
  // Runs `synod ARGS --json` against the cluster; expects `exit_code` and one JSON object.
  json Run(std::vector<std::string> args, int exit_code = 0) {
    args.push_back("--json");
    CliResult r = cluster_.Cli(args, 30000);
    std::string cmd;
    for (const std::string& a : args) cmd += a + " ";
    EXPECT_EQ(r.exit_code, exit_code) << "synod " << cmd << "\n" << r.Describe();
    if (exit_code != 0) return json();
    json j = r.First();
    EXPECT_TRUE(j.is_object()) << "synod " << cmd << "\n" << r.Describe();
    return j.is_object() ? j : json::object();
  }
  TestCluster cluster_;
};

TEST_F(CliContract, KvPutGetCasScanDelete) {
  json put = Run({"kv", "put", "fruit/apple", "red"});
  EXPECT_EQ(put.value("ok", false), true) << put;
  const uint64_t v1 = U64(put["version"]);
  EXPECT_GE(v1, 1u) << put;

  json get = Run({"kv", "get", "fruit/apple"});
  EXPECT_EQ(get["key"], "fruit/apple") << get;
  EXPECT_EQ(get["value"], "red") << get;
  EXPECT_EQ(U64(get["version"]), v1) << get;

  json cas = Run({"kv", "cas", "fruit/apple", std::to_string(v1), "green"});
  EXPECT_EQ(cas.value("ok", false), true) << cas;
  const uint64_t v2 = U64(cas["version"]);
  EXPECT_GT(v2, v1) << cas;

  // A cas on a stale version fails and reports the current one; the cluster answered.
  CliResult stale =
      cluster_.Cli({"kv", "cas", "fruit/apple", std::to_string(v1), "blue", "--json"});
  EXPECT_NE(stale.exit_code, kUsage) << stale.Describe();
  EXPECT_NE(stale.exit_code, kNotFound) << stale.Describe();
  json bad = stale.First();
  EXPECT_EQ(bad.value("ok", true), false) << stale.Describe();
  EXPECT_EQ(bad.value("error", ""), "version_mismatch") << stale.Describe();
  EXPECT_EQ(U64(bad["version"]), v2) << stale.Describe();
  EXPECT_EQ(Run({"kv", "get", "fruit/apple"})["value"], "green");

  Run({"kv", "put", "fruit/banana", "yellow"});
  Run({"kv", "put", "veg/leek", "white"});
  json scan = Run({"kv", "scan", "fruit/"});
  ASSERT_TRUE(scan["items"].is_array()) << scan;
  ASSERT_EQ(scan["items"].size(), 2u) << scan;
  EXPECT_EQ(scan["items"][0]["key"], "fruit/apple") << scan;
  EXPECT_EQ(scan["items"][0]["value"], "green") << scan;
  EXPECT_EQ(U64(scan["items"][0]["version"]), v2) << scan;
  EXPECT_EQ(scan["items"][1]["key"], "fruit/banana") << scan;
  json limited = Run({"kv", "scan", "fruit/", "--limit", "1"});
  EXPECT_EQ(limited["items"].size(), 1u) << limited;
  EXPECT_EQ(Run({"kv", "scan", "nothing/"})["items"].size(), 0u);

  json del = Run({"kv", "del", "fruit/apple"});
  EXPECT_EQ(del.value("ok", false), true) << del;
  EXPECT_TRUE(del.contains("version")) << del;
  Run({"kv", "get", "fruit/apple"}, kNotFound);
  Run({"kv", "get", "never/written"}, kNotFound);
}

TEST_F(CliContract, AccountsAndTransfers) {
  json a = Run({"account", "create", "1001", "--ledger", "7", "--code", "10"});
  EXPECT_EQ(Str(a["id"]), "1001") << a;
  EXPECT_EQ(a["result"], "ok") << a;
  EXPECT_EQ(Run({"account", "create", "1002", "--ledger", "7"})["result"], "ok");
  EXPECT_EQ(Run({"account", "create", "1003", "--ledger", "7", "--flags",
                 "debits_must_not_exceed_credits"})["result"],
            "ok");
  EXPECT_EQ(Run({"account", "create", "2001", "--ledger", "8"})["result"], "ok");
  // The cluster answered: exit 0 whatever the result code.
  EXPECT_EQ(Run({"account", "create", "1001", "--ledger", "7", "--code", "10"})["result"],
            "exists");

  json acc = Run({"account", "get", "1001"});
  for (const char* field : {"id", "ledger", "code", "flags", "debits_posted", "credits_posted",
                            "debits_pending", "credits_pending"}) {
    EXPECT_TRUE(acc.contains(field)) << field << " missing in " << acc;
  }
  EXPECT_EQ(Str(acc["id"]), "1001");
  EXPECT_EQ(U64(acc["ledger"]), 7u);
  EXPECT_EQ(U64(acc["code"]), 10u);
  EXPECT_EQ(U64(acc["debits_posted"]), 0u);

  auto transfer = [&](std::vector<std::string> args) { return Run(args)["result"]; };
  EXPECT_EQ(transfer({"transfer", "create", "5001", "--debit", "1001", "--credit", "1002",
                      "--amount", "100", "--ledger", "7"}),
            "ok");
  EXPECT_EQ(transfer({"transfer", "create", "5001", "--debit", "1001", "--credit", "1002",
                      "--amount", "100", "--ledger", "7"}),
            "exists");
  EXPECT_EQ(transfer({"transfer", "create", "5002", "--debit", "1003", "--credit", "1002",
                      "--amount", "5", "--ledger", "7"}),
            "exceeds_credits");
  EXPECT_EQ(transfer({"transfer", "create", "5009", "--debit", "1001", "--credit", "1001",
                      "--amount", "5", "--ledger", "7"}),
            "accounts_must_be_different");
  EXPECT_EQ(transfer({"transfer", "create", "5010", "--debit", "1001", "--credit", "2001",
                      "--amount", "5", "--ledger", "7"}),
            "ledger_mismatch");
  // Pending, then posted in part (30 of 50); pending, then voided.
  EXPECT_EQ(transfer({"transfer", "create", "5003", "--debit", "1001", "--credit", "1002",
                      "--amount", "50", "--ledger", "7", "--pending"}),
            "ok");
  json pending = Run({"account", "get", "1001"});
  EXPECT_EQ(U64(pending["debits_pending"]), 50u) << pending;
  EXPECT_EQ(transfer({"transfer", "post", "5004", "--pending-id", "5003", "--amount", "30"}), "ok");
  EXPECT_EQ(transfer({"transfer", "create", "5005", "--debit", "1001", "--credit", "1002",
                      "--amount", "20", "--ledger", "7", "--pending"}),
            "ok");
  EXPECT_EQ(transfer({"transfer", "void", "5006", "--pending-id", "5005"}), "ok");
  EXPECT_EQ(transfer({"transfer", "void", "5007", "--pending-id", "5005"}) == "ok", false);

  json t = Run({"transfer", "get", "5001"});
  for (const char* field : {"id", "debit", "credit", "amount", "ledger", "code", "flags",
                            "pending_id", "timestamp", "state"}) {
    EXPECT_TRUE(t.contains(field)) << field << " missing in " << t;
  }
  EXPECT_EQ(Str(t["id"]), "5001");
  EXPECT_EQ(Str(t["debit"]), "1001");
  EXPECT_EQ(Str(t["credit"]), "1002");
  EXPECT_EQ(U64(t["amount"]), 100u);
  EXPECT_EQ(U64(t["ledger"]), 7u);
  EXPECT_GT(U64(t["timestamp"]), 0u);
  EXPECT_EQ(Run({"transfer", "get", "5003"})["state"], "posted");
  EXPECT_EQ(Run({"transfer", "get", "5005"})["state"], "voided");
  EXPECT_EQ(Str(Run({"transfer", "get", "5004"})["pending_id"]), "5003");

  json debit = Run({"account", "get", "1001"});
  EXPECT_EQ(U64(debit["debits_posted"]), 130u) << debit;
  EXPECT_EQ(U64(debit["debits_pending"]), 0u) << debit;
  json credit = Run({"account", "get", "1002"});
  EXPECT_EQ(U64(credit["credits_posted"]), 130u) << credit;
  EXPECT_EQ(U64(credit["credits_pending"]), 0u) << credit;

  Run({"account", "get", "999999"}, kNotFound);
  Run({"transfer", "get", "999999"}, kNotFound);
}

TEST_F(CliContract, StatusAndCheck) {
  Run({"kv", "put", "k", "v"});
  Run({"account", "create", "1", "--ledger", "1"});
  Run({"account", "create", "2", "--ledger", "1"});
  Run({"transfer", "create", "3", "--debit", "1", "--credit", "2", "--amount", "9", "--ledger",
       "1"});
  ASSERT_TRUE(cluster_.WaitForConvergence(10000)) << cluster_.DescribeStatus();

  CliResult status = cluster_.Cli({"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.Describe();
  std::vector<json> rows = status.Json();
  ASSERT_EQ(rows.size(), 3u) << status.Describe();
  std::set<std::string> ids, hashes;
  size_t leaders = 0;
  for (const json& row : rows) {
    for (const char* field : {"id", "address", "role", "leader", "ballot", "next_slot",
                              "decided_slot", "applied_slot", "snapshot_slot", "state_hash"}) {
      EXPECT_TRUE(row.contains(field)) << field << " missing in " << row;
    }
    ids.insert(Str(row["id"]));
    hashes.insert(row.value("state_hash", ""));
    const std::string role = row.value("role", "");
    EXPECT_TRUE(role == "leader" || role == "follower") << row;
    leaders += role == "leader";
  }
  EXPECT_EQ(ids, (std::set<std::string>{"1", "2", "3"}));
  EXPECT_EQ(leaders, 1u) << status.out;
  EXPECT_EQ(hashes.size(), 1u) << status.out;

  json check = Run({"check"});
  EXPECT_EQ(check.value("ok", false), true) << check;
  EXPECT_EQ(check.value("state_hash_agree", false), true) << check;
  EXPECT_TRUE(check["ledgers"].is_array()) << check;
  EXPECT_GE(U64(check["applied_slot"]), 4u) << check;

  // A node that is down shows as unreachable; the others still answer.
  cluster_.Kill(3);
  CliResult partial = cluster_.Cli({"status", "--json"});
  bool saw_unreachable = false;
  for (const json& row : partial.Json()) {
    if (Str(row["id"]) == "3") saw_unreachable = row.value("role", "") == "unreachable";
  }
  EXPECT_TRUE(saw_unreachable) << partial.Describe();
}

}  // namespace
}  // namespace synod::integration
