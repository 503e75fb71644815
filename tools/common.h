// Helpers shared by the `synod` subcommands: cluster resolution, exit codes, JSON output.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "net/cluster_spec.h"

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

// Adds --cluster and --json to a client subcommand.
struct ClientFlags {
  std::string cluster;
  bool json = false;
  int timeout_ms = 10000;
};
void AddClientFlags(CLI::App* cmd, ClientFlags* flags);
// Rejects `--cluster ""` (exit 2) instead of silently falling back to the defaults.
CLI::Validator NonEmptySpec();

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
