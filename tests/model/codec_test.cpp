#include <simdjson.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/codec.h"
#include "crypto/base64.h"
#include "model/item.h"

namespace dynarep::model {
namespace {

Number num(const char* text) { return Number::from_string(text); }

// The error message of a parse that must fail.
std::string parse_error(std::string_view json) {
  auto r = parse_item(json);
  if (r.ok()) return "<parsed: " + to_json(*r) + ">";
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput) << r.error().message;
  return r.error().message;
}

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

#define EXPECT_STARTS_WITH(s, prefix)                                                        \
  do {                                                                                        \
    const std::string s_ = (s);                                                               \
    EXPECT_TRUE(starts_with(s_, prefix)) << "message: " << s_ << "\nwanted prefix: " << prefix; \
  } while (0)
#define EXPECT_CONTAINS(s, part)                                                                  \
  do {                                                                                             \
    const std::string s_ = (s);                                                                    \
    EXPECT_NE(s_.find(part), std::string::npos) << "message: " << s_ << "\nwanted to contain: " << part; \
  } while (0)

constexpr std::string_view kAllTypes =
    R"({"id":{"S":"a"},"n":{"N":"1.50"},"b":{"B":"AAEC/w=="},"ss":{"SS":["x","y"]},)"
    R"("ns":{"NS":["1","2.5"]},"bs":{"BS":["AQ==","Ag=="]},)"
    R"("m":{"M":{"k":{"S":"v"},"in":{"L":[{"N":"3"}]}}},)"
    R"("l":{"L":[{"S":"a"},{"NULL":true},{"BOOL":false}]},"z":{"NULL":true},"t":{"BOOL":true}})";

TEST(Codec, ParsesAllTenTypes) {
  auto r = parse_item(kAllTypes);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Item& item = *r;
  ASSERT_EQ(item.size(), 10u);
  EXPECT_EQ(item.at("id").as_s(), "a");
  EXPECT_EQ(item.at("n").as_n().text(), "1.50");
  EXPECT_EQ(item.at("b").as_b(), std::string("\x00\x01\x02\xff", 4));
  EXPECT_EQ(item.at("ss").as_ss(), (std::vector<std::string>{"x", "y"}));
  ASSERT_EQ(item.at("ns").as_ns().size(), 2u);
  EXPECT_EQ(item.at("ns").as_ns()[1].text(), "2.5");
  EXPECT_EQ(item.at("bs").as_bs(), (std::vector<std::string>{"\x01", "\x02"}));
  const Map& m = item.at("m").as_m();
  EXPECT_EQ(m.at("k").as_s(), "v");
  EXPECT_EQ(m.at("in").as_l().at(0).as_n().text(), "3");
  const auto& l = item.at("l").as_l();
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0].as_s(), "a");
  EXPECT_TRUE(l[1].is_null());
  EXPECT_FALSE(l[2].as_bool());
  EXPECT_TRUE(item.at("z").is_null());
  EXPECT_TRUE(item.at("t").as_bool());
  // Attributes keep their order.
  std::vector<std::string> names;
  for (const auto& [name, v] : item) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"id", "n", "b", "ss", "ns", "bs", "m", "l", "z", "t"}));
}

TEST(Codec, RoundTripIsByteExact) {
  auto r = parse_item(kAllTypes);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(to_json(*r), kAllTypes);
  // Built in code, written, read back: equal.
  Item built;
  built.set("big", Value::N(num("12345678901234567890123")));
  built.set("tiny", Value::N(num("-1.000E-130")));
  built.set("bin", Value::B(std::string("\0\xff\x10", 3)));
  built.set("empty_s", Value::S(""));
  built.set("empty_b", Value::B(""));
  built.set("empty_m", Value::M({}));
  built.set("empty_l", Value::L({}));
  const std::string line = to_json(built);
  EXPECT_EQ(line,
            R"({"big":{"N":"12345678901234567890123"},"tiny":{"N":"-1.000E-130"},"bin":{"B":"AP8Q"},)"
            R"("empty_s":{"S":""},"empty_b":{"B":""},"empty_m":{"M":{}},"empty_l":{"L":[]}})");
  auto back = parse_item(line);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, built);
  EXPECT_EQ(back->at("big").as_n().text(), "12345678901234567890123");
  EXPECT_EQ(to_json(*back), line);
}

