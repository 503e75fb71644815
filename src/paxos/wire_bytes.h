// ByteWriter / ByteReader: a tiny little-endian encoding for opaque state blobs
// (session table, simulator state machine). Grammar:
//   u64   := 8 bytes little-endian
//   bytes := u64 length, then length bytes
// Readers never trust a length: every read is bounds-checked and returns false on short input.
// The network and disk formats are FlatBuffers (schemas/); this is only for inner blobs.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace synod {

class ByteWriter {
 public:
  void U64(uint64_t v) {
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    out_.append(b, 8);
  }
  void Bytes(std::string_view s) {
    U64(s.size());
    out_.append(s);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  bool U64(uint64_t* v) {
    if (in_.size() < 8) return false;
    uint64_t x = 0;
    for (int i = 0; i < 8; ++i) x |= uint64_t(static_cast<unsigned char>(in_[i])) << (8 * i);
    in_.remove_prefix(8);
    *v = x;
    return true;
  }
  bool Bytes(std::string* s, size_t max) {
    uint64_t n = 0;
    if (!U64(&n) || n > max || n > in_.size()) return false;
    s->assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool Done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace synod
