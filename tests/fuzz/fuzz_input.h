// Shared by the fuzz targets and their seed maker: one fuzz input as a sequence of parts, each
// a little-endian u16 length followed by that many bytes (a short last part takes what is
// left). Lets one input carry several frames, commands or snapshot chunks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace synod::fuzz {

inline std::vector<std::string> SplitParts(const uint8_t* data, size_t size, size_t parts_max) {
  std::vector<std::string> parts;
  size_t at = 0;
  while (at < size && parts.size() < parts_max) {
    if (size - at < 2) break;
    const size_t n = std::min<size_t>(data[at] | size_t(data[at + 1]) << 8, size - at - 2);
    // A std::string's buffer is aligned, as the FlatBuffers verifier requires.
    parts.emplace_back(reinterpret_cast<const char*>(data + at + 2), n);
    at += 2 + n;
  }
  return parts;
}

inline void AppendPart(std::string* out, std::string_view part) {
  const size_t n = std::min<size_t>(part.size(), 0xffff);
  out->push_back(static_cast<char>(n & 0xff));
  out->push_back(static_cast<char>(n >> 8));
  out->append(part.data(), n);
}

}  // namespace synod::fuzz
