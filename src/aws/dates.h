// Times as AWS services and their users write them: the one HTTP-date parser and the one
// ISO 8601 parser of the project (aws is the lowest module that reads either).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "core/result.h"

namespace dynarep::aws {

// IMF-fixdate (RFC 9110 §5.6.7), "Sun, 06 Nov 1994 08:49:37 GMT": what S3 sends in
// Last-Modified and services may send in Retry-After. nullopt for anything else (the obsolete
// RFC 850 and asctime forms included) and for fields out of range.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);

// How much of ISO 8601 beyond the strict RFC 3339 form a caller accepts.
struct Iso8601Syntax {
  // Without a zone the time is UTC. (Credentials documents always carry one; DynamoDB Streams
  // times and users' --as-of values may not.)
  bool zone_optional = false;
  // 't' or ' ' between date and time as well as 'T'.
  bool any_separator = false;
};

// "YYYY-MM-DDTHH:MM:SS[.fraction][Z|z|+HH:MM|-HH:MM|+HHMM|-HHMM]", exactly (no surrounding
// space), to the microsecond (further fraction digits are read and ignored). Errors are
// kInvalidInput: "\"<text>\" is not an ISO 8601 time", or, for a valid time outside
// 1677-09-21 .. 2262-04-11 (system_clock's 64-bit nanoseconds), that it is outside those years.
Result<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text, Iso8601Syntax syntax = {});

}  // namespace dynarep::aws
