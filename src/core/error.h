// Errors as values. Every failure that a caller may handle travels as an Error inside a
// Result<T>; exceptions are kept for programming bugs and start-up failures.
#pragma once

#include <string>
#include <string_view>

namespace dynarep {

// What a caller can do about an error. Classified once, where the error is first seen (the
// AWS layer maps AWS error codes and HTTP statuses here), never by matching message text.
enum class ErrorKind {
  kTransient,        // network failure, 5xx: retry with backoff
  kThrottled,        // throttling: retry, with its own (slower) backoff and budget
  kNotFound,         // missing table, stream, bucket or object
  kConditionFailed,  // a conditional write lost (lease taken, item changed)
  kUnknownOutcome,   // a write may or may not have been applied: an attempt's answer was lost
                     // and the call then failed (a resent conditional write failing its
                     // condition, a non-idempotent update not resent). Read back to find out.
  kInvalidInput,     // bad data, bad arguments, validation errors: never retried
  kAuth,             // missing or rejected credentials
  kCancelled,        // shutdown or deadline
  kFatal,            // anything else that retrying cannot fix
};

std::string_view to_string(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::kFatal;
  std::string code;        // AWS error code (e.g. "ResourceNotFoundException") or our own
  std::string message;     // human text from the service or from us
  std::string request_id;  // x-amzn-RequestId / x-amz-request-id when a service answered
  int http_status = 0;     // 0 when no HTTP answer was received
  std::string context;     // what it concerns: "table us-east-1/orders key {...}", "s3://b/k line 7"

  Error() = default;
  Error(ErrorKind k, std::string c, std::string m) : kind(k), code(std::move(c)), message(std::move(m)) {}

  [[nodiscard]] bool retryable() const {
    return kind == ErrorKind::kTransient || kind == ErrorKind::kThrottled;
  }
  // Prepends what the error concerns, outermost last: "copying item: table t: <message>".
  Error& with_context(std::string_view what);
  // One line for a person: "<context>: <code>: <message> (HTTP 400, request id ...)".
  [[nodiscard]] std::string describe() const;
};

inline Error invalid_input(std::string message) {
  return Error(ErrorKind::kInvalidInput, "InvalidInput", std::move(message));
}
inline Error not_found(std::string message) {
  return Error(ErrorKind::kNotFound, "NotFound", std::move(message));
}
inline Error fatal(std::string message) { return Error(ErrorKind::kFatal, "Fatal", std::move(message)); }
inline Error transient(std::string message) {
  return Error(ErrorKind::kTransient, "Transient", std::move(message));
}

}  // namespace dynarep
