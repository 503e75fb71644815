// Error paths of the CLI: an unreachable cluster (clear message, exit 1, within the timeout),
// a bad cluster spec, bad ids and amounts (exit 2, nothing sent). Not found (exit 3) is in
// cli_contract_test.cc.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <zmq.hpp>

#include "tests/integration/cluster.h"
#include "tests/integration/json_util.h"

namespace synod::integration {
namespace {

namespace fs = std::filesystem;

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
    cmd.insert(cmd.end(), {"--cluster", spec, "--timeout-ms", "2000", "--insecure"});
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
    cmd.insert(cmd.end(), {"--cluster", listener.Spec(), "--timeout-ms", "1000", "--insecure"});
    CliResult r = RunSynod(cmd, 20000);
    EXPECT_EQ(r.exit_code, kUsage) << "synod " << text << "\n" << r.Describe();
    EXPECT_FALSE(r.err.empty()) << "synod " << text << "\n" << r.Describe();
    EXPECT_EQ(listener.Received(), 0u) << "synod " << text << " sent something";
  }
}

// One malformed invocation: the arguments and a word the error message must contain (the bad
// argument or flag). `{listener}` is replaced by the spec of a listening plaintext stand-in
// cluster (and --insecure is added unless `keep_security`, so that a command that did send
// would be seen), `{dir}` by a scratch dir that must stay as it was.
struct BadInvocation {
  std::vector<std::string> args;
  std::string names;
  bool keep_security = false;
};

