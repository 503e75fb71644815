#include "tools/common.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
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

CLI::Validator NonEmpty() {
  return CLI::Validator([](std::string& v) -> std::string { return v.empty() ? "is empty" : ""; },
                        "NONEMPTY");
}

void AddSecurityFlags(CLI::App* cmd, SecurityFlags* flags) {
  cmd->add_option("--key", flags->key, "Our CURVE secret key file (from `synod keygen`)");
  cmd->add_option("--trust", flags->trust,
                  "Dir of trusted public keys: node-<id>.pub per node, NAME.pub per client");
  cmd->add_flag("--insecure", flags->insecure, "Plaintext, no authentication (every process)");
}

std::string KeysLinkPath() { return SynodHome() + "/keys"; }

Status EnsureLocalKeys(const std::string& dir, const std::vector<NodeId>& ids) {
  std::vector<std::string> names = {kClientKeyName};
  for (NodeId id : ids) names.push_back(net::NodeKeyName(id));
  return net::EnsureKeyPairs(dir, names);
}

std::vector<std::string> NodeSecurityArgs(const std::string& key_dir, NodeId id) {
  return {"--key", key_dir + "/" + net::NodeKeyName(id) + net::kSecretKeySuffix, "--trust",
          key_dir};
}

bool ResolveSecurity(const SecurityFlags& flags, bool local_default, net::Security* out) {
  SecurityFlags f = flags;
  const std::string link = KeysLinkPath();
  const std::string local_key = link + "/" + kClientKeyName + net::kSecretKeySuffix;
  if (local_default && !f.insecure && f.key.empty() && f.trust.empty() &&
      std::filesystem::exists(local_key)) {
    f.key = local_key;
    f.trust = link;
  }
  auto s = net::LoadSecurity(f.insecure, f.key, f.trust);
  if (!s.ok()) {
    Fail(kExitUsage, s.status().message());
    return false;
  }
  *out = std::move(s.value());
  return true;
}

bool ResolveClient(const ClientFlags& flags, net::ClusterSpec* cluster, net::Security* security) {
  if (!ResolveCluster(flags.cluster, cluster) || !ResolveSecurity(flags.security, true, security)) {
    return false;
  }
  if (Status s = net::RequireNodeKeys(*security, cluster->Ids()); !s.ok()) {
    Fail(kExitUsage, s.message());
    return false;
  }
  return true;
}

CLI::Validator Digits() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) {
          return "'" + v + "' is not an unsigned decimal integer";
        }
        return "";
      },
      "DIGITS");
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
  AddSecurityFlags(cmd, &flags->security);
}

}  // namespace synod::tools

#include "client/client.h"

namespace synod::tools {

bool Execute(const ClientFlags& flags, std::string payload, ledger::DecodedResult* out, int* rc) {
  client::ClientOptions o;
  if (!ResolveClient(flags, &o.cluster, &o.security)) return (*rc = kExitUsage), false;
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