TEST(Codec, SurroundingWhitespaceAndNewlineAreFine) {
  auto r = parse_item("  {\"id\" : {\"S\" : \"a\"}}\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(to_json(*r), R"({"id":{"S":"a"}})");
  auto empty = parse_item("{}\r\n");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(Codec, ErrorNamesTheNestedPath) {
  EXPECT_STARTS_WITH(
      parse_error(R"({"m":{"M":{"l":{"L":[{"S":"a"},{"S":"b"},{"S":"c"},{"M":{"x":{"N":"1e999"}}}]}}}})"),
      R"(attribute "m.l[3].x": number "1e999": exponent out of range)");
  EXPECT_STARTS_WITH(parse_error(R"({"a":{"L":[{"L":[{"S":"x"},{"N":"abc"}]}]}})"),
                     R"(attribute "a[0][1]": number "abc": not a number)");
  EXPECT_STARTS_WITH(parse_error(R"({"n":{"N":"123456789012345678901234567890123456789"}})"),
                     R"(attribute "n": number "123456789012345678901234567890123456789": more than 38 significant digits)");
}

TEST(Codec, SetErrors) {
  EXPECT_EQ(parse_error(R"({"tags":{"SS":["a","b","a"]}})"), R"(attribute "tags": string set has duplicate member "a")");
  EXPECT_STARTS_WITH(parse_error(R"({"ns":{"NS":["1","2","1.0"]}})"),
                     R"(attribute "ns": number set has duplicate member "1.0")");
  EXPECT_EQ(parse_error(R"({"bs":{"BS":["AQ==","Ag==","AQ=="]}})"),
            R"(attribute "bs": binary set has duplicate member "AQ==")");
  // The sorting path (more than a handful of members).
  EXPECT_EQ(parse_error(R"({"s":{"SS":["a","b","c","d","e","f","g","h","i","j","e"]}})"),
            R"(attribute "s": string set has duplicate member "e")");
  for (const char* tag : {"SS", "NS", "BS"}) {
    EXPECT_CONTAINS(parse_error(std::string(R"({"s":{")") + tag + R"(":[]}})"), "is empty");
  }
  EXPECT_STARTS_WITH(parse_error(R"({"s":{"SS":"a"}})"), R"(attribute "s": SS must be an array, got string)");
  EXPECT_STARTS_WITH(parse_error(R"({"s":{"SS":["a",1]}})"),
                     R"(attribute "s": string set member 1 must be a string, got number)");
  EXPECT_STARTS_WITH(parse_error(R"({"s":{"NS":["1","x"]}})"), R"(attribute "s": number "x": not a number)");
  EXPECT_STARTS_WITH(parse_error(R"({"s":{"BS":["AQ==","A"]}})"),
                     R"(attribute "s": binary set member 1 is not valid base64)");
  // Different members are fine, including ones equal only after base64 decoding? (no: bytes differ)
  EXPECT_TRUE(parse_item(R"({"s":{"NS":["1","1.01","-1"]},"t":{"SS":["a","A"," a"]}})").ok());
}

TEST(Codec, DuplicatesAmongManyLongNamesSharingASignature) {
  // Same length, same first and last 8 bytes: only the middle differs.
  auto name = [](int i) {
    std::string mid = std::to_string(i);
    return "prefix__" + std::string(6 - mid.size(), '0') + mid + "__suffix";
  };
  std::string line = "{";
  for (int i = 0; i < 5000; ++i) {
    if (i > 0) line += ',';
    line += '"' + name(i) + R"(":{"N":")" + std::to_string(i) + R"("})";
  }
  auto ok = parse_item(line + "}");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->size(), 5000u);
  const std::string dup = line + ",\"" + name(1234) + R"(":{"N":"1"}})";
  EXPECT_EQ(parse_error(dup), R"(attribute "prefix__001234__suffix": attribute name appears more than once)");
  // A string set the same way.
  std::string set = R"({"s":{"SS":[)";
  for (int i = 0; i < 100; ++i) set += (i > 0 ? ",\"" : "\"") + name(i) + '"';
  EXPECT_TRUE(parse_item(set + "]}}").ok());
  EXPECT_EQ(parse_error(set + ",\"" + name(7) + "\"]}}"), R"(attribute "s": string set has duplicate member "prefix__000007__suffix")");
}

