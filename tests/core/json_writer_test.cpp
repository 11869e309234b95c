// The project's one JSON string escaper. Its output is part of the formats: incremental-backup
// object names are the sha256 of a key's JSON and the Kinesis partition key is that JSON
// (docs/formats.md §3, §4), so these tests pin it byte for byte: a drift renames users' objects.
#include <gtest/gtest.h>

#include <string>

#include "core/json_writer.h"

namespace dynarep {
namespace {

std::string as_json(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

// What JavaScript's JSON.stringify gives for the valid part (checked against node: U+2028 and
// DEL are not escaped); invalid UTF-8, which a JavaScript string cannot hold, passes through
// byte for byte.
TEST(AppendJsonString, PinsTheEscapingOfATrickyString) {
  const std::string tricky = std::string("q\"b\\s/", 6)                      // quote, backslash, slash
                             + std::string("\x00\x01\x1f\x7f", 4)          // NUL, SOH, US, DEL
                             + "\b\f\n\r\t"                                // the named escapes
                             + "\xe2\x80\xa8\xe2\x80\xa9"                  // U+2028, U+2029
                             + "\xf0\x9f\x98\x80"                          // U+1F600, outside the BMP
                             + "\xc3\xa9"                                  // U+00E9
                             + "\xff\x80\xe2\x80\xed\xa0\x80";             // invalid UTF-8
  const std::string want = std::string(R"("q\"b\\s/\u0000\u0001\u001f)") + "\x7f" + R"(\b\f\n\r\t)" +
                           "\xe2\x80\xa8\xe2\x80\xa9\xf0\x9f\x98\x80\xc3\xa9\xff\x80\xe2\x80\xed\xa0\x80" + "\"";
  EXPECT_EQ(as_json(tricky), want);
  EXPECT_EQ(as_json(""), "\"\"");
}

// The escaper scans 16 bytes, then 8, then one at a time; each byte value at each offset of a
// long string must come out the same as the one-byte-at-a-time rule, so no path can drift.
TEST(AppendJsonString, EveryByteAtEveryOffsetFollowsTheRule) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto rule = [&](unsigned char c) -> std::string {
    if (c == '"') return "\\\"";
    if (c == '\\') return "\\\\";
    if (c == '\b') return "\\b";
    if (c == '\f') return "\\f";
    if (c == '\n') return "\\n";
    if (c == '\r') return "\\r";
    if (c == '\t') return "\\t";
    if (c < 0x20) return std::string("\\u00") + kHex[c >> 4] + kHex[c & 0xF];
    return std::string(1, static_cast<char>(c));
  };
  for (int c = 0; c < 256; ++c) {
    for (size_t at = 0; at < 40; ++at) {
      std::string s(40, 'a');
      s[at] = static_cast<char>(c);
      const std::string want =
          "\"" + std::string(at, 'a') + rule(static_cast<unsigned char>(c)) + std::string(39 - at, 'a') + "\"";
      ASSERT_EQ(as_json(s), want) << "byte " << c << " at offset " << at;
    }
  }
}

TEST(JsonWriter, UsesTheSameEscaping) {
  std::string out;
  JsonWriter(out).begin_object().field("k\n", "v\x01\xe2\x80\xa8").end_object();
  EXPECT_EQ(out, "{\"k\\n\":\"v\\u0001\xe2\x80\xa8\"}");
}

}  // namespace
}  // namespace dynarep
