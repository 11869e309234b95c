// Cut-overs between two replicators (the original's TurnoverRole / TurnoverAt): the old one runs
// with role BEFORE and applies only changes made before the turnover time, the new one with
// role AFTER applies only changes made at or after it, so each change is applied by exactly one.
// "Made" is the record's ApproximateCreationDateTime, or its Kinesis ApproximateArrivalTimestamp
// when it has none (KEYS_ONLY records as dyno and dynarep write them). A record with neither is
// applied (and counted) by both.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "core/result.h"

namespace dynarep::replicate {

struct Turnover {
  enum class Role { kBefore, kAfter } role = Role::kBefore;
  std::chrono::system_clock::time_point at{};

  // BEFORE: t < at; AFTER: t >= at (the original compares milliseconds the same way).
  [[nodiscard]] bool applies(std::chrono::system_clock::time_point t) const {
    return role == Role::kBefore ? t < at : t >= at;
  }
};

// "BEFORE" / "AFTER" (case-insensitive).
Result<Turnover::Role> parse_turnover_role(std::string_view text);
// Milliseconds since the epoch (the original's TurnoverAt: all digits) or ISO 8601
// ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00.250+02:00").
Result<std::chrono::system_clock::time_point> parse_turnover_time(std::string_view text);

}  // namespace dynarep::replicate