TEST(Codec, TagErrors) {
  EXPECT_EQ(parse_error(R"({"x":{"Q":"1"}})"), R"(attribute "x": unknown type tag "Q")");
  EXPECT_EQ(parse_error(R"({"x":{"s":"1"}})"), R"(attribute "x": unknown type tag "s")");
  EXPECT_STARTS_WITH(parse_error(R"({"x":{"S":"a","N":"1"}})"), R"(attribute "x": more than one type tag ("S", "N"))");
  EXPECT_STARTS_WITH(parse_error(R"({"x":{}})"), R"(attribute "x": empty attribute value)");
  EXPECT_STARTS_WITH(parse_error(R"({"x":"plain"})"), R"(attribute "x": expected an attribute value object)");
  EXPECT_EQ(parse_error(R"({"n":{"N":1}})"), R"(attribute "n": N must be a string, got number)");
  EXPECT_EQ(parse_error(R"({"s":{"S":true}})"), R"(attribute "s": S must be a string, got boolean)");
  EXPECT_EQ(parse_error(R"({"b":{"B":null}})"), R"(attribute "b": B must be a string, got null)");
  EXPECT_EQ(parse_error(R"({"m":{"M":[]}})"), R"(attribute "m": M must be an object, got array)");
  EXPECT_EQ(parse_error(R"({"l":{"L":{}}})"), R"(attribute "l": L must be an array, got object)");
  EXPECT_EQ(parse_error(R"({"t":{"BOOL":"true"}})"), R"(attribute "t": BOOL must be true or false, got string)");
  EXPECT_EQ(parse_error(R"({"z":{"NULL":false}})"), R"(attribute "z": NULL must be true, got false)");
  EXPECT_EQ(parse_error(R"({"z":{"NULL":"true"}})"), R"(attribute "z": NULL must be true, got string)");
  EXPECT_EQ(parse_error(R"({"a":{"S":"x"},"a":{"S":"y"}})"), R"(attribute "a": attribute name appears more than once)");
  EXPECT_EQ(parse_error(R"({"m":{"M":{"k":{"S":"x"},"k":{"S":"y"}}}})"),
            R"(attribute "m.k": attribute name appears more than once)");
  EXPECT_EQ(parse_error("[1]"), "item must be a JSON object, got array");
  EXPECT_EQ(parse_error("\"x\""), "item must be a JSON object, got string");
}

TEST(Codec, MalformedJsonNamesTheByte) {
  EXPECT_STARTS_WITH(parse_error(R"({"id":{"S":"a"},,})"), "malformed JSON at byte 16: expected a member name");
  EXPECT_STARTS_WITH(parse_error(R"({"id":{"S":"a"})"), "malformed JSON at byte 15: unexpected end of input");
  EXPECT_STARTS_WITH(parse_error(""), "malformed JSON at byte 0: empty input");
  EXPECT_STARTS_WITH(parse_error("{\"id\":{\"S\":\"a\x01\"}}"), "malformed JSON at byte 13: unescaped control character");
  EXPECT_STARTS_WITH(parse_error("{\"id\":{\"S\":\"\xff\"}}"), "malformed JSON at byte 12: invalid UTF-8");
  EXPECT_STARTS_WITH(parse_error(R"({"id":{"S":"a"}} x)"), "malformed JSON at byte 17: unexpected data");
  EXPECT_STARTS_WITH(parse_error(R"({"id":{"S":"\q"}})"), "malformed JSON at byte 12: invalid escape");
  // Valid JSON that simdjson cannot hold: still located.
  EXPECT_STARTS_WITH(parse_error(R"({"a":{"N":1e999}})"), R"(malformed JSON at byte 10: bare number "1e999" out of range)");
  EXPECT_STARTS_WITH(parse_error(R"({"x":{"S":"1"},"a":{"N":123456789012345678901234567890}})"),
                     "malformed JSON at byte 24: bare number");
}

