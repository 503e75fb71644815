// Error paths of the CLI: an unreachable cluster (clear message, exit 1, within the timeout),
// a bad cluster spec, bad ids and amounts (exit 2, nothing sent). Not found (exit 3) is in
// cli_contract_test.cc.
#include <gtest/gtest.h>

#include <zmq.hpp>

#include "tests/integration/cluster.h"
#include "tests/integration/json_util.h"

namespace synod::integration {
namespace {

// A ZeroMQ ROUTER on a free port that counts every message it receives: a stand-in cluster
// that shows whether a command sent anything.
class Listener {
 public:
  Listener() : ports_(1), socket_(context_, zmq::socket_type::router) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.bind("tcp://127.0.0.1:" + std::to_string(ports_.port(0)));
  }
  std::string Spec() const { return "1=127.0.0.1:" + std::to_string(ports_.port(0)); }
  // Messages received so far (waits `wait_ms` for stragglers).
  size_t Received(int wait_ms = 200) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    for (int waited = 0;; waited += 50) {
      while (true) {
        zmq::message_t m;
        if (!socket_.recv(m, zmq::recv_flags::dontwait)) break;
        if (!m.more()) ++count_;
      }
      if (waited >= wait_ms) return count_;
      zmq::poll(&item, 1, std::chrono::milliseconds(50));
    }
  }

 private:
  PortLease ports_;
  zmq::context_t context_;
  zmq::socket_t socket_;
  size_t count_ = 0;
};

TEST(CliErrors, UnreachableClusterFailsWithinTheTimeout) {
  PortLease nobody(3);  // Free ports: nothing listens there.
  std::string spec;
  for (size_t i = 0; i < 3; ++i) {
    spec += (i ? "," : "") + std::to_string(i + 1) + "=127.0.0.1:" + std::to_string(nobody.port(i));
  }
  for (std::vector<std::string> cmd : {std::vector<std::string>{"kv", "put", "k", "v"},
                                       {"kv", "get", "k"},
                                       {"account", "create", "1", "--ledger", "1"},
                                       {"transfer", "get", "1"}}) {
    cmd.insert(cmd.end(), {"--cluster", spec, "--timeout-ms", "2000"});
    CliResult r = RunSynod(cmd, 20000);
    EXPECT_EQ(r.exit_code, kFailure) << cmd[0] << " " << cmd[1] << "\n" << r.Describe();
    EXPECT_LT(r.seconds, 2.0 + 3.0) << r.Describe();  // The timeout plus start-up slack.
    EXPECT_GE(r.seconds, 1.5) << "gave up before the timeout: " << r.Describe();
    EXPECT_TRUE(r.err.find("unreachable") != std::string::npos ||
                r.err.find("no answer") != std::string::npos)
        << "no clear message on stderr: " << r.Describe();
    EXPECT_TRUE(r.out.find("\"ok\": true") == std::string::npos &&
                r.out.find("\"ok\":true") == std::string::npos)
        << r.Describe();
  }
}

TEST(CliErrors, BadClusterSpecIsAUsageError) {
  for (const std::string spec :
       {"nonsense", "1=127.0.0.1", "1=127.0.0.1:99999", "0=127.0.0.1:7101",
        "1=127.0.0.1:7101,1=127.0.0.1:7102", "x=127.0.0.1:7101", "1=:7101"}) {
    CliResult r = RunSynod({"kv", "get", "k", "--cluster", spec, "--timeout-ms", "1000"}, 20000);
    EXPECT_EQ(r.exit_code, kUsage) << "spec '" << spec << "'\n" << r.Describe();
    EXPECT_FALSE(r.err.empty()) << "spec '" << spec << "'\n" << r.Describe();
  }
  // The same through SYNOD_CLUSTER.
  CliResult r = RunSynod({"kv", "get", "k"}, 20000, {"SYNOD_CLUSTER=1=nowhere"});
  EXPECT_EQ(r.exit_code, kUsage) << r.Describe();
  EXPECT_NE(r.err.find("SYNOD_CLUSTER"), std::string::npos) << r.Describe();
}

TEST(CliErrors, BadIdsAndAmountsAreUsageErrorsAndSendNothing) {
  Listener listener;
  const std::string too_big_id = "340282366920938463463374607431768211456";  // 2^128
  const std::string too_big_amount = "18446744073709551616";                 // 2^64
  const std::vector<std::vector<std::string>> commands = {
      {"account", "get", "abc"},
      {"account", "get", "-1"},
      {"account", "get", "1.5"},
      {"account", "get", too_big_id},
      {"account", "create", "x1", "--ledger", "1"},
      {"account", "create", "1", "--ledger", "-3"},
      {"account", "create", "1", "--ledger", "1", "--flags", "no_such_flag"},
      {"transfer", "get", "twelve"},
      {"transfer", "create", "1", "--debit", "abc", "--credit", "2", "--amount", "5"},
      {"transfer", "create", "1", "--debit", "1", "--credit", too_big_id, "--amount", "5"},
      {"transfer", "create", "1", "--debit", "1", "--credit", "2", "--amount", "-5"},
      {"transfer", "create", "1", "--debit", "1", "--credit", "2", "--amount", "1.5"},
      {"transfer", "create", "1", "--debit", "1", "--credit", "2", "--amount", "ten"},
      {"transfer", "create", "1", "--debit", "1", "--credit", "2", "--amount", too_big_amount},
      {"transfer", "create", "1", "--debit", "1", "--credit", "2"},  // --amount missing
      {"transfer", "post", "1", "--pending-id", "p"},
      {"transfer", "post", "1", "--pending-id", "2", "--amount", "-1"},
      {"transfer", "void", "1"},  // --pending-id missing
      {"kv", "cas", "k", "notaversion", "v"},
      {"kv", "scan", "p", "--limit", "-1"},
      {"kv", "put", "k"},  // value missing
      {"kv", "frobnicate", "k"},
  };
  for (std::vector<std::string> cmd : commands) {
    std::string text;
    for (const std::string& a : cmd) text += a + " ";
    cmd.insert(cmd.end(), {"--cluster", listener.Spec(), "--timeout-ms", "1000"});
    CliResult r = RunSynod(cmd, 20000);
    EXPECT_EQ(r.exit_code, kUsage) << "synod " << text << "\n" << r.Describe();
    EXPECT_FALSE(r.err.empty()) << "synod " << text << "\n" << r.Describe();
    EXPECT_EQ(listener.Received(), 0u) << "synod " << text << " sent something";
  }
}

TEST(CliErrors, LocalUsageErrorsNameTheFlag) {
  CliResult r = RunSynod({"local", "up", "--nodes", "9"}, 20000);
  EXPECT_EQ(r.exit_code, kUsage) << r.Describe();
  EXPECT_NE(r.err.find("--nodes"), std::string::npos) << r.Describe();
  r = RunSynod({"local", "up", "--port", "65534"}, 20000);
  EXPECT_EQ(r.exit_code, kUsage) << r.Describe();
  EXPECT_NE(r.err.find("--port"), std::string::npos) << r.Describe();
  r = RunSynod({"local", "up", "--bogus"}, 20000);
  EXPECT_EQ(r.exit_code, kUsage) << r.Describe();
  EXPECT_NE(r.err.find("--bogus"), std::string::npos) << r.Describe();
}

}  // namespace
}  // namespace synod::integration
