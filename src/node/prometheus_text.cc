#include "node/prometheus_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "paxos/check.h"

namespace synod::node {
namespace {

bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

const char* TypeName(PrometheusText::Type type) {
  switch (type) {
    case PrometheusText::Type::kCounter:
      return "counter";
    case PrometheusText::Type::kGauge:
      return "gauge";
    case PrometheusText::Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// HELP text escapes only backslash and newline (the format's rule for docstrings).
std::string EscapeHelp(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string PrometheusNumber(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 9.007199254740992e15) {
    return std::to_string(static_cast<int64_t>(value));
  }
  // Shortest round-tripping digits; plain decimals (0.0002, not 2e-04) where they stay short.
  const double magnitude = std::fabs(value);
  const auto format =
      magnitude >= 1e-6 && magnitude < 1e15 ? std::chars_format::fixed : std::chars_format::general;
  char buf[400];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value, format);
  SYNOD_CHECK(ec == std::errc());
  return std::string(buf, end);
}

std::string PrometheusEscape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void PrometheusText::Family(std::string_view name, Type type, std::string_view help) {
  SYNOD_CHECK(ValidName(name));
  SYNOD_CHECK(std::find(declared_.begin(), declared_.end(), name) == declared_.end());
  declared_.emplace_back(name);
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += EscapeHelp(help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += TypeName(type);
  out_ += '\n';
}

void PrometheusText::Sample(std::string_view name, const MetricLabels& labels, double value) {
  SYNOD_CHECK(!declared_.empty() && declared_.back() == name);
  Line(name, labels, "", "", value);
}

void PrometheusText::Histogram(std::string_view name, const MetricLabels& labels,
                               const HistogramValues& h) {
  SYNOD_CHECK(!declared_.empty() && declared_.back() == name);
  SYNOD_CHECK(h.cumulative.size() == h.bounds.size() + 1);
  SYNOD_CHECK(h.count == h.cumulative.back());
  const std::string bucket = std::string(name) + "_bucket";
  for (size_t i = 0; i < h.cumulative.size(); ++i) {
    if (i > 0) SYNOD_CHECK(h.cumulative[i] >= h.cumulative[i - 1]);
    const double le = i < h.bounds.size() ? h.bounds[i] : INFINITY;
    Line(bucket, labels, "le", PrometheusNumber(le), static_cast<double>(h.cumulative[i]));
  }
  Line(std::string(name) + "_sum", labels, "", "", h.sum);
  Line(std::string(name) + "_count", labels, "", "", static_cast<double>(h.count));
}

void PrometheusText::Line(std::string_view name, const MetricLabels& labels,
                          std::string_view extra_label, std::string_view extra_value,
                          double value) {
  out_ += name;
  if (!labels.empty() || !extra_label.empty()) {
    out_ += '{';
    bool first = true;
    auto add = [&](std::string_view k, std::string_view v) {
      SYNOD_CHECK(ValidName(k));
      if (!first) out_ += ',';
      first = false;
      out_ += k;
      out_ += "=\"";
      out_ += PrometheusEscape(v);
      out_ += '"';
    };
    for (const auto& [k, v] : labels) add(k, v);
    if (!extra_label.empty()) add(extra_label, extra_value);
    out_ += '}';
  }
  out_ += ' ';
  out_ += PrometheusNumber(value);
  out_ += '\n';
}

}  // namespace synod::node
