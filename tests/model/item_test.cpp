#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "model/codec.h"
#include "model/item.h"

namespace dynarep::model {
namespace {

Number num(const char* text) { return Number::from_string(text); }

Item parse(std::string_view json) {
  auto r = parse_item(json);
  EXPECT_TRUE(r.ok()) << json << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : Item{};
}

// Worked examples from the rules in "DynamoDB item sizes and formats"
// (developerguide/CapacityUnitCalculations.html).
TEST(ItemSize, FollowsTheDeveloperGuideRules) {
  // id: 2 + 3; n: 1 + (ceil(5 / 2) + 1); flag: 4 + 1; l: 1 + 3 + (2 + 1).
  EXPECT_EQ(item_size(parse(R"({"id":{"S":"abc"},"n":{"N":"12345"},"flag":{"BOOL":true},"l":{"L":[{"S":"xy"}]}})")),
            22u);
  // Strings count UTF-8 bytes, names too: "é" is 2 bytes, "😀" 4.
  EXPECT_EQ(item_size(parse(R"({"é":{"S":"😀"}})")), 6u);
  // Binary counts raw bytes, not base64: 3 bytes behind "AAEC".
  EXPECT_EQ(item_size(parse(R"({"b":{"B":"AAEC"}})")), 1u + 3u);
  // Numbers: leading and trailing zeros trimmed; 1 byte per two significant digits + 1.
  EXPECT_EQ(value_size(Value::N(num("0001.2300"))), 3u);  // "123": 2 + 1
  EXPECT_EQ(value_size(Value::N(num("1"))), 2u);
  EXPECT_EQ(value_size(Value::N(num("12"))), 2u);
  EXPECT_EQ(value_size(Value::N(num("-1.5e100"))), 2u);
  EXPECT_EQ(value_size(Value::N(num("12345678901234567890123456789012345678"))), 20u);
  EXPECT_EQ(value_size(Value::N(num("0"))), 1u);
  // NULL and BOOL: 1 byte. Empty map or list: 3 bytes.
  EXPECT_EQ(item_size(parse(R"({"z":{"NULL":true},"m":{"M":{}},"l":{"L":[]}})")), 2u + 4u + 4u);
  // Map: 3 + per element (name + value + 1).
  EXPECT_EQ(value_size(Value::M({{"a", Value::S("xy")}, {"bb", Value::Bool(true)}})), 3u + (1 + 2 + 1) + (2 + 1 + 1));
  // Sets: the sum of the members.
  EXPECT_EQ(value_size(Value::SS({"ab", "cde"})), 5u);
  EXPECT_EQ(value_size(Value::NS({num("1"), num("123")})), 2u + 3u);
  EXPECT_EQ(value_size(Value::BS({"\x01", std::string("\0\0", 2)})), 3u);
}

TEST(Keys, ExtractKey) {
  const Item item = parse(R"({"name":{"S":"x"},"id":{"S":"a"},"ts":{"N":"1.50"},"b":{"B":""},"s":{"S":""}})");
  auto hash_only = extract_key(item, KeySchema{"id", Type::kS, "", Type::kS});
  ASSERT_TRUE(hash_only.ok()) << hash_only.error().message;
  EXPECT_EQ(to_json(*hash_only), R"({"id":{"S":"a"}})");

  auto both = extract_key(item, KeySchema{"id", Type::kS, "ts", Type::kN});
  ASSERT_TRUE(both.ok()) << both.error().message;
  EXPECT_EQ(to_json(*both), R"({"id":{"S":"a"},"ts":{"N":"1.50"}})");

  auto missing = extract_key(item, KeySchema{"pk", Type::kS, "", Type::kS});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(missing.error().message, R"(partition key attribute "pk" is missing from the item)");

  auto missing_range = extract_key(item, KeySchema{"id", Type::kS, "sk", Type::kS});
  ASSERT_FALSE(missing_range.ok());
  EXPECT_EQ(missing_range.error().message, R"(sort key attribute "sk" is missing from the item)");

  auto wrong = extract_key(item, KeySchema{"id", Type::kS, "ts", Type::kS});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().message, R"(sort key attribute "ts" has type N, the table's key schema says S)");