// A tiny deterministic generator for property tests.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed | 1) {}
  uint64_t next() {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 0x2545F4914F6CDD1DULL;
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
  std::string text(size_t max_len) {
    static const std::vector<std::string> kPieces = {"a", "Z", "0", " ", "\"", "\\", "\n", "\x01", "\x1f", "é", "😀", "/", "\x7f"};
    std::string s;
    for (size_t i = 0, n = below(max_len + 1); i < n; ++i) s += kPieces[below(kPieces.size())];
    return s;
  }
  std::string bytes(size_t max_len) {
    std::string s(below(max_len + 1), '\0');
    for (auto& c : s) c = static_cast<char>(next());
    return s;
  }
  Number number() {
    std::string s;
    if (below(3) == 0) s += '-';
    s += std::to_string(next() % 1000000007);
    if (below(2) == 0) s.append(".").append(std::to_string(below(1000)));
    if (below(4) == 0) s.append("e").append(std::to_string(static_cast<int>(below(100)) - 50));
    return Number::from_string(s);
  }
  Value value(int level) {
    switch (below(level >= 5 ? 6 : 10)) {
      case 0: return Value::S(text(12));
      case 1: return Value::N(number());
      case 2: return Value::B(bytes(12));
      case 3: return Value::Null();
      case 4: return Value::Bool(below(2) == 0);
      case 5: {
        std::vector<std::string> m;
        for (size_t i = 0, n = 1 + below(4); i < n; ++i) m.push_back(text(6) + std::to_string(i));
        return Value::SS(m);
      }
      case 6: {
        std::vector<Number> m;
        for (size_t i = 0, n = 1 + below(4); i < n; ++i) m.push_back(Number::from_string(std::to_string(i) + "." + std::to_string(below(99) + 1)));
        return Value::NS(m);
      }
      case 7: {
        std::vector<std::string> m;
        for (size_t i = 0, n = 1 + below(4); i < n; ++i) m.push_back(bytes(5) + static_cast<char>(i));
        return Value::BS(m);
      }
      case 8: {
        Map m;
        for (size_t i = 0, n = below(5); i < n; ++i) m.set(text(4) + std::to_string(i), value(level + 1));
        return Value::M(m);
      }
      default: {
        std::vector<Value> l;
        for (size_t i = 0, n = below(5); i < n; ++i) l.push_back(value(level + 1));
        return Value::L(l);
      }
    }
  }
  Item item() {
    Item it;
    for (size_t i = 0, n = below(12); i < n; ++i) it.set(text(6) + std::to_string(i), value(1));
    return it;
  }

 private:
  uint64_t s_;
};

TEST(Codec, RandomItemsRoundTrip) {
  Rng rng(42);
  ItemParser parser;
  for (int i = 0; i < 2000; ++i) {
    const Item item = rng.item();
    ASSERT_TRUE(validate_item(item).ok()) << to_json(item);
    const std::string line = to_json(item);
    auto back = parser.parse(line);
    ASSERT_TRUE(back.ok()) << line << ": " << back.error().message;
    ASSERT_EQ(*back, item) << line;
    ASSERT_EQ(to_json(*back), line);
    ASSERT_EQ(canonical_bytes(*back), canonical_bytes(item));
  }
}

TEST(Codec, CorruptedLinesNeverCrash) {
  // Mutations of a valid line either fail with an error or parse to something that round-trips.
  Rng rng(7);
  const std::string base(kAllTypes);
  static const char kBytes[] = "{}[]\",:\\0123456789eE+-.SNBMLULnulltruefalse \x01\xff";
  for (int i = 0; i < 5000; ++i) {
    std::string line = base;
    for (size_t k = 0, n = 1 + rng.below(3); k < n; ++k) {
      const size_t at = rng.below(line.size());
      switch (rng.below(3)) {
        case 0: line[at] = kBytes[rng.below(sizeof kBytes - 1)]; break;
        case 1: line.erase(at, 1 + rng.below(4)); break;
        default: line.insert(at, 1, kBytes[rng.below(sizeof kBytes - 1)]); break;
      }
    }
    auto r = parse_item(line);
    if (!r.ok()) {
      EXPECT_FALSE(r.error().message.empty());
      continue;
    }
    auto again = parse_item(to_json(*r));
    ASSERT_TRUE(again.ok()) << line;
    EXPECT_EQ(*again, *r);
  }
}

