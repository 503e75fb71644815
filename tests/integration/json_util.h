// Reading the CLI's JSON: ids and amounts may be JSON numbers or strings of digits
// (ARCHITECTURE.md, interface contract). Exit codes of the contract.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace synod::integration {

inline constexpr int kOk = 0;
inline constexpr int kFailure = 1;
inline constexpr int kUsage = 2;
inline constexpr int kNotFound = 3;

// The decimal digits of a number or a string of digits; "" for anything else.
inline std::string Str(const nlohmann::json& j) {
  if (j.is_number_unsigned()) return std::to_string(j.get<uint64_t>());
  if (j.is_number_integer()) return std::to_string(j.get<int64_t>());
  if (j.is_string()) return j.get<std::string>();
  return "";
}

// A 64-bit value given as a number or a string of digits; UINT64_MAX if neither.
inline uint64_t U64(const nlohmann::json& j) {
  const std::string s = Str(j);
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 20) {
    return UINT64_MAX;
  }
  return std::stoull(s);
}

}  // namespace synod::integration