  auto empty_s = extract_key(item, KeySchema{"s", Type::kS, "", Type::kS});
  ASSERT_FALSE(empty_s.ok());
  EXPECT_EQ(empty_s.error().message, R"(partition key attribute "s" is empty (DynamoDB key values must not be empty))");
  EXPECT_FALSE(extract_key(item, KeySchema{"b", Type::kB, "", Type::kS}).ok());
  EXPECT_TRUE(KeySchema({"id", Type::kS, "ts", Type::kN}).has_range());
  EXPECT_FALSE(KeySchema({"id", Type::kS, "", Type::kN}).has_range());
}

TEST(Keys, CanonicalKeyJsonIsSortedAndKeepsNumberText) {
  Item key;
  key.set("b", Value::S("2"));
  key.set("a", Value::N(num("1.50")));
  key.set("B", Value::B("\x01"));
  key.set("é", Value::S("x"));
  key.set("aa", Value::S("y\"z"));
  EXPECT_EQ(canonical_key_json(key),
            R"({"B":{"B":"AQ=="},"a":{"N":"1.50"},"aa":{"S":"y\"z"},"b":{"S":"2"},"é":{"S":"x"}})");
  // Insertion order does not matter.
  Item other;
  other.set("é", Value::S("x"));
  other.set("aa", Value::S("y\"z"));
  other.set("B", Value::B("\x01"));
  other.set("b", Value::S("2"));
  other.set("a", Value::N(num("1.50")));
  EXPECT_EQ(canonical_key_json(other), canonical_key_json(key));
  // Number text is not normalized (documented): "1.5" is another name.
  other.set("a", Value::N(num("1.5")));
  EXPECT_NE(canonical_key_json(other), canonical_key_json(key));
  EXPECT_EQ(canonical_key_json(Item{}), "{}");
}

// Items that are equal by docs/formats.md §1 but written differently.
const std::vector<std::pair<std::string, std::string>> kEqualPairs = {
    {R"({"a":{"S":"x"},"b":{"N":"1.50"}})", R"({"b":{"N":"15E-1"},"a":{"S":"x"}})"},
    {R"({"s":{"SS":["x","y","z"]}})", R"({"s":{"SS":["z","x","y"]}})"},
    {R"({"s":{"NS":["1","2.0","-0"]}})", R"({"s":{"NS":["0","2","1.000"]}})"},
    {R"({"s":{"BS":["AQ==","Ag=="]}})", R"({"s":{"BS":["Ag==","AQ=="]}})"},
    {R"({"m":{"M":{"p":{"N":"0.15e1"},"q":{"L":[{"S":"a"},{"M":{"y":{"S":"1"},"x":{"S":"2"}}}]}}}})",
     R"({"m":{"M":{"q":{"L":[{"S":"a"},{"M":{"x":{"S":"2"},"y":{"S":"1"}}}]},"p":{"N":"1.5"}}}})"},
    {R"({})", R"({})"},
};

// Items that differ, each from the other in its pair.
const std::vector<std::pair<std::string, std::string>> kDifferentPairs = {
    {R"({"a":{"S":"x"}})", R"({"a":{"S":"y"}})"},
    {R"({"a":{"S":"1"}})", R"({"a":{"N":"1"}})"},
    {R"({"a":{"S":"AQ=="}})", R"({"a":{"B":"AQ=="}})"},
    {R"({"a":{"SS":["x"]}})", R"({"a":{"L":[{"S":"x"}]}})"},
    {R"({"l":{"L":[{"S":"a"},{"S":"b"}]}})", R"({"l":{"L":[{"S":"b"},{"S":"a"}]}})"},
    {R"({"a":{"S":"x"}})", R"({"a":{"S":"x"},"b":{"NULL":true}})"},
    {R"({"a":{"S":"x"}})", R"({"b":{"S":"x"}})"},
    {R"({"a":{"S":""}})", R"({})"},
    {R"({"a":{"N":"1"}})", R"({"a":{"N":"1.0000000000000000000000000000000000001"}})"},
    {R"({"a":{"N":"-1"}})", R"({"a":{"N":"1"}})"},
    {R"({"a":{"BOOL":true}})", R"({"a":{"BOOL":false}})"},
    {R"({"a":{"NULL":true}})", R"({"a":{"BOOL":false}})"},
    {R"({"a":{"M":{}}})", R"({"a":{"L":[]}})"},
    {R"({"m":{"M":{"x":{"S":"1"}}}})", R"({"m":{"M":{"x":{"S":"2"}}}})"},
    {R"({"s":{"SS":["a","b"]}})", R"({"s":{"SS":["ab"]}})"},
    {R"({"ab":{"S":"c"}})", R"({"a":{"S":"bc"}})"},
    {R"({"l":{"L":[{"S":"a"}]}})", R"({"l":{"L":[{"S":"a"},{"S":"a"}]}})"},
};

TEST(Canonical, EqualItemsHaveEqualBytesAndHashes) {
  for (const auto& [a_json, b_json] : kEqualPairs) {
    const Item a = parse(a_json);
    const Item b = parse(b_json);
    EXPECT_EQ(a, b) << a_json << " vs " << b_json;
    EXPECT_EQ(canonical_bytes(a), canonical_bytes(b)) << a_json << " vs " << b_json;
    EXPECT_EQ(item_hash(a), item_hash(b)) << a_json << " vs " << b_json;
    EXPECT_EQ(key_hash(a), key_hash(b)) << a_json << " vs " << b_json;
  }
}