// An item whose attribute "a" holds a value at nesting level `levels` (a top-level attribute's
// value is level 1), made of list and map wraps around a string.
std::string nested(int levels) {
  std::string open, close;
  for (int i = 1; i < levels; ++i) open += (i % 2 == 1) ? R"({"L":[)" : R"({"M":{"k":)";
  for (int i = levels - 1; i >= 1; --i) close += (i % 2 == 1) ? "]}" : "}}";
  return R"({"a":)" + open + R"({"S":"x"})" + close + "}";
}

TEST(Codec, NestingUpTo32LevelsIsAccepted) {
  auto ok = parse_item(nested(32));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(to_json(*ok), nested(32));
  EXPECT_TRUE(validate_item(*ok).ok());
  const std::string msg = parse_error(nested(33));
  EXPECT_CONTAINS(msg, "nesting deeper than 32 levels");
  EXPECT_STARTS_WITH(msg, R"(attribute "a[0].k[0].k)");
  // The same limit for values built in code.
  Value v = Value::S("x");
  for (int i = 1; i < 33; ++i) v = Value::L({v});
  Item deep;
  deep.set("a", v);
  EXPECT_FALSE(validate_item(deep).ok());
  deep.set("a", v.as_l()[0]);
  EXPECT_TRUE(validate_item(deep).ok());
}

TEST(Codec, JsonEscaping) {
  Item item;
  const std::string tricky = std::string("a\"b\\c/\n\t\r\b\f") + std::string("\x00\x01\x1f\x7f", 4) + "é😀";
  item.set("s", Value::S(tricky));
  item.set("quo\"te", Value::SS({"\x02", "\\"}));
  const std::string line = to_json(item);
  EXPECT_EQ(line, std::string(R"({"s":{"S":"a\"b\\c/\n\t\r\b\f\u0000\u0001\u001f)") + "\x7f" + "é😀" +
                      R"("},"quo\"te":{"SS":["\u0002","\\"]}})");
  auto back = parse_item(line);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->at("s").as_s(), tricky);
  EXPECT_EQ(*back, item);
  // Escapes in the input, surrogate pairs included, come out as UTF-8.
  auto esc = parse_item(R"({"s":{"S":"\u00e9\ud83d\ude00\/\u0041"}})");
  ASSERT_TRUE(esc.ok()) << esc.error().message;
  EXPECT_EQ(esc->at("s").as_s(), "é😀/A");
  // Long strings take the 8-bytes-at-a-time path: an escape at every position of a block.
  for (size_t at = 0; at < 20; ++at) {
    std::string s(20, 'x');
    s[at] = '"';
    Item one;
    one.set("k", Value::S(s));
    std::string want = s;
    want.replace(at, 1, "\\\"");
    EXPECT_EQ(to_json(one), R"({"k":{"S":")" + want + R"("}})");
  }
}

