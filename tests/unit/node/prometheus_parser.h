// A strict reader of the Prometheus text format (0.0.4) for tests: it parses every line and
// checks what a scraper relies on. Used by the unit tests of src/node/prometheus_text and
// NodeMetrics, and by the metrics integration test on real /metrics answers.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace synod::testing_prom {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct PromText {
  std::map<std::string, std::string> types;  // Family name -> counter|gauge|histogram|...
  std::vector<PromSample> samples;
  // The value of the sample `name` whose labels include `labels`; summed over every sample
  // that matches. NaN when none matches.
  double Value(const std::string& name,
               const std::map<std::string, std::string>& labels = {}) const;
};

// Parses `text`; on the first problem returns false with *error naming the line. Checks:
// line syntax, label escapes, values, a TYPE before any sample of its family, counters >= 0,
// histogram buckets cumulative with a final le="+Inf" equal to _count.
bool ParsePrometheus(const std::string& text, PromText* out, std::string* error);

}  // namespace synod::testing_prom
