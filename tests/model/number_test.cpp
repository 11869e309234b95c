#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/value.h"

namespace dynarep::model {
namespace {

Number num(const char* text) { return Number::from_string(text); }

TEST(Number, AcceptsWhatDynamoDBAccepts) {
  // The accepted forms pinned against DynamoDB in scylladb test/alternator/test_number.py,
  // plus a few more BigDecimal-style ones.
  for (const char* s : {"3", "-7.1234", "-17e5", "-17.4E37", "+3", ".123", "0001.23", "1e+5", "0e1000", "5.",
                        "-0", "0", "0.0", "1E-5", "-.5e-3"}) {
    auto r = Number::parse(s);
    EXPECT_TRUE(r.ok()) << s << ": " << (r.ok() ? "" : r.error().message);
  }
}

TEST(Number, RejectsWhatDynamoDBRejects) {
  for (const char* s : {"NaN", "Infinity", "-Infinity", "-NaN", "dog", "-dog", " 1", "1 ", "", ".", "-", "+",
                        "1e", "e1", "0x10", "1.2.3", "1e+", "--1", "+-1", "1,5", "1_000", "１"}) {
    auto r = Number::parse(s);
    ASSERT_FALSE(r.ok()) << s;
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
    EXPECT_NE(r.error().message.find("not a number"), std::string::npos) << r.error().message;
  }
}

TEST(Number, ThirtyEightSignificantDigitsAndNoMore) {
  EXPECT_TRUE(Number::parse("12345678901234567890123456789012345678").ok());
  EXPECT_TRUE(Number::parse("3.1415926535897932384626433832795028841").ok());
  EXPECT_TRUE(Number::parse("31415926535897932384626433832795028841e30").ok());
  for (const char* s : {"123456789012345678901234567890123456789", "3.14159265358979323846264338327950288419",
                        "314159265358979323846.264338327950288419"}) {
    auto r = Number::parse(s);
    ASSERT_FALSE(r.ok()) << s;
    EXPECT_NE(r.error().message.find("more than 38 significant digits"), std::string::npos) << r.error().message;
  }
  // Leading and trailing zeros are not significant.
  EXPECT_TRUE(Number::parse("000000000012345678901234567890123456789012345678").ok());
  EXPECT_TRUE(Number::parse("1.00000000000000000000000000000000000000000000000000").ok());
  EXPECT_TRUE(Number::parse("12345678901234567890123456789012345678000000000000").ok());
  EXPECT_EQ(num("0012.3400").significant_digits(), 4);
  EXPECT_EQ(num("0.000").significant_digits(), 0);
}

TEST(Number, ExponentLimits) {
  for (const char* s : {"1e125", "9.9999999999999999999999999999999999999e125", "-9.99e125", "1e-130",
                        "-1e-130", "0.1e-129", "10e-131", "1e10", "1e100", "1e-100"}) {
    EXPECT_TRUE(Number::parse(s).ok()) << s;
  }
  for (const char* s : {"1e126", "11e125", "-1e126", "1e999", "1e-131", "0.9e-130", "-1e-131",
                        "1e99999999999999999999999999", "1e-99999999999999999999999999"}) {
    auto r = Number::parse(s);
    ASSERT_FALSE(r.ok()) << s;
    EXPECT_NE(r.error().message.find("exponent out of range"), std::string::npos) << r.error().message;
  }
  EXPECT_EQ(Number::parse("1e999").error().message.rfind("number \"1e999\": exponent out of range", 0), 0u)
      << Number::parse("1e999").error().message;
}

TEST(Number, EqualByValue) {
  EXPECT_EQ(num("1.50"), num("1.5"));
  EXPECT_EQ(num("1.5"), num("15E-1"));
  EXPECT_EQ(num("15E-1"), num("0.15e1"));
  EXPECT_EQ(num("-0"), num("0"));
  EXPECT_EQ(num("0e100"), num("-0.000"));
  EXPECT_EQ(num("100"), num("1e2"));
  EXPECT_EQ(num("+3"), num("3"));
  EXPECT_EQ(num(".5"), num("0.5"));
  EXPECT_NE(num("1"), num("-1"));
  EXPECT_NE(num("1.5"), num("1.51"));
  EXPECT_NE(num("1e2"), num("1e3"));
  EXPECT_NE(num("1e-130"), num("0"));
}

TEST(Number, TextIsKeptExactly) {
  EXPECT_EQ(num("12345678901234567890123").text(), "12345678901234567890123");
  EXPECT_EQ(num("0001.50").text(), "0001.50");
  EXPECT_EQ(num("-0").text(), "-0");
  EXPECT_EQ(num("15E-1").text(), "15E-1");
}

TEST(Number, CanonicalTextIsEqualForEqualValues) {
  EXPECT_EQ(num("1.50").canonical(), "1.5");
  EXPECT_EQ(num("15E-1").canonical(), "1.5");
  EXPECT_EQ(num("0.15e1").canonical(), "1.5");
  EXPECT_EQ(num("-0").canonical(), "0");
  EXPECT_EQ(num("0e5").canonical(), "0");
  EXPECT_EQ(num("1e2").canonical(), "100");
  EXPECT_EQ(num("0.001").canonical(), "0.001");
  EXPECT_EQ(num("1e-7").canonical(), "0.0000001");
  EXPECT_EQ(num("1e-8").canonical(), "1E-8");
  EXPECT_EQ(num("1e21").canonical(), "1E+21");
  EXPECT_EQ(num("1.5e20").canonical(), "150000000000000000000");
  EXPECT_EQ(num("-12.340").canonical(), "-12.34");
  EXPECT_EQ(num("-1.25e-100").canonical(), "-1.25E-100");
  EXPECT_EQ(num("+0012345678901234567890123").canonical(), "1.2345678901234567890123E+22");
  EXPECT_EQ(num("+00123456789012345678901").canonical(), "123456789012345678901");
  // The canonical text is itself a valid number of the same value.
  for (const char* s : {"1.50", "-1.25e-100", "9.9999999999999999999999999999999999999e125", "1e-130", "123.456"}) {
    const Number n = num(s);
    auto again = Number::parse(n.canonical());
    ASSERT_TRUE(again.ok()) << n.canonical();
    EXPECT_EQ(*again, n);
    EXPECT_EQ(again->canonical(), n.canonical());
  }
}

TEST(Number, TotalOrderByValue) {
  const std::vector<Number> ascending = {
      num("-9.99e125"), num("-1e10"), num("-2"), num("-1.5"), num("-1.25"), num("-1e-130"), num("0"),
      num("1e-130"),    num("0.5"),  num("1"),  num("1.05"), num("1.5"),   num("2"),       num("10"),
      num("1e125")};
  for (size_t i = 0; i < ascending.size(); ++i) {
    for (size_t j = 0; j < ascending.size(); ++j) {
      const int c = compare(ascending[i], ascending[j]);
      const int want = i < j ? -1 : (i > j ? 1 : 0);
      EXPECT_EQ(c < 0 ? -1 : (c > 0 ? 1 : 0), want) << ascending[i].text() << " vs " << ascending[j].text();
    }
  }
  EXPECT_EQ(compare(num("-0"), num("0")), 0);
  EXPECT_TRUE(num("2") > num("1.999"));
  EXPECT_TRUE(num("-2") < num("-1.999"));
  EXPECT_TRUE(num("1") < num("1.0000000000000000000000000000000000001"));
}

TEST(Number, SignAndZero) {
  EXPECT_TRUE(num("-0").is_zero());
  EXPECT_FALSE(num("-0").is_negative());
  EXPECT_TRUE(num("-0.1").is_negative());
  EXPECT_FALSE(num("0.1").is_zero());
  EXPECT_EQ(Number::from_int(-42).text(), "-42");
  EXPECT_THROW(Number::from_string("x"), std::invalid_argument);
}

}  // namespace
}  // namespace dynarep::model
