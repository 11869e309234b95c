#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "model/value.h"

namespace dynarep::model {
namespace {

Number num(const char* text) { return Number::from_string(text); }

TEST(Type, TagsRoundTrip) {
  const std::vector<std::pair<Type, const char*>> all = {
      {Type::kS, "S"},   {Type::kN, "N"},   {Type::kB, "B"}, {Type::kSS, "SS"},     {Type::kNS, "NS"},
      {Type::kBS, "BS"}, {Type::kM, "M"},   {Type::kL, "L"}, {Type::kNull, "NULL"}, {Type::kBool, "BOOL"}};
  for (const auto& [type, tag] : all) {
    EXPECT_EQ(type_tag(type), tag);
    Type back;
    ASSERT_TRUE(type_from_tag(tag, &back)) << tag;
    EXPECT_EQ(back, type);
  }
  Type ignored;
  for (const char* bad : {"", "s", "Q", "SN", "MS", "LS", "null", "Bool", "BOOLEAN", "NUL"}) {
    EXPECT_FALSE(type_from_tag(bad, &ignored)) << bad;
  }
}

TEST(Value, FactoriesSetTheType) {
  EXPECT_EQ(Value::S("a").type(), Type::kS);
  EXPECT_EQ(Value::N(num("1")).type(), Type::kN);
  EXPECT_EQ(Value::B("\x01").type(), Type::kB);
  EXPECT_EQ(Value::SS({"a"}).type(), Type::kSS);
  EXPECT_EQ(Value::NS({num("1")}).type(), Type::kNS);
  EXPECT_EQ(Value::BS({"x"}).type(), Type::kBS);
  EXPECT_EQ(Value::M({}).type(), Type::kM);
  EXPECT_EQ(Value::L({}).type(), Type::kL);
  EXPECT_EQ(Value::Null().type(), Type::kNull);
  EXPECT_EQ(Value().type(), Type::kNull);
  EXPECT_EQ(Value::Bool(false).type(), Type::kBool);
}

TEST(Value, StrictAccessorsThrowOnTheWrongType) {
  const Value s = Value::S("a");
  EXPECT_EQ(s.as_s(), "a");
  EXPECT_THROW((void)s.as_n(), std::logic_error);
  EXPECT_THROW((void)s.as_b(), std::logic_error);
  EXPECT_THROW((void)s.as_m(), std::logic_error);
  EXPECT_THROW((void)s.as_l(), std::logic_error);
  EXPECT_THROW((void)s.as_bool(), std::logic_error);
  EXPECT_THROW((void)s.as_ss(), std::logic_error);
  EXPECT_THROW((void)Value::B("x").as_s(), std::logic_error);  // B is not S even with the same storage
  EXPECT_EQ(Value::Bool(true).as_bool(), true);
  EXPECT_EQ(Value::N(num("1.50")).as_n().text(), "1.50");
  EXPECT_EQ(Value::BS({"p", "q"}).as_bs().size(), 2u);
}

TEST(Value, TryAccessorsReturnNullOnTheWrongType) {
  const Value b = Value::B("bytes");
  const std::string* bytes = b.try_as_b();
  ASSERT_TRUE(bytes != nullptr && *bytes == "bytes");
  EXPECT_EQ(b.try_as_s(), nullptr);
  EXPECT_EQ(b.try_as_n(), nullptr);
  EXPECT_EQ(b.try_as_bs(), nullptr);
  EXPECT_EQ(b.try_as_bool(), nullptr);
  EXPECT_TRUE(Value::Null().is_null());
  EXPECT_FALSE(Value::Bool(false).is_null());
}

TEST(Map, InsertionOrderedAndSetReplaces) {
  Map m;
  m.set("b", Value::S("1"));
  m.set("a", Value::S("2"));
  m.set("c", Value::S("3"));
  m.set("a", Value::S("4"));  // replaces in place
  ASSERT_EQ(m.size(), 3u);
  std::vector<std::string> names;
  for (const auto& [name, v] : m) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"b", "a", "c"}));
  EXPECT_EQ(m.find("a")->as_s(), "4");
  EXPECT_EQ(m.find("zz"), nullptr);
  EXPECT_TRUE(m.erase("b"));
  EXPECT_FALSE(m.erase("b"));
  EXPECT_EQ(m.size(), 2u);
  EXPECT_FALSE(m.contains("b"));
  EXPECT_THROW((void)m.at("b"), std::out_of_range);
  EXPECT_THROW((void)m.find("c")->as_m(), std::logic_error);
}

