#include "replicate/turnover.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "stream/record.h"

namespace dynarep::replicate {

Result<Turnover::Role> parse_turnover_role(std::string_view text) {
  std::string up(text);
  std::transform(up.begin(), up.end(), up.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (up == "BEFORE") return Turnover::Role::kBefore;
  if (up == "AFTER") return Turnover::Role::kAfter;
  return invalid_input(fmt::format("turnover role \"{}\": expected BEFORE or AFTER", text));
}

Result<std::chrono::system_clock::time_point> parse_turnover_time(std::string_view text) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int64_t ms = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc() || p != text.data() + text.size()) {
      return invalid_input(fmt::format("turnover time \"{}\": too large", text));
    }
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::milliseconds(ms)));
  }
  auto t = stream::creation_time_from_iso8601(text);
  if (!t.ok()) {
    return invalid_input(fmt::format(
        "turnover time \"{}\": expected milliseconds since the epoch or ISO 8601 (2024-05-01T12:00:00Z)", text));
  }
  return *t;
}

}  // namespace dynarep::replicate
