// Status: the result of an operation that can fail for reasons outside our code
// (bad input, disk, network). Modelled on leveldb::Status; cheap to copy when ok.
// Result<T> carries a value or a non-ok Status. No exception crosses a module boundary.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "paxos/check.h"

namespace synod {

class [[nodiscard]] Status {
 public:
  enum class Code { kOk, kInvalidArgument, kNotFound, kCorruption, kIoError, kBusy, kAborted };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) {
    return Status(Code::kInvalidArgument, std::move(m));
  }
  static Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
  static Status Corruption(std::string m) { return Status(Code::kCorruption, std::move(m)); }
  static Status IoError(std::string m) { return Status(Code::kIoError, std::move(m)); }
  static Status Busy(std::string m) { return Status(Code::kBusy, std::move(m)); }
  static Status Aborted(std::string m) { return Status(Code::kAborted, std::move(m)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design.
  Result(Status status) : status_(std::move(status)) { SYNOD_CHECK(!status_.ok()); }  // NOLINT
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() {
    SYNOD_CHECK(ok());
    return *value_;
  }
  const T& value() const {
    SYNOD_CHECK(ok());
    return *value_;
  }

 private:
  Status status_;
  std::optional<T> value_;
};

inline std::string Status::ToString() const {
  switch (code_) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidArgument:
      return "invalid argument: " + message_;
    case Code::kNotFound:
      return "not found: " + message_;
    case Code::kCorruption:
      return "corruption: " + message_;
    case Code::kIoError:
      return "io error: " + message_;
    case Code::kBusy:
      return "busy: " + message_;
    case Code::kAborted:
      return "aborted: " + message_;
  }
  return "unknown";
}

}  // namespace synod
