// Security: ZeroMQ CURVE keys, and who may talk to a node.
//
// Every process is either secure (CURVE: its own key pair plus a trust dir of public keys) or
// plaintext by explicit choice (`--insecure`); never a mix. A key pair is two files written by
// `synod keygen`: NAME.key holds the Z85 secret key (mode 0600, in a 0700 dir) and NAME.pub the
// Z85 public key. A trust dir holds NAME.pub files: `node-<id>.pub` is cluster node <id> (a
// node admits it as that peer; a client encrypts to it as that node's server key), and any
// other NAME.pub is a client a node admits. A key nobody trusted gets no answer (ZapHandler).
//
// Plain functions and values; thread-compatible.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "paxos/status.h"
#include "paxos/types.h"

namespace synod::net {

inline constexpr size_t kZ85KeyChars = 40;  // A 32-byte CURVE key in Z85.
inline constexpr const char* kSecretKeySuffix = ".key";
inline constexpr const char* kPublicKeySuffix = ".pub";

struct KeyPair {
  std::string public_key;  // Z85, kZ85KeyChars.
  std::string secret_key;  // Z85, kZ85KeyChars.
};

// A fresh CURVE key pair. Fails when libzmq was built without CURVE.
Result<KeyPair> NewKeyPair();
// Writes DIR/NAME.key (mode 0600) and DIR/NAME.pub; creates DIR with mode 0700. Never
// overwrites: fails when either file exists.
Status WriteKeyPair(const std::string& dir, const std::string& name, const KeyPair& keys);
// Reads a secret key file and derives its public key. Refuses a file that the group or others
// may read or write (InvalidArgument, naming the path and its mode).
Result<KeyPair> ReadKeyPair(const std::string& secret_path);
Result<std::string> ReadPublicKey(const std::string& path);
// Makes DIR/NAME.key and DIR/NAME.pub for every name that has no secret key yet (local
// clusters, the demo and the tests make all their keys at once).
Status EnsureKeyPairs(const std::string& dir, const std::vector<std::string>& names);
// The NAME of node <id>'s key files: "node-<id>" (what a trust dir expects).
std::string NodeKeyName(NodeId id);
// A NAME for keygen: letters, digits, '-', '_', '.'; not starting with '.'; 1..64 characters.
bool ValidKeyName(const std::string& name);

// The public keys of a trust dir.
struct TrustedKeys {
  std::map<NodeId, std::string> nodes;         // Node id -> its public key.
  std::map<std::string, std::string> clients;  // Public key -> NAME of a client.
  // "node-<id>" or "client:<name>" for a trusted key; "" for any other.
  std::string IdentityOf(const std::string& public_key) const;
};
Result<TrustedKeys> ReadTrustDir(const std::string& dir);

// What a process was given.
struct Security {
  bool curve = false;  // false: plaintext, by explicit choice only.
  KeyPair own;
  TrustedKeys trusted;
  std::string trust_dir;  // Where `trusted` was read; a node rereads it when members change.
};
// From the command line: `insecure` alone, or a secret key file and a trust dir together.
// Anything else (both, or neither, or only one of key and trust) is InvalidArgument naming the
// flags (`--insecure`, `--key`, `--trust`).
Result<Security> LoadSecurity(bool insecure, const std::string& key_path,
                              const std::string& trust_dir);

// CURVE only: InvalidArgument naming the first of `ids` whose node-<id>.pub the trust dir lacks.
Status RequireNodeKeys(const Security& security, const std::vector<NodeId>& ids);

// The ZAP domain nodes authenticate in.
inline constexpr const char* kZapDomain = "synod";
// A node's ROUTER: CURVE server with the node's own key (no-op when plaintext).
void ConfigureServer(zmq::socket_t& socket, const Security& security);
// A DEALER that talks to node `server`: CURVE client with our key pair and the node's public
// key (no-op when plaintext). InvalidArgument when the trust dir has no key for `server`.
Status ConfigureClient(zmq::socket_t& socket, const Security& security, NodeId server);

}  // namespace synod::net
