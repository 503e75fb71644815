#include "net/security.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace synod::net {
namespace {

namespace fs = std::filesystem;

std::string ModeText(mode_t mode) {
  std::ostringstream out;
  out << std::oct << (mode & 07777);
  return "0" + out.str();
}

// The one line of a key file, without its newline; a Z85 key or an error naming the file.
Result<std::string> ReadKeyLine(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("cannot read key file " + path);
  std::string line;
  std::getline(in, line);
  if (line.size() != kZ85KeyChars) {
    return Status::InvalidArgument("key file " + path + " does not hold a " +
                                   std::to_string(kZ85KeyChars) + "-character Z85 key");
  }
  uint8_t raw[32];
  if (zmq_z85_decode(raw, line.c_str()) == nullptr) {
    return Status::InvalidArgument("key file " + path + " is not valid Z85");
  }
  return line;
}

// Creates `path` with `mode` (never overwriting) and writes `text` to it.
Status WriteNewFile(const std::string& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Status::IoError("cannot create " + path + ": " + std::strerror(errno));
  const bool written = ::write(fd, text.data(), text.size()) == ssize_t(text.size()) &&
                       ::fchmod(fd, mode) == 0 && ::fsync(fd) == 0;
  ::close(fd);
  if (!written) return Status::IoError("cannot write " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace

Result<KeyPair> NewKeyPair() {
  char pub[kZ85KeyChars + 1], sec[kZ85KeyChars + 1];
  if (zmq_curve_keypair(pub, sec) != 0) {
    return Status::IoError("cannot make a CURVE key pair (libzmq without CURVE support?)");
  }
  return KeyPair{pub, sec};
}

bool ValidKeyName(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '.') return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

Status WriteKeyPair(const std::string& dir, const std::string& name, const KeyPair& keys) {
  SYNOD_CHECK(ValidKeyName(name));
  std::error_code ec;
  const bool created = fs::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create key dir " + dir + ": " + ec.message());
  if (created) fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  const std::string base = dir + "/" + name;
  for (const char* suffix : {kSecretKeySuffix, kPublicKeySuffix}) {
    if (fs::exists(base + suffix, ec)) {
      return Status::InvalidArgument(base + suffix + " exists; not overwriting a key");
    }
  }
  if (Status s = WriteNewFile(base + kSecretKeySuffix, keys.secret_key + "\n", 0600); !s.ok()) {
    return s;
  }
  return WriteNewFile(base + kPublicKeySuffix, keys.public_key + "\n", 0644);
}

Status EnsureKeyPairs(const std::string& dir, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    std::error_code ec;
    if (fs::exists(dir + "/" + name + kSecretKeySuffix, ec)) continue;
    auto keys = NewKeyPair();
    if (!keys.ok()) return keys.status();
    if (Status s = WriteKeyPair(dir, name, keys.value()); !s.ok()) return s;
  }
  return Status::Ok();
}

std::string NodeKeyName(NodeId id) { return "node-" + std::to_string(id); }

Result<KeyPair> ReadKeyPair(const std::string& secret_path) {
  struct stat st {};
  if (::stat(secret_path.c_str(), &st) != 0) {
    return Status::InvalidArgument("cannot read secret key " + secret_path + ": " +
                                   std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument("secret key " + secret_path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    return Status::InvalidArgument("secret key " + secret_path + " has mode " +
                                   ModeText(st.st_mode) +
                                   ": the group or others may read it; chmod 600 it");
  }
  auto secret = ReadKeyLine(secret_path);
  if (!secret.ok()) return secret.status();
  char pub[kZ85KeyChars + 1];
  if (zmq_curve_public(pub, secret.value().c_str()) != 0) {
    return Status::InvalidArgument("secret key " + secret_path + " is not a CURVE key");
  }
  return KeyPair{pub, secret.value()};
}

Result<std::string> ReadPublicKey(const std::string& path) { return ReadKeyLine(path); }

std::string TrustedKeys::IdentityOf(const std::string& public_key) const {
  for (const auto& [id, key] : nodes) {
    if (key == public_key) return NodeKeyName(id);
  }
  auto it = clients.find(public_key);
  return it == clients.end() ? "" : "client:" + it->second;
}

Result<TrustedKeys> ReadTrustDir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::InvalidArgument("trust dir " + dir + " is not a directory");
  }
  TrustedKeys t;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string file = entry.path().filename().string();
    if (entry.path().extension() != kPublicKeySuffix) continue;
    const std::string name = entry.path().stem().string();
    auto key = ReadPublicKey(entry.path().string());
    if (!key.ok()) return key.status();
    if (name.rfind("node-", 0) == 0) {
      const std::string digits = name.substr(5);
      char* end = nullptr;
      const unsigned long id = std::strtoul(digits.c_str(), &end, 10);
      if (digits.empty() || *end != '\0' || id == 0 || id > 65535) {
        return Status::InvalidArgument("trust dir " + dir + ": " + file +
                                       " does not name a node id (node-<1..65535>.pub)");
      }
      t.nodes[static_cast<NodeId>(id)] = key.value();
    } else {
      t.clients[key.value()] = name;
    }
  }
  if (ec) return Status::InvalidArgument("cannot list trust dir " + dir + ": " + ec.message());
  if (t.nodes.empty() && t.clients.empty()) {
    return Status::InvalidArgument("trust dir " + dir + " holds no public key (NAME.pub)");
  }
  return t;
}

Result<Security> LoadSecurity(bool insecure, const std::string& key_path,
                              const std::string& trust_dir) {
  if (insecure) {
    if (!key_path.empty() || !trust_dir.empty()) {
      return Status::InvalidArgument(
          "--insecure cannot be combined with --key or --trust: a process is either "
          "plaintext or CURVE, never both");
    }
    return Security{};
  }
  if (key_path.empty() || trust_dir.empty()) {
    return Status::InvalidArgument(
        std::string(key_path.empty() ? "--key" : "--trust") +
        " missing: CURVE needs --key FILE (from `synod keygen`) and --trust DIR (the public "
        "keys it trusts); plaintext needs an explicit --insecure");
  }
  auto own = ReadKeyPair(key_path);
  if (!own.ok()) return own.status();
  auto trusted = ReadTrustDir(trust_dir);
  if (!trusted.ok()) return trusted.status();
  Security s;
  s.curve = true;
  s.own = std::move(own.value());
  s.trusted = std::move(trusted.value());
  s.trust_dir = trust_dir;
  return s;
}

Status RequireNodeKeys(const Security& security, const std::vector<NodeId>& ids) {
  if (!security.curve) return Status::Ok();
  for (NodeId id : ids) {
    if (security.trusted.nodes.count(id) == 0) {
      return Status::InvalidArgument("the trust dir has no public key for node " +
                                     std::to_string(id) + " (" + NodeKeyName(id) +
                                     kPublicKeySuffix + ")");
    }
  }
  return Status::Ok();
}

void ConfigureServer(zmq::socket_t& socket, const Security& security) {
  if (!security.curve) return;
  socket.set(zmq::sockopt::curve_server, 1);
  socket.set(zmq::sockopt::curve_secretkey, security.own.secret_key);
  socket.set(zmq::sockopt::zap_domain, kZapDomain);
}

Status ConfigureClient(zmq::socket_t& socket, const Security& security, NodeId server) {
  if (!security.curve) return Status::Ok();
  if (Status s = RequireNodeKeys(security, {server}); !s.ok()) return s;
  auto it = security.trusted.nodes.find(server);
  socket.set(zmq::sockopt::curve_serverkey, it->second);
  socket.set(zmq::sockopt::curve_publickey, security.own.public_key);
  socket.set(zmq::sockopt::curve_secretkey, security.own.secret_key);
  return Status::Ok();
}

}  // namespace synod::net
