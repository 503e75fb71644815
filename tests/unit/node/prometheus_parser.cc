#include "tests/unit/node/prometheus_parser.h"

#include <cmath>
#include <cstdlib>
#include <sstream>

namespace synod::testing_prom {
namespace {

bool NameChar(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

bool ParseName(const std::string& s, size_t* i, std::string* out) {
  size_t start = *i;
  while (*i < s.size() && NameChar(s[*i], *i == start)) ++*i;
  *out = s.substr(start, *i - start);
  return !out->empty();
}

bool ParseValue(const std::string& s, double* out) {
  if (s == "+Inf") return (*out = INFINITY), true;
  if (s == "-Inf") return (*out = -INFINITY), true;
  if (s == "NaN") return (*out = NAN), true;
  if (s.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

bool ParseLabels(const std::string& s, size_t* i, std::map<std::string, std::string>* out) {
  ++*i;  // '{'
  while (*i < s.size() && s[*i] != '}') {
    std::string key;
    if (!ParseName(s, i, &key) || *i + 1 >= s.size() || s[*i] != '=' || s[*i + 1] != '"') {
      return false;
    }
    *i += 2;
    std::string value;
    for (;; ++*i) {
      if (*i >= s.size()) return false;
      if (s[*i] == '"') break;
      if (s[*i] == '\\') {
        if (++*i >= s.size()) return false;
        const char c = s[*i];
        if (c == 'n') {
          value += '\n';
        } else if (c == '\\' || c == '"') {
          value += c;
        } else {
          return false;
        }
      } else if (s[*i] == '\n') {
        return false;
      } else {
        value += s[*i];
      }
    }
    ++*i;  // Closing quote.
    if (out->count(key)) return false;
    (*out)[key] = value;
    if (*i < s.size() && s[*i] == ',') ++*i;
  }
  if (*i >= s.size()) return false;
  ++*i;  // '}'
  return true;
}

// The family a sample belongs to: histograms own name_bucket, name_sum and name_count.
std::string FamilyOf(const std::string& name, const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string sfx = suffix;
    if (name.size() > sfx.size() && name.compare(name.size() - sfx.size(), sfx.size(), sfx) == 0) {
      auto it = types.find(name.substr(0, name.size() - sfx.size()));
      if (it != types.end() && it->second == "histogram") return it->first;
    }
  }
  return name;
}

bool CheckHistograms(const PromText& t, std::string* error) {
  // Per histogram and label set (without le): buckets in order, cumulative, +Inf == count.
  std::map<std::string, std::vector<std::pair<double, double>>> buckets;
  std::map<std::string, double> counts;
  auto key_of = [](const PromSample& s, const std::string& family) {
    std::string k = family;
    for (const auto& [lk, lv] : s.labels) {
      if (lk != "le") k += "," + lk + "=" + lv;
    }
    return k;
  };
  for (const PromSample& s : t.samples) {
    const std::string family = FamilyOf(s.name, t.types);
    if (family == s.name || t.types.at(family) != "histogram") continue;
    if (s.name == family + "_bucket") {
      auto le = s.labels.find("le");
      double bound = 0;
      if (le == s.labels.end() || !ParseValue(le->second, &bound)) {
        return (*error = s.name + ": bucket without a valid le"), false;
      }
      buckets[key_of(s, family)].push_back({bound, s.value});
    } else if (s.name == family + "_count") {
      counts[key_of(s, family)] = s.value;
    }
  }
  for (const auto& [k, list] : buckets) {
    for (size_t i = 1; i < list.size(); ++i) {
      if (!(list[i].first > list[i - 1].first)) return (*error = k + ": le not ascending"), false;
      if (list[i].second < list[i - 1].second) {
        return (*error = k + ": buckets not cumulative"), false;
      }
    }
    if (list.empty() || !std::isinf(list.back().first)) {
      return (*error = k + ": no le=\"+Inf\" bucket"), false;
    }
    if (!counts.count(k) || counts[k] != list.back().second) {
      return (*error = k + ": _count differs from the +Inf bucket"), false;
    }
  }
  return true;
}

}  // namespace

double PromText::Value(const std::string& name,
                       const std::map<std::string, std::string>& labels) const {
  double sum = 0;
  bool found = false;
  for (const PromSample& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      match &= it != s.labels.end() && it->second == v;
    }
    if (!match) continue;
    sum += s.value;
    found = true;
  }
  return found ? sum : NAN;
}

bool ParsePrometheus(const std::string& text, PromText* out, std::string* error) {
  *out = PromText{};
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto fail = [&](const std::string& why) {
      *error = "line " + std::to_string(n) + " (" + line + "): " + why;
      return false;
    };
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream words(line);
      std::string hash, kind, name, type;
      words >> hash >> kind >> name;
      if (kind == "TYPE") {
        words >> type;
        if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" &&
            type != "untyped") {
          return fail("unknown type");
        }
        if (out->types.count(name)) return fail("second TYPE for a family");
        for (const PromSample& s : out->samples) {
          if (FamilyOf(s.name, out->types) == name || s.name == name) {
            return fail("TYPE after a sample of its family");
          }
        }
        out->types[name] = type;
      }
      continue;
    }
    PromSample s;
    size_t i = 0;
    if (!ParseName(line, &i, &s.name)) return fail("bad metric name");
    if (i < line.size() && line[i] == '{' && !ParseLabels(line, &i, &s.labels)) {
      return fail("bad labels");
    }
    if (i >= line.size() || line[i] != ' ') return fail("no space before the value");
    if (!ParseValue(line.substr(i + 1), &s.value)) return fail("bad value");
    const std::string family = FamilyOf(s.name, out->types);
    auto type = out->types.find(family);
    if (type == out->types.end()) return fail("sample before its TYPE");
    if (type->second == "counter" && !(s.value >= 0)) return fail("negative counter");
    out->samples.push_back(std::move(s));
  }
  return CheckHistograms(*out, error);
}

}  // namespace synod::testing_prom