// Every subcommand with malformed arguments: exit 2, a message naming what was wrong, nothing
// sent to the cluster and nothing written ($SYNOD_HOME and the scratch dir stay empty, no data
// dir is created).
TEST(CliErrors, EverySubcommandRejectsMalformedArgumentsAndWritesNothing) {
  Listener listener;
  const std::string long_key(1025, 'k');
  const std::string long_value(65537, 'v');
  const std::vector<BadInvocation> cases = {
      {{"frobnicate"}, "frobnicate"},
      {{}, "subcommand"},
      // synod node
      {{"node", "--id", "0", "--data", "{dir}/n"}, "--id"},
      {{"node", "--id", "x", "--data", "{dir}/n"}, "--id"},
      {{"node", "--id", "99999999999", "--data", "{dir}/n"}, "--id"},
      {{"node", "--id", "4", "--cluster", "{listener}", "--data", "{dir}/n"}, "--id"},
      {{"node", "--id", "1", "--cluster", "{listener}"}, "--data"},
      {{"node", "--data", "{dir}/n", "--cluster", "{listener}"}, "--id"},
      {{"node", "--id", "1", "--cluster", "{listener}", "--data", ""}, "--data"},
      {{"node", "--id", "1", "--cluster", "1=127.0.0.1:0", "--data", "{dir}/n"}, "cluster"},
      {{"node", "--id", "1", "--cluster", "{listener}", "--data", "{dir}/n", "--tick-ms", "0"},
       "--tick-ms"},
      {{"node", "--id", "1", "--cluster", "{listener}", "--data", "{dir}/n", "--tick-ms", "5ms"},
       "--tick-ms"},
      {{"node", "--id", "1", "--cluster", "{listener}", "--data", "{dir}/n", "--snapshot-every",
        "0"},
       "--snapshot-every"},
      {{"node", "--id", "1", "--cluster", "{listener}", "--data", "{dir}/n", "--log-level", "loud"},
       "--log-level"},
      {{"node", "--id", "1", "--cluster", "{listener}", "--data", "{dir}/n", "--window", "0"},
       "--window"},
      {{"node", "--id", "1", "--cluster", "{listener}", "--data", "{dir}/n", "--window", "65"},
       "--window"},
      {{"node", "--id", "1", "--cluster", "{listener}", "--data", "{dir}/n", "--bogus"}, "--bogus"},
      // synod kv
      {{"kv", "put", "", "v", "--cluster", "{listener}"}, "KEY"},
      {{"kv", "put", long_key, "v", "--cluster", "{listener}"}, "KEY"},
      {{"kv", "put", "k", long_value, "--cluster", "{listener}"}, "VALUE"},
      {{"kv", "get", "k", "extra", "--cluster", "{listener}"}, "extra"},
      {{"kv", "get", "--cluster", "{listener}"}, "KEY"},
      {{"kv", "del", "", "--cluster", "{listener}"}, "KEY"},
      {{"kv", "cas", "k", "-1", "v", "--cluster", "{listener}"}, "VERSION"},
      {{"kv", "cas", "k", "18446744073709551616", "v", "--cluster", "{listener}"}, "VERSION"},
      {{"kv", "scan", "p", "--limit", "0", "--cluster", "{listener}"}, "--limit"},
      {{"kv", "scan", "p", "--limit", "many", "--cluster", "{listener}"}, "--limit"},
      {{"kv", "get", "k", "--timeout-ms", "5", "--cluster", "{listener}"}, "--timeout-ms"},
      {{"kv", "get", "k", "--timeout-ms", "soon", "--cluster", "{listener}"}, "--timeout-ms"},
      {{"kv", "get", "k", "--cluster", ""}, "--cluster"},
      {{"kv", "get", "k", "--cluster", "1=127.0.0.1:7101,8=127.0.0.1:"}, "cluster"},
      // synod account
      {{"account", "create", "0", "--cluster", "{listener}"}, "ID"},
      {{"account", "create", "1", "--ledger", "0", "--cluster", "{listener}"}, "--ledger"},
      {{"account", "create", "1", "--ledger", "4294967296", "--cluster", "{listener}"}, "--ledger"},
      {{"account", "create", "1", "--code", "65536", "--cluster", "{listener}"}, "--code"},
      {{"account", "create", "1", "--code", "-1", "--cluster", "{listener}"}, "--code"},
      {{"account", "create", "1", "--flags", "debits_must_not_exceed_credits,bogus", "--cluster",
        "{listener}"},
       "bogus"},
      {{"account", "get", "--cluster", "{listener}"}, "ID"},
      {{"account", "get", "1", "--bogus", "--cluster", "{listener}"}, "--bogus"},
      // synod transfer
      {{"transfer", "create", "0", "--debit", "1", "--credit", "2", "--amount", "1", "--cluster",
        "{listener}"},
       "ID"},
      {{"transfer", "create", "1", "--debit", "0", "--credit", "2", "--amount", "1", "--cluster",
        "{listener}"},
       "--debit"},
      {{"transfer", "create", "1", "--credit", "2", "--amount", "1", "--cluster", "{listener}"},
       "--debit"},
      {{"transfer", "create", "1", "--debit", "1", "--credit", "2", "--amount", "1", "--ledger",
        "0", "--cluster", "{listener}"},
       "--ledger"},
      {{"transfer", "create", "1", "--debit", "1", "--credit", "2", "--amount", "1", "--code",
        "70000", "--cluster", "{listener}"},
       "--code"},
      {{"transfer", "create", "1", "--debit", "1", "--credit", "2", "--amount", "1",
        "--pending-timeout-ms", "100", "--cluster", "{listener}"},
       "--pending-timeout-ms"},
      {{"transfer", "create", "1", "--debit", "1", "--credit", "2", "--amount", "1", "--pending",
        "--pending-timeout-ms", "-5", "--cluster", "{listener}"},
       "--pending-timeout-ms"},
      {{"transfer", "create", "1", "--debit", "1", "--credit", "2", "--amount", "1", "--pending",
        "--pending-timeout-ms", "18446744073709551615", "--cluster", "{listener}"},
       "--pending-timeout-ms"},
      {{"transfer", "post", "1", "--pending-id", "0", "--cluster", "{listener}"}, "--pending-id"},
      {{"transfer", "post", "1", "--pending-id", "2", "--amount", "abc", "--cluster", "{listener}"},
       "--amount"},
      {{"transfer", "void", "1", "--pending-id", "x", "--cluster", "{listener}"}, "--pending-id"},
      {{"transfer", "get", "1", "2", "--cluster", "{listener}"}, "2"},
      // synod status / check
      {{"status", "--timeout-ms", "0", "--cluster", "{listener}"}, "--timeout-ms"},
      {{"status", "extra", "--cluster", "{listener}"}, "extra"},
      {{"check", "--bogus", "--cluster", "{listener}"}, "--bogus"},
      {{"check", "--cluster", "nonsense"}, "cluster"},
      // synod load
      {{"load", "--accounts", "1", "--cluster", "{listener}"}, "--accounts"},
      {{"load", "--transfers", "0", "--cluster", "{listener}"}, "--transfers"},
      {{"load", "--duration", "-1", "--cluster", "{listener}"}, "--duration"},
      {{"load", "--clients", "0", "--cluster", "{listener}"}, "--clients"},
      {{"load", "--sessions", "0", "--cluster", "{listener}"}, "--sessions"},
      {{"load", "--batch", "8191", "--cluster", "{listener}"}, "--batch"},
      {{"load", "--kind", "transfers", "--cluster", "{listener}"}, "--kind"},
      {{"load", "--value-size", "65537", "--cluster", "{listener}"}, "--value-size"},
      {{"load", "--ledger", "0", "--cluster", "{listener}"}, "--ledger"},
      {{"load", "--seed", "-3", "--cluster", "{listener}"}, "--seed"},
      {{"load", "--id-base", "ten", "--cluster", "{listener}"}, "--id-base"},
      // synod demo (checked before any node starts)
      {{"demo", "--accounts", "1"}, "--accounts"},
      {{"demo", "--seconds", "0"}, "--seconds"},
      {{"demo", "--clients", "0"}, "--clients"},
      {{"demo", "--batch", "0"}, "--batch"},
      {{"demo", "--bogus"}, "--bogus"},
      // synod local
      {{"local", "up", "--nodes", "0", "--data", "{dir}/l"}, "--nodes"},
      {{"local", "up", "--port", "0", "--data", "{dir}/l"}, "--port"},
      {{"local", "up", "--port", "http", "--data", "{dir}/l"}, "--port"},
      {{"local", "up", "--timeout-ms", "1", "--data", "{dir}/l"}, "--timeout-ms"},
      {{"local", "up", "--log-level", "loud", "--data", "{dir}/l"}, "--log-level"},
      {{"local", "up", "--data", ""}, "--data"},
      {{"local", "down", "--bogus"}, "--bogus"},
      {{"local", "status", "--nodes", "3"}, "--nodes"},
      {{"local", "sideways"}, "sideways"},
      // synod sim
      {{"sim"}, "--seed"},
      {{"sim", "--seed", "-1"}, "--seed"},
      {{"sim", "--seed", "1", "--nodes", "8"}, "--nodes"},
      {{"sim", "--seed", "1", "--ticks", "0"}, "--ticks"},
      {{"sim", "--seed", "1", "--drop", "2"}, "--drop"},
      {{"sim", "--seed", "1", "--dup", "x"}, "--dup"},
      {{"sim", "--seed", "1", "--clients", "0"}, "--clients"},
      {{"sim", "--seed", "1", "--plant", "everything"}, "--plant"},
      // synod backup, restore, leader transfer; node and local metrics flags
      {{"backup", "--cluster", "{listener}"}, "--out"},
      {{"backup", "--out", "", "--cluster", "{listener}"}, "--out"},
      {{"backup", "--out", "{dir}/b", "--timeout-ms", "soon", "--cluster", "{listener}"},
       "--timeout-ms"},
      {{"restore", "--data", "{dir}/r", "--id", "1", "--cluster", "1=127.0.0.1:7101"}, "--from"},
      {{"restore", "--from", "{dir}/missing.backup", "--data", "{dir}/r", "--id", "1", "--cluster",
        "1=127.0.0.1:7101"},
       "--from"},
      {{"restore", "--from", "{dir}/missing.backup", "--data", "{dir}/r", "--id", "0", "--cluster",
        "1=127.0.0.1:7101"},
       "--id"},
      {{"restore", "--from", "{dir}/missing.backup", "--data", "{dir}/r", "--id", "1", "--cluster",
        "1=nowhere"},
       "cluster"},
      {{"leader", "transfer", "--cluster", "{listener}"}, "--to"},
      {{"leader", "transfer", "--to", "abc", "--cluster", "{listener}"}, "--to"},
      {{"leader", "transfer", "--to", "9", "--cluster", "{listener}"}, "--to"},
      {{"leader", "sideways"}, "sideways"},
      // synod member add|remove
      {{"member", "add", "--cluster", "{listener}"}, "target"},
      {{"member", "add", "4", "--cluster", "{listener}"}, "ID=HOST:PORT"},
      {{"member", "add", "4=127.0.0.1", "--cluster", "{listener}"}, "ID=HOST:PORT"},
      {{"member", "add", "0=127.0.0.1:7104", "--cluster", "{listener}"}, "id must be"},
      {{"member", "add", "4=127.0.0.1:99999", "--cluster", "{listener}"}, "port"},
      {{"member", "add", "4=127.0.0.1:7104,5=127.0.0.1:7105", "--cluster", "{listener}"},
       "one at a time"},
      {{"member", "add", "4=" + std::string(300, 'h') + ":7104", "--cluster", "{listener}"},
       "longer than"},
      {{"member", "remove", "--cluster", "{listener}"}, "target"},
      {{"member", "remove", "abc", "--cluster", "{listener}"}, "ID"},
      {{"member", "remove", "0", "--cluster", "{listener}"}, "node id"},
      {{"member", "remove", "70000", "--cluster", "{listener}"}, "node id"},
      {{"member", "remove", "-3", "--cluster", "{listener}"}, "-3"},
      {{"member", "rename", "4"}, "rename"},
      {{"node", "--id", "1", "--cluster", "{listener}", "--data", "{dir}/n", "--metrics-addr",
        "nowhere"},
       "--metrics-addr"},
      {{"local", "up", "--metrics-port", "http", "--data", "{dir}/l"}, "--metrics-port"},
      // synod keygen
      {{"keygen"}, "--out"},
      {{"keygen", "--out", ""}, "--out"},
      {{"keygen", "--out", "{dir}/k", "--name", "../escape"}, "--name"},
      {{"keygen", "--out", "{dir}/k", "--name", ".hidden"}, "--name"},
      {{"keygen", "--out", "{dir}/keys", "--name", "good"}, "exists"},  // Never overwrites.
      // Security flags, on a client command and on a node: a mix, a missing half, bad keys.
      {{"kv", "get", "k", "--cluster", "{listener}"}, "--insecure", true},  // Neither.
      {{"kv", "get", "k", "--cluster", "{listener}", "--insecure", "--key", "{dir}/keys/good.key",
        "--trust", "{dir}/keys"},
       "--insecure",
       true},
      {{"kv", "get", "k", "--cluster", "{listener}", "--key", "{dir}/keys/good.key"},
       "--trust",
       true},
      {{"kv", "get", "k", "--cluster", "{listener}", "--key", "{dir}/keys/none.key", "--trust",
        "{dir}/keys"},
       "none.key",
       true},
      {{"kv", "get", "k", "--cluster", "{listener}", "--key", "{dir}/keys/good.pub", "--trust",
        "{dir}/keys"},
       "good.pub",
       true},
      {{"kv", "get", "k", "--cluster", "{listener}", "--key", "{dir}/keys/good.key", "--trust",
        "{dir}/nothing"},
       "nothing",
       true},
      {{"status", "--cluster", "{listener}", "--key", "{dir}/keys/good.key", "--trust",
        "{dir}/keys"},
       "node-1.pub",
       true},
      {{"node", "--id", "1", "--cluster", "{listener}", "--data", "{dir}/n", "--insecure", "--key",
        "{dir}/keys/good.key"},
       "--insecure",
       true},
      {{"node", "--id", "1", "--cluster", "{listener}", "--data", "{dir}/n"}, "--key", true},
      {{"node", "--id", "1", "--cluster", "{listener}", "--data", "{dir}/n", "--key",
        "{dir}/keys/open.key", "--trust", "{dir}/keys"},
       "chmod",
       true},
      {{"node", "--id", "1", "--cluster", "1=127.0.0.1:1,2=127.0.0.1:2", "--data", "{dir}/n",
        "--key", "{dir}/keys/good.key", "--trust", "{dir}/keys"},
       "node-2.pub",
       true},
      {{"local", "up", "--insecure", "--bogus", "--data", "{dir}/l"}, "--bogus"},
      {{"demo", "--insecure", "--key", "x"}, "--key"},
  };
  const std::string scratch = fs::temp_directory_path().string() + "/synod-cli-strict-XXXXXX";
  std::string dir = scratch;
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  const std::string home = dir + "/home";
  fs::create_directories(home);
  // Keys for the security cases: a good pair (a trust dir without node keys) and a secret key
  // that others may read.
  CliResult keygen = RunSynod({"keygen", "--out", dir + "/keys", "--name", "good"});
  ASSERT_EQ(keygen.exit_code, 0) << keygen.Describe();
  keygen = RunSynod({"keygen", "--out", dir + "/keys", "--name", "open"});
  ASSERT_EQ(keygen.exit_code, 0) << keygen.Describe();
  fs::permissions(dir + "/keys/open.key", fs::perms::others_read, fs::perm_options::add);
  std::set<std::string> before;
  for (const auto& e : fs::recursive_directory_iterator(dir)) before.insert(e.path().string());
  size_t received_before = 0;
  for (const BadInvocation& c : cases) {
    std::vector<std::string> args;
    std::string text;
    bool to_listener = false;
    for (std::string a : c.args) {
      if (a == "{listener}") a = listener.Spec(), to_listener = true;
      if (a.rfind("{dir}", 0) == 0) a = dir + a.substr(5);
      text += (a.size() > 60 ? a.substr(0, 20) + "..." : a) + " ";
      args.push_back(a);
    }
    if (to_listener && !c.keep_security) args.push_back("--insecure");
    CliResult r = RunSynod(args, 20000, {"SYNOD_HOME=" + home, "HOME=" + home});
    EXPECT_EQ(r.exit_code, kUsage) << "synod " << text << "\n" << r.Describe();
    EXPECT_NE(r.err.find(c.names), std::string::npos)
        << "synod " << text << ": the message does not name '" << c.names << "'\n"
        << r.Describe();
    const size_t received = listener.Received(0);
    EXPECT_EQ(received, received_before) << "synod " << text << " sent something";
    received_before = received;
    std::vector<std::string> written;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (!before.count(e.path().string())) written.push_back(e.path().string());
    }
    EXPECT_TRUE(written.empty()) << "synod " << text << " wrote " << written.front();
  }
  EXPECT_EQ(listener.Received(), 0u) << "some command sent something";
  fs::remove_all(dir);
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