TEST(Codec, Base64EdgeCases) {
  // RFC 4648 §10 test vectors.
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [raw, b64] : vectors) {
    Item item;
    item.set("b", Value::B(raw));
    EXPECT_EQ(to_json(item), R"({"b":{"B":")" + b64 + R"("}})");
    auto back = parse_item(R"({"b":{"B":")" + b64 + R"("}})");
    ASSERT_TRUE(back.ok()) << b64 << ": " << back.error().message;
    EXPECT_EQ(back->at("b").as_b(), raw);
  }
  // Every byte value and every length remainder survive.
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t len : {size_t{254}, size_t{255}, size_t{256}}) {
    Item item;
    item.set("b", Value::B(all.substr(0, len)));
    auto back = parse_item(to_json(item));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->at("b").as_b(), all.substr(0, len));
  }
  struct Bad {
    const char* text;
    const char* why;
  };
  for (const Bad& bad : {Bad{"Zg=", "multiple of 4"}, Bad{"Zg", "multiple of 4"}, Bad{"Z===", "padding"},
                         Bad{"=Zg=", "padding"}, Bad{"Zm9vYg==Zm9v", "padding"}, Bad{"Zm9v Yg=", "alphabet"},
                         Bad{"Zm9v\\nYg=", "alphabet"}, Bad{"Zm-_", "alphabet"}, Bad{"Zh==", "not canonical"},
                         Bad{"Zm9=", "not canonical"}}) {
    const std::string msg = parse_error(std::string(R"({"b":{"B":")") + bad.text + R"("}})");
    EXPECT_STARTS_WITH(msg, R"(attribute "b": binary value is not valid base64)");
    EXPECT_CONTAINS(msg, bad.why);
  }
  std::string out;
  size_t where = 0;
  EXPECT_EQ(crypto::base64_decode("Zm9vYmE*", &out, &where), crypto::Base64Error::kCharacter);
  EXPECT_EQ(where, 7u);
}

TEST(Codec, ItemParserIsReusable) {
  ItemParser parser;
  for (int i = 0; i < 100; ++i) {
    const std::string line = R"({"id":{"N":")" + std::to_string(i) + R"("},"pad":{"S":")" + std::string(i * 10, 'p') + R"("}})";
    auto r = parser.parse(line);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->at("id").as_n().text(), std::to_string(i));
    EXPECT_EQ(r->at("pad").as_s().size(), static_cast<size_t>(i * 10));
    if (i % 10 == 0) {
      EXPECT_FALSE(parser.parse(R"({"id":{"N":"x"}})").ok());
    }
  }
  Item reused;
  ASSERT_TRUE(parser.parse_into(R"({"a":{"S":"1"},"b":{"S":"2"}})", &reused).ok());
  ASSERT_TRUE(parser.parse_into(R"({"c":{"S":"3"}})", &reused).ok());
  EXPECT_EQ(reused.size(), 1u);
  EXPECT_EQ(reused.at("c").as_s(), "3");
}

TEST(Codec, ParsesElementsOfLargerDocuments) {
  simdjson::dom::parser p;
  const std::string response =
      R"({"Item":{"id":{"S":"a"},"n":{"N":"7"}},"ConsumedCapacity":{"CapacityUnits":0.5},"Bad":{"x":{"Q":1}}})";
  simdjson::dom::element doc;
  ASSERT_EQ(p.parse(response).get(doc), simdjson::SUCCESS);
  auto item = parse_item(doc["Item"].value_unsafe());
  ASSERT_TRUE(item.ok()) << item.error().message;
  EXPECT_EQ(item->at("n").as_n().text(), "7");
  auto value = parse_value(doc["Item"]["id"].value_unsafe());
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, Value::S("a"));
  auto bad = parse_item(doc["Bad"].value_unsafe());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, R"(attribute "x": unknown type tag "Q")");
  auto bad_value = parse_value(doc["ConsumedCapacity"].value_unsafe());
  ASSERT_FALSE(bad_value.ok());
  EXPECT_EQ(bad_value.error().message, R"(value: unknown type tag "CapacityUnits")");
}

