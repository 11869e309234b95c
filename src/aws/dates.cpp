#include "aws/dates.h"

#include <fmt/format.h>

#include <cstdint>
#include <ctime>

namespace dynarep::aws {
namespace {

// The value of the `len` decimal digits at `pos`, or -1 when any is not a digit or the text ends.
int digits(std::string_view s, std::size_t pos, std::size_t len) {
  if (pos + len > s.size()) return -1;
  int v = 0;
  for (std::size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (text.size() != 29 || text.substr(3, 2) != ", " || text.substr(25) != " GMT") return std::nullopt;
  const int day = digits(text, 5, 2), year = digits(text, 12, 4), hour = digits(text, 17, 2);
  const int min = digits(text, 20, 2), sec = digits(text, 23, 2);
  if (day < 0 || year < 0 || hour < 0 || min < 0 || sec < 0 || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':') {
    return std::nullopt;
  }
  int month = -1;
  for (int m = 0; m < 12; ++m) {
    if (text.substr(8, 3) == kMonths[m]) month = m;
  }
  if (month < 0 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

Result<std::chrono::system_clock::time_point> parse_iso8601(std::string_view s, Iso8601Syntax syntax) {
  using namespace std::chrono;
  auto bad = [&] { return invalid_input(fmt::format("\"{}\" is not an ISO 8601 time", s)); };
  // YYYY-MM-DDTHH:MM:SS
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':') return bad();
  if (s[10] != 'T' && !(syntax.any_separator && (s[10] == 't' || s[10] == ' '))) return bad();
  const int y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  const int h = digits(s, 11, 2), mi = digits(s, 14, 2), sec = digits(s, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0 || h > 23 || mi > 59 || sec > 59) return bad();
  const year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return bad();
  std::size_t i = 19;
  std::int64_t micros = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int n = 0;
    std::int64_t scale = 100000;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      micros += (s[i] - '0') * scale;
      scale /= 10;
      ++n;
      ++i;
    }
    if (n == 0) return bad();
  }
  std::int64_t offset_minutes = 0;
  if (i == s.size()) {
    if (!syntax.zone_optional) return bad();
  } else if (s[i] == 'Z' || s[i] == 'z') {
    ++i;
  } else if (s[i] == '+' || s[i] == '-') {
    const int sign = s[i] == '-' ? -1 : 1;
    const int oh = digits(s, i + 1, 2);
    std::size_t mpos = i + 3;
    if (mpos < s.size() && s[mpos] == ':') ++mpos;
    const int om = digits(s, mpos, 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return bad();
    offset_minutes = sign * (oh * 60 + om);
    i = mpos + 2;
  } else {
    return bad();
  }
  if (i != s.size()) return bad();
  // Counted in microseconds (64 bits span ±292,000 years), then range-checked: system_clock's
  // nanoseconds would overflow outside 1677..2262.
  const std::int64_t t = duration_cast<microseconds>(sys_days(ymd).time_since_epoch()).count() +
                         (h * 3600LL + mi * 60LL + sec - offset_minutes * 60) * 1000000 + micros;
  constexpr std::int64_t kMax = duration_cast<microseconds>(system_clock::duration::max()).count();
  constexpr std::int64_t kMin = duration_cast<microseconds>(system_clock::duration::min()).count();
  if (t > kMax || t < kMin) {
    return invalid_input(fmt::format("\"{}\" is outside the years 1677 to 2262 that a time here can hold", s));
  }
  return system_clock::time_point(microseconds(t));
}

}  // namespace dynarep::aws
