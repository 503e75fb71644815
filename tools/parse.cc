#include "tools/parse.h"

namespace synod::tools {

Result<unsigned __int128> ParseUnsigned(std::string_view what, std::string_view text, int bits) {
  const std::string quoted = std::string(what) + " '" + std::string(text) + "'";
  if (text.empty()) return Status::InvalidArgument(std::string(what) + " is empty");
  const unsigned __int128 max =
      bits == 128 ? ~(unsigned __int128)0 : ((unsigned __int128)1 << bits) - 1;
  unsigned __int128 v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return Status::InvalidArgument(quoted + " is not a decimal integer");
    }
    const unsigned digit = c - '0';
    if (v > (max - digit) / 10) {
      return Status::InvalidArgument(quoted + " does not fit in " + std::to_string(bits) + " bits");
    }
    v = v * 10 + digit;
  }
  return v;
}

Result<ledger::Id128> ParseId(std::string_view what, std::string_view text) {
  auto v = ParseUnsigned(what, text, 128);
  if (!v.ok()) return v.status();
  if (v.value() == 0) return Status::InvalidArgument(std::string(what) + " must not be 0");
  return v.value();
}

Result<uint64_t> ParseAmount(std::string_view what, std::string_view text) {
  auto v = ParseUnsigned(what, text, 64);
  if (!v.ok()) return v.status();
  return static_cast<uint64_t>(v.value());
}

}  // namespace synod::tools
