// PrometheusText: writes the Prometheus text exposition format (version 0.0.4), the body of a
// `GET /metrics` answer. Each metric family gets its `# HELP` and `# TYPE` lines once, then its
// samples; histograms expand into cumulative `_bucket{le="..."}` samples (the last one
// `le="+Inf"`), `_sum` and `_count`. Label values are escaped (backslash, double quote,
// newline); names are the caller's and must match [a-zA-Z_:][a-zA-Z0-9_:]* (SYNOD_CHECKed).
//
// A value type used by one thread at a time; it only formats, it never reads a metric itself.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace synod::node {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// A histogram read at one moment. Invariant: bounds ascending, cumulative.size() ==
// bounds.size() + 1 (the last entry counts every observation, le="+Inf"), cumulative
// non-decreasing, count == cumulative.back().
struct HistogramValues {
  std::vector<double> bounds;
  std::vector<uint64_t> cumulative;
  uint64_t count = 0;
  double sum = 0;
};

class PrometheusText {
 public:
  enum class Type { kCounter, kGauge, kHistogram };

  // Starts a family. REQUIRES: `name` not declared before in this text.
  void Family(std::string_view name, Type type, std::string_view help);
  // One sample of the family declared last (counter or gauge).
  void Sample(std::string_view name, const MetricLabels& labels, double value);
  // One labelled histogram of the family declared last.
  void Histogram(std::string_view name, const MetricLabels& labels, const HistogramValues& h);

  const std::string& text() const { return out_; }

 private:
  void Line(std::string_view name, const MetricLabels& labels, std::string_view extra_label,
            std::string_view extra_value, double value);

  std::string out_;
  std::vector<std::string> declared_;
};

// A sample value as the format spells it: integers without a fraction, else the shortest
// round-tripping decimal; "NaN", "+Inf", "-Inf".
std::string PrometheusNumber(double value);
// A label value with \\, \" and \n escaped.
std::string PrometheusEscape(std::string_view value);

}  // namespace synod::node
