// One test per fuzz finding: the exact input, fed to the module's API, must give a clean error
// (or a correct result), with no crash and no undefined behaviour (run under the asan preset).
// Each names the harness that found it and the saved input under inputs/<target>/.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "aws/xml.h"
#include "stream/lambda_event.h"
#include "stream/record.h"

namespace dynarep::fuzz_regressions {
namespace {

std::string input(const std::string& target, const std::string& name) {
  std::ifstream in(std::filesystem::path(DYNAREP_FUZZ_INPUTS_DIR) / target / name, std::ios::binary);
  EXPECT_TRUE(in.good()) << target << "/" << name;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// fuzz_change_record, inputs/change_record/iso8601-year-2426: creation_time_from_iso8601
// converted a time after 2262-04-11 (where system_clock's 64-bit nanoseconds end) to
// system_clock::duration without a range check: signed overflow in duration_cast (UB; UBSan:
// "14405298485899000 * 1000 cannot be represented in type 'long'"), and a wrong time.
// creation_time_from_epoch already refuses such times ("after the year 2262").
TEST(FuzzChangeRecord, Iso8601TimeAfter2262IsAnError) {
  auto t = stream::creation_time_from_iso8601("2426-06-27T00:48:05.899+01:00");
  ASSERT_FALSE(t.ok()) << "read as " << t->time_since_epoch().count();
  EXPECT_EQ(t.error().kind, ErrorKind::kInvalidInput);

  auto r = stream::parse_change_record(input("change_record", "iso8601-year-2426"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
  EXPECT_NE(r.error().message.find("ApproximateCreationDateTime"), std::string::npos) << r.error().message;
}

// inputs/change_record/iso8601-year-1600: the same overflow below 1677-09-21, where
// system_clock begins.
TEST(FuzzChangeRecord, Iso8601TimeBefore1677IsAnError) {
  auto t = stream::creation_time_from_iso8601("1600-01-01T00:00:00Z");
  ASSERT_FALSE(t.ok()) << "read as " << t->time_since_epoch().count();
  EXPECT_EQ(t.error().kind, ErrorKind::kInvalidInput);
  auto r = stream::parse_change_record(input("change_record", "iso8601-year-1600"));
  EXPECT_FALSE(r.ok());
}

TEST(FuzzChangeRecord, Iso8601TimesInsideTheClocksRangeStillRead) {
  EXPECT_TRUE(stream::creation_time_from_iso8601("2262-04-11T00:00:00Z").ok());
  EXPECT_TRUE(stream::creation_time_from_iso8601("1678-01-01T00:00:00Z").ok());
  auto t = stream::creation_time_from_iso8601("2015-06-27T00:48:05.899Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count(), 1435366085899);
}

// fuzz_lambda_event, inputs/lambda_event/kinesis-arrival-year-2459: a Kinesis record's
// kinesis.approximateArrivalTimestamp (seconds) beyond 2262 was turned into
// system_clock::time_point through milliseconds: signed overflow converting to nanoseconds
// (UB; UBSan: "15450842650987 * 1000000 cannot be represented in type 'long'"). Out-of-range
// and non-finite values alike should leave approximate_arrival empty (the field is optional),
// and the record itself is still read.
TEST(FuzzLambdaEvent, ArrivalTimestampAfter2262IsIgnored) {
  auto r = stream::parse_lambda_event(input("lambda_event", "kinesis-arrival-year-2459"));
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_GE(r->size(), 1u);
  EXPECT_FALSE((*r)[0].approximate_arrival.has_value())
      << "kept " << (*r)[0].approximate_arrival->time_since_epoch().count();
}

// inputs/lambda_event/kinesis-arrival-negative-huge: -1e300 seconds, which llround cannot
// even represent.
TEST(FuzzLambdaEvent, ArrivalTimestampFarBeforeTheEpochIsIgnored) {
  auto r = stream::parse_lambda_event(input("lambda_event", "kinesis-arrival-negative-huge"));
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_FALSE((*r)[0].approximate_arrival.has_value())
      << "kept " << (*r)[0].approximate_arrival->time_since_epoch().count();
}

// fuzz_s3_xml, inputs/s3_xml/char-ref-uffff: xml::parse accepts the character references
// &#xFFFE; and &#xFFFF; (parse_reference: "any Unicode scalar value except NUL") but rejects
// the same characters written raw ("invalid UTF-8": check_characters follows XML 1.0's Char,
// which excludes them), and xml::escape writes them raw. So text that parse() produced does
// not survive escape() and parse() again (a DeleteObjects body built from a listed key would
// be malformed). Either way of making them agree passes: escape writing references, or parse
// refusing the references too.
TEST(FuzzS3Xml, EscapeCarriesEveryTextParseProduces) {
  const std::string doc = input("s3_xml", "char-ref-uffff").substr(1);  // byte 0: the harness's options
  auto tree = aws::xml::parse(doc);
  if (!tree.ok()) GTEST_SKIP() << "parse() refuses the reference now: " << tree.error().describe();
  const std::string& text = tree->text;
  ASSERT_NE(text.find("\xEF\xBF\xBF"), std::string::npos);
  const std::string again = "<a>" + aws::xml::escape(text) + "</a>";
  auto back = aws::xml::parse(again);
  ASSERT_TRUE(back.ok()) << back.error().describe();
  EXPECT_EQ(back->text, text);
}

}  // namespace
}  // namespace dynarep::fuzz_regressions
