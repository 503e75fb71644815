#include "tools/common.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace synod::tools {

std::string SynodHome() {
  if (const char* h = std::getenv("SYNOD_HOME"); h && *h) return h;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.synod";
}

std::string ClusterFilePath() { return SynodHome() + "/cluster"; }

bool ResolveCluster(const std::string& flag, net::ClusterSpec* out) {
  std::string text = flag, source = "--cluster";
  if (text.empty()) {
    if (const char* env = std::getenv("SYNOD_CLUSTER"); env && *env) {
      text = env;
      source = "SYNOD_CLUSTER";
    }
  }
  if (text.empty()) {
    std::ifstream file(ClusterFilePath());
    if (file && std::getline(file, text) && !text.empty()) source = ClusterFilePath();
  }
  if (text.empty()) {
    text = kDefaultCluster;
    source = "the default cluster";
  }
  auto spec = net::ClusterSpec::Parse(text);
  if (!spec.ok()) {
    Fail(kExitUsage, "bad cluster spec from " + source + ": " + spec.status().message());
    return false;
  }
  *out = std::move(spec.value());
  return true;
}

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "synod: %s\n", message.c_str());
  return code;
}

CLI::Validator NonEmptySpec() {
  return CLI::Validator(
      [](std::string& v) -> std::string { return v.empty() ? "empty cluster spec" : ""; }, "SPEC");
}

void AddClientFlags(CLI::App* cmd, ClientFlags* flags) {
  cmd->add_option("--cluster", flags->cluster,
                  "Cluster as ID=HOST:PORT,... (default: $SYNOD_CLUSTER, the `local up` "
                  "cluster file, or " +
                      std::string(kDefaultCluster) + ")")
      ->check(NonEmptySpec());
  cmd->add_flag("--json", flags->json, "One JSON object per line on stdout");
  cmd->add_option("--timeout-ms", flags->timeout_ms, "Give up after this long")
      ->check(CLI::Range(100, 600000));
}

}  // namespace synod::tools

#include "client/client.h"

namespace synod::tools {

bool Execute(const ClientFlags& flags, std::string payload, ledger::DecodedResult* out, int* rc) {
  client::ClientOptions o;
  if (!ResolveCluster(flags.cluster, &o.cluster)) return (*rc = kExitUsage), false;
  o.timeout_ms = flags.timeout_ms;
  o.retry_ms = std::min(1000, std::max(100, flags.timeout_ms / 5));
  auto c = client::Client::Connect(std::move(o));
  if (!c.ok()) return (*rc = Fail(kExitFailure, c.status().message())), false;
  auto bytes = c.value()->Execute(std::move(payload));
  if (!bytes.ok()) {
    *rc = Fail(kExitFailure, "cluster " + c.value()->cluster().ToString() +
                                 " unreachable: " + bytes.status().message());
    return false;
  }
  auto decoded = ledger::DecodeResult(bytes.value());
  if (!decoded.ok()) {
    *rc = Fail(kExitFailure, "bad answer from the cluster: " + decoded.status().ToString());
    return false;
  }
  *out = std::move(decoded.value());
  return true;
}

nlohmann::json IdJson(unsigned __int128 v) {
  if (v <= UINT64_MAX) return static_cast<uint64_t>(v);
  return ledger::IdToString(v);
}

void Print(const ClientFlags& flags, const nlohmann::json& j, const std::string& human) {
  std::printf("%s\n", flags.json ? j.dump().c_str() : human.c_str());
}

}  // namespace synod::tools