TEST(PlainJson, ItemFromPlainJson) {
  auto r = item_from_plain_json(R"({"id":"a","n":1.50,"ok":true,"x":null,"l":[1,"a"],"m":{"k":"v"},"big":12345678901234567890123})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->at("id"), Value::S("a"));
  EXPECT_EQ(r->at("n").as_n().text(), "1.50");
  EXPECT_EQ(r->at("ok"), Value::Bool(true));
  EXPECT_TRUE(r->at("x").is_null());
  EXPECT_EQ(r->at("l"), Value::L({Value::N(num("1")), Value::S("a")}));
  EXPECT_EQ(r->at("m"), Value::M({{"k", Value::S("v")}}));
  EXPECT_EQ(r->at("big").as_n().text(), "12345678901234567890123");
  EXPECT_EQ(to_json(*r),
            R"({"id":{"S":"a"},"n":{"N":"1.50"},"ok":{"BOOL":true},"x":{"NULL":true},)"
            R"("l":{"L":[{"N":"1"},{"S":"a"}]},"m":{"M":{"k":{"S":"v"}}},"big":{"N":"12345678901234567890123"}})");
}

TEST(PlainJson, Errors) {
  auto bad_number = item_from_plain_json(R"({"m":{"l":[0,1e999]}})");
  ASSERT_FALSE(bad_number.ok());
  EXPECT_STARTS_WITH(bad_number.error().message, R"(attribute "m.l[1]": number "1e999": exponent out of range)");
  auto not_object = item_from_plain_json("[1,2]");
  ASSERT_FALSE(not_object.ok());
  EXPECT_EQ(not_object.error().message, "item must be a JSON object, got array");
  auto malformed = item_from_plain_json(R"({"id": 01})");
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().message, "malformed JSON at byte 8: leading zero in a number");
  auto dup = item_from_plain_json(R"({"id":1,"id":2})");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().message, R"(attribute "id": attribute name appears more than once)");
  auto surrogate = item_from_plain_json(R"({"id":"\ud800x"})");
  ASSERT_FALSE(surrogate.ok());
  EXPECT_STARTS_WITH(surrogate.error().message, "malformed JSON at byte 7: lone UTF-16 surrogate");
}

TEST(PlainJson, ParseKeyArgAcceptsBothForms) {
  auto wire = parse_key_arg(R"({"id":{"S":"a"},"n":{"N":"1.50"}})");
  ASSERT_TRUE(wire.ok()) << wire.error().message;
  EXPECT_EQ(wire->at("id"), Value::S("a"));
  EXPECT_EQ(wire->at("n").as_n().text(), "1.50");

  auto plain = parse_key_arg(R"({"id":"a","n":1.50})");
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(*plain, *wire);
  EXPECT_EQ(plain->at("n").as_n().text(), "1.50");

  // One plain value makes the whole argument plain: "id" is then a map with an attribute "S".
  auto mixed = parse_key_arg(R"({"id":{"S":"a"},"n":1})");
  ASSERT_TRUE(mixed.ok()) << mixed.error().message;
  EXPECT_EQ(mixed->at("id"), Value::M({{"S", Value::S("a")}}));

  // An object with one member that is not a type tag is plain.
  auto nested = parse_key_arg(R"({"id":{"name":"a"}})");
  ASSERT_TRUE(nested.ok());
  EXPECT_EQ(nested->at("id").type(), Type::kM);

  auto empty = parse_key_arg("{}");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());

  // Wire-looking but invalid: the wire error, with its path.
  auto bad_wire = parse_key_arg(R"({"n":{"N":"x"}})");
  ASSERT_FALSE(bad_wire.ok());
  EXPECT_EQ(bad_wire.error().message, R"(attribute "n": number "x": not a number)");
  auto not_object = parse_key_arg(R"("a")");
  ASSERT_FALSE(not_object.ok());
  EXPECT_EQ(not_object.error().message, "key must be a JSON object, got string");
}

TEST(Codec, ItemOf400KB) {
  Item item;
  item.set("id", Value::S("big"));
  item.set("payload", Value::S(std::string(kMaxItemSize - 100, 'x')));
  item.set("bin", Value::B(std::string(50, '\xab')));
  item.set("n", Value::N(num("1")));
  const size_t size = item_size(item);
  EXPECT_EQ(size, 2 + 3 + 7 + (kMaxItemSize - 100) + 3 + 50 + 1 + 2);
  EXPECT_LE(size, kMaxItemSize);
  EXPECT_TRUE(validate_item(item).ok());
  const std::string line = to_json(item);
  EXPECT_GT(line.size(), kMaxItemSize - 100);
  auto back = parse_item(line + "\n");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, item);
  EXPECT_EQ(item_hash(*back), item_hash(item));
  item.set("more", Value::S(std::string(200, 'y')));
  auto too_big = validate_item(item);
  ASSERT_FALSE(too_big.ok());
  EXPECT_CONTAINS(too_big.error().message, "exceeds DynamoDB's limit of 409600 bytes");
}

}  // namespace
}  // namespace dynarep::model
