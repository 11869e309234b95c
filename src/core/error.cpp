#include "core/error.h"

#include <fmt/format.h>

namespace dynarep {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kTransient: return "transient";
    case ErrorKind::kThrottled: return "throttled";
    case ErrorKind::kNotFound: return "not-found";
    case ErrorKind::kConditionFailed: return "condition-failed";
    case ErrorKind::kUnknownOutcome: return "unknown-outcome";
    case ErrorKind::kInvalidInput: return "invalid-input";
    case ErrorKind::kAuth: return "auth";
    case ErrorKind::kCancelled: return "cancelled";
    case ErrorKind::kFatal: return "fatal";
  }
  return "unknown";
}

Error& Error::with_context(std::string_view what) {
  if (context.empty()) {
    context = std::string(what);
  } else {
    context = fmt::format("{}: {}", what, context);
  }
  return *this;
}

std::string Error::describe() const {
  std::string out;
  if (!context.empty()) out += context + ": ";
  if (!code.empty() && code != "InvalidInput" && code != "NotFound" && code != "Fatal" &&
      code != "Transient") {
    out += code + ": ";
  }
  out += message;
  if (http_status != 0 || !request_id.empty()) {
    out += " (";
    if (http_status != 0) out += fmt::format("HTTP {}", http_status);
    if (!request_id.empty()) out += (http_status != 0 ? ", request id " : "request id ") + request_id;
    out += ")";
  }
  return out;
}

}  // namespace dynarep
