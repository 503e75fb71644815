// `synod local up|down|status`: starts the nodes in the background, writes the cluster file
// that client commands read by default, refuses to start twice, stops only its own processes,
// keeps the data unless --wipe.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/integration/cluster.h"
#include "tests/integration/json_util.h"

namespace synod::integration {
namespace {

namespace fs = std::filesystem;

bool IsSynodNode(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  std::string argv0, argv1;
  std::getline(in, argv0, '\0');
  std::getline(in, argv1, '\0');
  return argv0.find("synod") != std::string::npos && argv1 == "node";
}

// A temp SYNOD_HOME and data dir; the destructor stops whatever `local up` left running (by
// the pids in its pid files, checked to still be `synod node` processes) and removes both.
class LocalCluster {
 public:
  LocalCluster() : ports_(3, /*consecutive=*/true) {
    std::string t = fs::temp_directory_path().string() + "/synod-integ-local-XXXXXX";
    SYNOD_CHECK(::mkdtemp(t.data()) != nullptr);
    home_ = t;
  }
  ~LocalCluster() {
    (void)Run({"local", "down", "--data", data()});
    for (NodeId id = 1; id <= 3; ++id) {
      std::ifstream in(data() + "/n" + std::to_string(id) + "/pid");
      pid_t pid = 0;
      if (in >> pid && pid > 1 && IsSynodNode(pid)) ::kill(pid, SIGKILL);
    }
    std::error_code ec;
    fs::remove_all(home_, ec);
  }
  CliResult Run(std::vector<std::string> args) {
    return RunSynod(args, 60000, {"SYNOD_HOME=" + home_, "HOME=" + home_});
  }
  std::string data() const { return home_ + "/data"; }
  std::string home() const { return home_; }
  std::string port() const { return std::to_string(ports_.port(0)); }