TEST(Canonical, DifferentItemsHaveDifferentBytesAndHashes) {
  for (const auto& [a_json, b_json] : kDifferentPairs) {
    const Item a = parse(a_json);
    const Item b = parse(b_json);
    EXPECT_NE(a, b) << a_json << " vs " << b_json;
    EXPECT_NE(canonical_bytes(a), canonical_bytes(b)) << a_json << " vs " << b_json;
    EXPECT_NE(item_hash(a), item_hash(b)) << a_json << " vs " << b_json;
  }
}

TEST(Canonical, BytesEqualExactlyWhenItemsEqual) {
  // Every pair drawn from all the items above: operator== and canonical bytes agree.
  std::vector<Item> items;
  for (const auto* pairs : {&kEqualPairs, &kDifferentPairs}) {
    for (const auto& [a, b] : *pairs) {
      items.push_back(parse(a));
      items.push_back(parse(b));
    }
  }
  for (const Item& a : items) {
    for (const Item& b : items) {
      EXPECT_EQ(a == b, canonical_bytes(a) == canonical_bytes(b)) << to_json(a) << " vs " << to_json(b);
    }
  }
}

TEST(Canonical, HashesSpreadAndSeedsDiffer) {
  std::set<uint64_t> seen;
  for (int i = 0; i < 20000; ++i) {
    Item item;
    item.set("id", Value::N(Number::from_int(i)));
    EXPECT_TRUE(seen.insert(item_hash(item)).second) << i;
    EXPECT_NE(item_hash(item), key_hash(item));
  }
  // hash_bytes: every length 0..64 and every single-bit change gives a new value.
  std::set<uint64_t> lengths;
  std::string s;
  for (int n = 0; n <= 64; ++n) {
    EXPECT_TRUE(lengths.insert(hash_bytes(s)).second) << n;
    s += 'a';
  }
  const std::string base(40, '\0');
  std::set<uint64_t> flips{hash_bytes(base)};
  for (size_t bit = 0; bit < base.size() * 8; ++bit) {
    std::string t = base;
    t[bit / 8] = static_cast<char>(t[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_TRUE(flips.insert(hash_bytes(t)).second) << bit;
  }
  EXPECT_NE(hash_bytes("abc", 1), hash_bytes("abc", 2));
}

TEST(Validate, ItemsBuiltInCode) {
  Item ok;
  ok.set("s", Value::SS({"a", "b"}));
  ok.set("n", Value::NS({num("1"), num("2")}));
  EXPECT_TRUE(validate_item(ok).ok());

  Item empty_set;
  empty_set.set("m", Value::M({{"tags", Value::SS({})}}));
  auto e = validate_item(empty_set);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message, R"(attribute "m.tags": string set is empty (DynamoDB rejects empty sets))");

  Item dup_numbers;
  dup_numbers.set("l", Value::L({Value::NS({num("1"), num("1.0")})}));
  auto d = validate_item(dup_numbers);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().message, R"(attribute "l[0]": number set has duplicate members (numbers compare by value))");

  Item dup_bytes;
  dup_bytes.set("b", Value::BS({"x", "x"}));
  EXPECT_FALSE(validate_item(dup_bytes).ok());
}

// The one key-schema comparison and printer (diff, restore and replicate all use them).
TEST(KeySchemaTest, ComparesNamesAndTypesAndIgnoresTheUnusedRangeType) {
  const KeySchema simple{"id", Type::kS, "", Type::kS};
  KeySchema simple_other_unused_range_type = simple;
  simple_other_unused_range_type.range_type = Type::kN;  // no range key: not part of the key
  const KeySchema composite{"id", Type::kS, "sk", Type::kN};
  EXPECT_TRUE(same_key_schema(simple, simple_other_unused_range_type));
  EXPECT_TRUE(same_key_schema(composite, composite));
  EXPECT_FALSE(same_key_schema(simple, composite));
  EXPECT_FALSE(same_key_schema(composite, simple));
  EXPECT_FALSE(same_key_schema(simple, KeySchema{"id", Type::kN, "", Type::kS}));
  EXPECT_FALSE(same_key_schema(simple, KeySchema{"pk", Type::kS, "", Type::kS}));
  EXPECT_FALSE(same_key_schema(composite, KeySchema{"id", Type::kS, "sk", Type::kS}));
  EXPECT_FALSE(same_key_schema(composite, KeySchema{"id", Type::kS, "other", Type::kN}));
  EXPECT_EQ(describe_key_schema(simple), "id (S)");
  EXPECT_EQ(describe_key_schema(composite), "id (S), sk (N)");
}

}  // namespace
}  // namespace dynarep::model