TEST(Map, InitializerListKeepsLastDuplicate) {
  const Map m{{"a", Value::S("1")}, {"b", Value::Bool(true)}, {"a", Value::S("2")}};
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.at("a").as_s(), "2");
}

TEST(ValueEquality, NumbersByValue) {
  EXPECT_EQ(Value::N(num("1.50")), Value::N(num("15E-1")));
  EXPECT_NE(Value::N(num("1.50")), Value::N(num("1.51")));
  EXPECT_NE(Value::N(num("1")), Value::S("1"));
  EXPECT_NE(Value::S("a"), Value::B("a"));
  EXPECT_NE(Value::SS({"a"}), Value::BS({"a"}));
  EXPECT_EQ(Value::Null(), Value::Null());
  EXPECT_NE(Value::Bool(true), Value::Bool(false));
}

TEST(ValueEquality, SetsAreUnordered) {
  EXPECT_EQ(Value::SS({"a", "b", "c"}), Value::SS({"c", "a", "b"}));
  EXPECT_NE(Value::SS({"a", "b", "c"}), Value::SS({"a", "b", "d"}));
  EXPECT_NE(Value::SS({"a", "b"}), Value::SS({"a", "b", "c"}));
  EXPECT_EQ(Value::BS({std::string("\0\1", 2), "x"}), Value::BS({"x", std::string("\0\1", 2)}));
  EXPECT_EQ(Value::NS({num("1.0"), num("2"), num("3e0")}), Value::NS({num("3"), num("1"), num("20e-1")}));
  EXPECT_NE(Value::NS({num("1"), num("2")}), Value::NS({num("1"), num("3")}));
  // Large sets take the sorting path.
  std::vector<std::string> a, b;
  std::vector<Number> na, nb;
  for (int i = 0; i < 100; ++i) {
    a.push_back(std::string("m").append(std::to_string(i)));
    b.push_back(std::string("m").append(std::to_string(99 - i)));
    na.push_back(Number::from_int(i));
    nb.push_back(Number::from_string(std::to_string(99 - i) + ".000"));
  }
  EXPECT_EQ(Value::SS(a), Value::SS(b));
  EXPECT_EQ(Value::NS(na), Value::NS(nb));
  b[50] = "other";
  nb[50] = Number::from_int(1000);
  EXPECT_NE(Value::SS(a), Value::SS(b));
  EXPECT_NE(Value::NS(na), Value::NS(nb));
}

TEST(ValueEquality, MapsAreUnorderedListsAreOrdered) {
  const Value m1 = Value::M({{"x", Value::S("1")}, {"y", Value::N(num("2.0"))}});
  const Value m2 = Value::M({{"y", Value::N(num("2"))}, {"x", Value::S("1")}});
  EXPECT_EQ(m1, m2);
  EXPECT_NE(m1, Value::M({{"x", Value::S("1")}}));
  EXPECT_NE(m1, Value::M({{"x", Value::S("1")}, {"z", Value::N(num("2"))}}));
  EXPECT_EQ(Value::L({Value::S("a"), Value::S("b")}), Value::L({Value::S("a"), Value::S("b")}));
  EXPECT_NE(Value::L({Value::S("a"), Value::S("b")}), Value::L({Value::S("b"), Value::S("a")}));
  EXPECT_NE(Value::L({Value::S("a")}), Value::L({Value::S("a"), Value::S("a")}));
  // Nested: a list of maps with reordered attributes and reformatted numbers.
  EXPECT_EQ(Value::L({m1, Value::SS({"p", "q"})}), Value::L({m2, Value::SS({"q", "p"})}));
  // Large maps take the sorting path.
  Map big1, big2;
  for (int i = 0; i < 50; ++i) big1.set(std::string("k").append(std::to_string(i)), Value::N(Number::from_int(i)));
  for (int i = 49; i >= 0; --i) big2.set(std::string("k").append(std::to_string(i)), Value::N(Number::from_int(i)));
  EXPECT_EQ(big1, big2);
  big2.set("k7", Value::N(Number::from_int(8)));
  EXPECT_NE(big1, big2);
}

}  // namespace
}  // namespace dynarep::model
