// `synod keygen --out DIR [--name NAME]`: a CURVE key pair for a node or a client.
//
// Writes DIR/NAME.key (the secret key, mode 0600) and DIR/NAME.pub (the public key); DIR is
// created with mode 0700. Never overwrites a key. The public key goes into the trust dir of
// whoever should admit it: as node-<id>.pub for cluster node <id>, under any other NAME for a
// client (see net/security.h).
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "net/security.h"
#include "tools/commands.h"
#include "tools/common.h"

namespace synod::tools {
namespace {

struct KeygenFlags {
  std::string out;
  std::string name = "synod";
  bool json = false;
};

int RunKeygen(const KeygenFlags& f) {
  if (!net::ValidKeyName(f.name)) {
    return Fail(kExitUsage, "--name '" + f.name +
                                "': use 1..64 letters, digits, '-', '_' or '.', not starting "
                                "with '.' (e.g. node-1, client)");
  }
  const std::string base = f.out + "/" + f.name;
  for (const char* suffix : {net::kSecretKeySuffix, net::kPublicKeySuffix}) {
    std::error_code ec;
    if (std::filesystem::exists(base + suffix, ec)) {
      return Fail(kExitUsage, "--out: " + base + suffix + " exists; not overwriting a key");
    }
  }
  auto keys = net::NewKeyPair();
  if (!keys.ok()) return Fail(kExitFailure, keys.status().message());
  if (Status s = net::WriteKeyPair(f.out, f.name, keys.value()); !s.ok()) {
    return Fail(kExitFailure, s.message());
  }
  const nlohmann::json j = {{"public_key", keys.value().public_key},
                            {"secret_key_file", base + net::kSecretKeySuffix},
                            {"public_key_file", base + net::kPublicKeySuffix}};
  std::printf("%s\n", f.json ? j.dump().c_str()
                             : (keys.value().public_key + "  (secret key in " + base +
                                net::kSecretKeySuffix + ")")
                                   .c_str());
  return kExitOk;
}

}  // namespace

void AddKeygenCommand(CLI::App& app, int* rc) {
  auto f = std::make_shared<KeygenFlags>();
  CLI::App* cmd = app.add_subcommand("keygen", "Make a CURVE key pair (NAME.key, NAME.pub)");
  cmd->add_option("--out", f->out, "Directory for the key files (created with mode 0700)")
      ->required()
      ->check(NonEmpty());
  cmd->add_option("--name", f->name, "File name: node-<id> for a node, anything for a client");
  cmd->add_flag("--json", f->json, "One JSON object on stdout");
  cmd->callback([f, rc] { *rc = RunKeygen(*f); });
}

}  // namespace synod::tools
