// `synod kv put K V | get K | del K | cas K VERSION V | scan PREFIX [--limit N]`.
#include "ledger/ledger_limits.h"
#include "tools/commands.h"
#include "tools/common.h"
#include "tools/parse.h"

namespace synod::tools {
namespace {

using nlohmann::json;

struct KvFlags {
  ClientFlags client;
  std::string key, value, version;
  uint32_t limit = ledger::limits::kScanItemsMax;
};

// A failed KV write (cas mismatch) still got an answer: exit 0 with ok=false, as the contract.
int WriteResult(const KvFlags& f, const ledger::DecodedResult& r) {
  if (r.code == ledger::ResultCode::ok) {
    Print(f.client, {{"ok", true}, {"version", r.version}},
          "ok version " + std::to_string(r.version));
    return kExitOk;
  }
  const std::string error = ledger::ResultCodeName(r.code);
  Print(f.client, {{"ok", false}, {"error", error}, {"version", r.version}},
        error + " (current version " + std::to_string(r.version) + ")");
  return r.code == ledger::ResultCode::not_found ? kExitNotFound : kExitOk;
}

int Put(const KvFlags& f) {
  ledger::DecodedResult r;
  int rc = 0;
  if (!Execute(f.client, ledger::EncodeKvPut(f.key, f.value), &r, &rc)) return rc;
  return WriteResult(f, r);
}

int Del(const KvFlags& f) {
  ledger::DecodedResult r;
  int rc = 0;
  if (!Execute(f.client, ledger::EncodeKvDelete(f.key), &r, &rc)) return rc;
  return WriteResult(f, r);
}

int Cas(const KvFlags& f) {
  auto version = ParseAmount("VERSION", f.version);
  if (!version.ok()) return Fail(kExitUsage, version.status().message());
  ledger::DecodedResult r;
  int rc = 0;
  if (!Execute(f.client, ledger::EncodeKvCas(f.key, version.value(), f.value), &r, &rc)) return rc;
  return WriteResult(f, r);
}

int Get(const KvFlags& f) {
  ledger::DecodedResult r;
  int rc = 0;
  if (!Execute(f.client, ledger::EncodeKvGet(f.key), &r, &rc)) return rc;
  if (r.code == ledger::ResultCode::not_found || r.items.empty()) {
    return Fail(kExitNotFound, "key '" + f.key + "' not found");
  }
  const auto& item = r.items.front();
  Print(f.client, {{"key", item.key}, {"value", item.value}, {"version", item.version}},
        item.value);
  return kExitOk;
}

int Scan(const KvFlags& f) {
  ledger::DecodedResult r;
  int rc = 0;
  if (!Execute(f.client, ledger::EncodeKvScan(f.key, f.limit), &r, &rc)) return rc;
  if (r.code != ledger::ResultCode::ok) {
    return Fail(kExitFailure, std::string("scan failed: ") + ledger::ResultCodeName(r.code));
  }
  json items = json::array();
  std::string human;
  for (const auto& item : r.items) {
    items.push_back({{"key", item.key}, {"value", item.value}, {"version", item.version}});
    human += (human.empty() ? "" : "\n") + item.key + "\t" + item.value;
  }
  Print(f.client, {{"items", items}, {"more", r.more}}, human);
  return kExitOk;
}

// Keys are checked here too so that a bad one is exit 2 and nothing is sent.
// A key is 1..1024 bytes; a scan prefix may be empty (every key).
CLI::Validator KeyCheck(bool prefix = false) {
  return CLI::Validator(
      [prefix](std::string& k) -> std::string {
        if (k.empty() && !prefix) return "empty key (keys are 1..1024 bytes)";
        if (k.size() > ledger::limits::kKeyBytesMax) return "key longer than 1024 bytes";
        return "";
      },
      "KEY");
}

CLI::Validator ValueCheck() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        if (v.size() > ledger::limits::kValueBytesMax) return "value longer than 65536 bytes";
        return "";
      },
      "VALUE");
}

}  // namespace

void AddKvCommand(CLI::App& app, int* rc) {
  CLI::App* kv = app.add_subcommand("kv", "Key-value commands");
  kv->require_subcommand(1);
  auto add = [&](const char* name, const char* help, int (*run)(const KvFlags&)) {
    auto f = std::make_shared<KvFlags>();
    CLI::App* cmd = kv->add_subcommand(name, help);
    AddClientFlags(cmd, &f->client);
    cmd->callback([f, rc, run] { *rc = run(*f); });
    return std::make_pair(cmd, f);
  };
  auto [put, pf] = add("put", "Set KEY to VALUE", Put);
  put->add_option("KEY", pf->key)->required()->check(KeyCheck());
  put->add_option("VALUE", pf->value)->required()->check(ValueCheck());
  auto [get, gf] = add("get", "Read KEY (linearizable)", Get);
  get->add_option("KEY", gf->key)->required()->check(KeyCheck());
  auto [del, df] = add("del", "Delete KEY", Del);
  del->add_option("KEY", df->key)->required()->check(KeyCheck());
  auto [cas, cf] = add("cas", "Set KEY to VALUE if its version is VERSION (0: absent)", Cas);
  cas->add_option("KEY", cf->key)->required()->check(KeyCheck());
  cas->add_option("VERSION", cf->version)->required();
  cas->add_option("VALUE", cf->value)->required()->check(ValueCheck());
  auto [scan, sf] = add("scan", "List keys starting with PREFIX", Scan);
  scan->add_option("PREFIX", sf->key)->required()->check(KeyCheck(/*prefix=*/true));
  scan->add_option("--limit", sf->limit, "At most this many items")
      ->check(CLI::Range(1u, ledger::limits::kScanItemsMax));
}

}  // namespace synod::tools
