// Helpers shared by the `synod` subcommands: cluster resolution, exit codes, JSON output.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "net/cluster_spec.h"
#include "net/security.h"

namespace synod::tools {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // Operational: unreachable cluster, I/O error, ...
inline constexpr int kExitUsage = 2;    // Bad flags or arguments; nothing was sent.
inline constexpr int kExitNotFound = 3;

inline constexpr const char* kDefaultCluster = "1=127.0.0.1:7101,2=127.0.0.1:7102,3=127.0.0.1:7103";

// Where `synod local up` keeps its cluster file and data: $SYNOD_HOME, else $HOME/.synod.
std::string SynodHome();
std::string ClusterFilePath();

// The cluster to talk to: --cluster if given, else $SYNOD_CLUSTER, else the cluster file of
// `synod local up`, else kDefaultCluster. On a bad spec prints the reason and returns false.
bool ResolveCluster(const std::string& flag, net::ClusterSpec* out);

// Prints `message` to stderr as "synod: message" and returns `code`.
int Fail(int code, const std::string& message);

// --key FILE, --trust DIR, --insecure: how a process secures its traffic (net/security.h).
struct SecurityFlags {
  std::string key;
  std::string trust;
  bool insecure = false;
};
void AddSecurityFlags(CLI::App* cmd, SecurityFlags* flags);
// Where `synod local up` links its key dir for the clients: $SYNOD_HOME/keys.
std::string KeysLinkPath();
inline constexpr const char* kClientKeyName = "client";  // KeysLinkPath()/client.key
// Makes (or, when present, reuses) a key dir for a local cluster: node-<id>.key/.pub for every
// node and client.key/.pub, the dir 0700 and the secret keys 0600.
Status EnsureLocalKeys(const std::string& dir, const std::vector<NodeId>& ids);
// The flags of `synod node --key DIR/node-<id>.key --trust DIR` for such a key dir.
std::vector<std::string> NodeSecurityArgs(const std::string& key_dir, NodeId id);

// The security of a process from its flags. With `local_default` and no flag at all, the keys
// that `synod local up` linked at KeysLinkPath(). On a bad, missing or mixed choice prints why
// and returns false (exit 2).
bool ResolveSecurity(const SecurityFlags& flags, bool local_default, net::Security* out);
// A digits-only unsigned integer (CLI11 itself wraps "-3" into a 64-bit option).
CLI::Validator Digits();

// Adds --cluster, --json, --timeout-ms and the security flags to a client subcommand.
struct ClientFlags {
  std::string cluster;
  bool json = false;
  int timeout_ms = 10000;
  SecurityFlags security;
};
void AddClientFlags(CLI::App* cmd, ClientFlags* flags);
// ResolveCluster and ResolveSecurity (with the local default) for a client, and a key for every
// node of the cluster. On failure prints why and returns false (exit 2).
bool ResolveClient(const ClientFlags& flags, net::ClusterSpec* cluster, net::Security* security);
// Rejects `--cluster ""` (exit 2) instead of silently falling back to the defaults.
CLI::Validator NonEmptySpec();
// Rejects an empty value (e.g. `--data ""`), which would otherwise mean "the default".
CLI::Validator NonEmpty();

}  // namespace synod::tools

#include <nlohmann/json.hpp>

#include "ledger/client.h"
#include "paxos/message.h"

namespace synod::tools {

// Sends one ledger command to the cluster and decodes the answer. On failure prints the
// reason and returns false with *rc set (1: no answer / bad answer).
bool Execute(const ClientFlags& flags, std::string payload, ledger::DecodedResult* out, int* rc);

// An id or amount as JSON: a number when it fits in 64 bits, else a string of digits.
nlohmann::json IdJson(unsigned __int128 v);

// Prints `j` (with --json) or `human` (without) on one line of stdout.
void Print(const ClientFlags& flags, const nlohmann::json& j, const std::string& human);

// One node's answer to a status query; `up` false when it did not answer in time.
struct NodeView {
  net::NodeAddress address;
  bool up = false;
  StatusReportMsg report;
};
// Asks every node of the cluster (flags.timeout_ms split among them, 200..2000 ms each). On a
// bad spec or no connection prints the reason and returns false with *rc set.
bool QueryAll(const ClientFlags& flags, bool check, std::vector<NodeView>* out, int* rc);

// `synod check`: the invariant check on every node and state hashes compared at a common
// applied slot. Fills *out with the contract's JSON; returns the exit code (0 ok, 1 not ok).
int CheckCluster(const ClientFlags& flags, nlohmann::json* out);

}  // namespace synod::tools