 private:
  PortLease ports_;
  std::string home_;
};

std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

TEST(Local, UpStatusDown) {
  LocalCluster local;
  CliResult up = local.Run(
      {"local", "up", "--nodes", "3", "--port", local.port(), "--data", local.data(), "--json"});
  ASSERT_EQ(up.exit_code, 0) << up.Describe();
  std::printf("local up took %.2f s\n", up.seconds);
  json j = up.First();
  ASSERT_EQ(j["nodes"].size(), 3u) << up.Describe();
  EXPECT_GE(U64(j["leader"]), 1u);
  std::vector<pid_t> pids;
  for (const json& n : j["nodes"]) {
    pids.push_back(n["pid"].get<pid_t>());
    EXPECT_TRUE(IsSynodNode(pids.back())) << n;
    EXPECT_TRUE(fs::exists(local.data() + "/n" + Str(n["id"]) + "/pid")) << n;
    EXPECT_TRUE(fs::exists(local.data() + "/n" + Str(n["id"]) + "/stdout.log")) << n;
  }
  const std::string spec = ReadLine(local.home() + "/cluster");
  EXPECT_NE(spec.find("1=127.0.0.1:" + local.port()), std::string::npos) << spec;

  CliResult status = local.Run({"local", "status", "--data", local.data(), "--json"});
  EXPECT_EQ(status.exit_code, 0) << status.Describe();
  const json listed = status.First();  // Not `First()["nodes"]`: the temporary would die.
  ASSERT_EQ(listed["nodes"].size(), 3u) << status.Describe();
  for (const json& n : listed["nodes"]) EXPECT_EQ(n["running"], true) << n;

  // Client commands find the cluster through the cluster file, without --cluster.
  CliResult put = local.Run({"kv", "put", "local", "yes", "--json"});
  EXPECT_EQ(put.exit_code, 0) << put.Describe();

  CliResult again = local.Run({"local", "up", "--port", local.port(), "--data", local.data()});
  EXPECT_EQ(again.exit_code, kFailure) << again.Describe();
  EXPECT_NE(again.err.find("already running"), std::string::npos) << again.Describe();

  CliResult down = local.Run({"local", "down", "--data", local.data()});
  EXPECT_EQ(down.exit_code, 0) << down.Describe();
  for (pid_t pid : pids) EXPECT_FALSE(IsSynodNode(pid)) << "pid " << pid << " still runs";
  EXPECT_FALSE(fs::exists(local.data() + "/n1/pid"));
  EXPECT_FALSE(fs::exists(local.home() + "/cluster"));
  EXPECT_TRUE(fs::exists(local.data() + "/n1/data"));  // Data kept without --wipe.
  EXPECT_EQ(local.Run({"local", "status", "--data", local.data()}).exit_code, kFailure);

  // Restart on the kept data: the key written before is still there.
  up = local.Run({"local", "up", "--port", local.port(), "--data", local.data()});
  ASSERT_EQ(up.exit_code, 0) << up.Describe();
  CliResult get = local.Run({"kv", "get", "local", "--json"});
  EXPECT_EQ(get.exit_code, 0) << get.Describe();
  EXPECT_EQ(get.First().value("value", ""), "yes") << get.Describe();
  down = local.Run({"local", "down", "--data", local.data(), "--wipe"});
  EXPECT_EQ(down.exit_code, 0) << down.Describe();
  EXPECT_FALSE(fs::exists(local.data()));
}

TEST(Local, UpWithMetricsPortServesMetricsOnEveryNode) {
  LocalCluster local;
  PortLease metrics(3, /*consecutive=*/true);
  const std::string m = std::to_string(metrics.port(0));
  // Metrics ports overlapping the nodes' ports are bad usage.
  CliResult overlap = local.Run({"local", "up", "--port", local.port(), "--data", local.data(),
                                 "--metrics-port", local.port()});
  EXPECT_EQ(overlap.exit_code, kUsage) << overlap.Describe();
  EXPECT_NE(overlap.err.find("--metrics-port"), std::string::npos) << overlap.Describe();
  CliResult up = local.Run({"local", "up", "--port", local.port(), "--data", local.data(),
                            "--metrics-port", m, "--json"});
  ASSERT_EQ(up.exit_code, 0) << up.Describe();
  const json j = up.First();
  ASSERT_EQ(j["nodes"].size(), 3u) << up.Describe();
  for (const json& n : j["nodes"]) {
    const uint16_t port = metrics.port(0) + n["id"].get<uint16_t>() - 1;
    EXPECT_EQ(n.value("metrics", ""), "http://127.0.0.1:" + std::to_string(port) + "/metrics");
    httplib::Client http("127.0.0.1", port);
    auto res = http.Get("/metrics");
    ASSERT_TRUE(res) << "no answer on " << port;
    EXPECT_EQ(res->status, 200);
    EXPECT_NE(res->body.find("\nsynod_node_id " + Str(n["id"]) + "\n"), std::string::npos);
  }
  CliResult down = local.Run({"local", "down", "--data", local.data(), "--wipe"});
  EXPECT_EQ(down.exit_code, 0) << down.Describe();
}

TEST(Local, DownNeverSignalsAProcessThatIsNotItsNode) {
  LocalCluster local;
  CliResult up = local.Run({"local", "up", "--port", local.port(), "--data", local.data()});
  ASSERT_EQ(up.exit_code, 0) << up.Describe();
  ASSERT_EQ(local.Run({"local", "down", "--data", local.data()}).exit_code, 0);
  // A stale pid file now names an unrelated process (as after pid reuse).
  const pid_t bystander = ::fork();
  ASSERT_GE(bystander, 0);
  if (bystander == 0) {
    ::execl("/bin/sleep", "sleep", "30", nullptr);
    _exit(127);
  }
  { std::ofstream(local.data() + "/n1/pid") << bystander << "\n"; }
  CliResult down = local.Run({"local", "down", "--data", local.data()});
  EXPECT_EQ(down.exit_code, 0) << down.Describe();
  EXPECT_EQ(::waitpid(bystander, nullptr, WNOHANG), 0) << "down killed an unrelated process";
  ::kill(bystander, SIGKILL);
  ::waitpid(bystander, nullptr, 0);
}

}  // namespace
}  // namespace synod::integration
