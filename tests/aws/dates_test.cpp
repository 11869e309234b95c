// The project's one HTTP-date parser and one ISO 8601 parser (aws/dates.h), with the two
// syntaxes its callers use: strict with a zone (credentials) and lenient (stream times).
#include <gtest/gtest.h>

#include <chrono>

#include "aws/dates.h"

namespace dynarep::aws {
namespace {

using std::chrono::microseconds;
using std::chrono::system_clock;

TEST(AwsDates, HttpDate) {
  auto t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");
  ASSERT_TRUE(t);
  EXPECT_EQ(system_clock::to_time_t(*t), 784111777);
  EXPECT_FALSE(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"));  // RFC 850: obsolete
  EXPECT_FALSE(parse_http_date("Sun Nov  6 08:49:37 1994"));        // asctime: obsolete
  EXPECT_FALSE(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"));
  EXPECT_FALSE(parse_http_date(""));
}

system_clock::time_point at_micros(std::int64_t us) { return system_clock::time_point(microseconds(us)); }

TEST(AwsDates, Iso8601StrictNeedsAZoneAndAT) {
  const auto base = at_micros(1714566896000000);  // 2024-05-01T12:34:56Z
  EXPECT_EQ(*parse_iso8601("2024-05-01T12:34:56Z"), base);
  EXPECT_EQ(*parse_iso8601("2024-05-01T12:34:56z"), base);
  EXPECT_EQ(*parse_iso8601("2024-05-01T12:34:56.123456789Z"), at_micros(1714566896123456));
  EXPECT_EQ(*parse_iso8601("2024-05-01T14:34:56+02:00"), base);
  EXPECT_EQ(*parse_iso8601("2024-05-01T10:04:56-0230"), base);
  for (const char* bad : {"2024-05-01T12:34:56", "2024-05-01 12:34:56Z", "2024-05-01t12:34:56Z",
                          " 2024-05-01T12:34:56Z", "2024-05-01T12:34:56.Z", "2024-02-30T12:34:56Z",
                          "2024-05-01T12:34:60Z", "2024-05-01T12:34:56+24:00", "24-05-01T12:34:56Z",
                          "2024-05-01T12:34:56Zjunk", "yesterday", ""}) {
    auto r = parse_iso8601(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
    EXPECT_NE(r.error().message.find("is not an ISO 8601 time"), std::string::npos) << r.error().message;
  }
}

TEST(AwsDates, Iso8601LenientTakesNoZoneAsUtcAndOtherSeparators) {
  const Iso8601Syntax lenient{.zone_optional = true, .any_separator = true};
  const auto base = at_micros(1714566896000000);
  EXPECT_EQ(*parse_iso8601("2024-05-01T12:34:56", lenient), base);
  EXPECT_EQ(*parse_iso8601("2024-05-01 12:34:56", lenient), base);
  EXPECT_EQ(*parse_iso8601("2024-05-01t12:34:56Z", lenient), base);
  EXPECT_FALSE(parse_iso8601("2024-05-01X12:34:56", lenient).ok());
}

TEST(AwsDates, Iso8601OutsideTheClockIsAnErrorNotAnOverflow) {
  EXPECT_TRUE(parse_iso8601("2262-04-11T00:00:00Z").ok());
  EXPECT_TRUE(parse_iso8601("1678-01-01T00:00:00Z").ok());
  for (const char* far : {"2426-06-27T00:48:05.899+01:00", "1600-01-01T00:00:00Z", "9999-12-31T23:59:59Z"}) {
    auto r = parse_iso8601(far);
    ASSERT_FALSE(r.ok()) << far;
    EXPECT_NE(r.error().message.find("outside the years 1677 to 2262"), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace dynarep::aws
