// DynamoDB JSON ("wire format", docs/formats.md §1) and plain JSON for keys typed by people.
//
// Wire: {"id":{"S":"a"},"n":{"N":"1.50"},"b":{"B":"<base64>"},"ss":{"SS":["x"]},...}.
// Parsing validates what DynamoDB validates and names the attribute path in every error:
//   attribute "m.l[3].x": number "1e999": exponent out of range (...)
//   attribute "tags": string set has duplicate member "a"
//   attribute "x": unknown type tag "Q"
//   malformed JSON at byte 17: ...
// Checked: one type tag per value, known tags, the JSON type each tag needs ({"N":1} is an
// error: DynamoDB requires a string), numbers (see Number), canonical padded base64, non-empty
// sets without duplicates (numbers compared by value), NULL only `true`, unique attribute names,
// nesting at most 32 levels (a top-level attribute's value is level 1, so 31 map or list wraps
// around a scalar are the most: DynamoDB's documented limit, "up to 32 levels deep",
// developerguide/Constraints.html#limits-attributes, with the boundary as DynamoDB enforces it).
// Empty strings and empty binary values are accepted: DynamoDB allows them outside keys.
//
// Writing is lossless: numbers exactly as their text, binary as padded standard base64,
// attributes in the map's order, strings escaped as JavaScript's JSON.stringify does. Strings
// are written byte for byte: parsed ones are valid UTF-8 (the parser checks), strings built in
// code must be too, or the line will not parse back.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "model/value.h"

// simdjson.h is 30,000 lines of templates: declared here, included by the .cpp files that use it.
namespace simdjson::dom {
class element;
class parser;
}  // namespace simdjson::dom

namespace dynarep::model {

// DynamoDB's nesting limit; a top-level attribute's value is level 1.
inline constexpr int kMaxNestingLevels = 32;

// One item: a line of the line format (surrounding whitespace and the newline are fine).
// Uses a parser kept per thread.
Result<Item> parse_item(std::string_view json);
// For documents already parsed (GetItem/Scan responses, stream records): `element` must be
// the item object itself (e.g. the value of "Item" or "NewImage").
Result<Item> parse_item(simdjson::dom::element element);
// One attribute value object such as {"S":"a"}; it counts as a top-level attribute (level 1).
Result<Value> parse_value(simdjson::dom::element element);

// The fast path for reading millions of lines: keeps one simdjson parser and its buffers.
// Not thread-safe; keep one per thread.
class ItemParser {
 public:
  ItemParser();
  ~ItemParser();
  ItemParser(ItemParser&&) noexcept;
  ItemParser& operator=(ItemParser&&) noexcept;
  Result<Item> parse(std::string_view line);
  // Parses into `*out` (cleared first), reusing its storage where it can.
  Status parse_into(std::string_view line, Item* out);

 private:
  std::unique_ptr<simdjson::dom::parser> parser_;
};

// Compact wire JSON.
void append_item_json(std::string& out, const Item& item);
void append_value_json(std::string& out, const Value& value);
std::string to_json(const Item& item);
std::string to_json(const Value& value);

// Plain JSON, as `dyno` users type keys: {"id":"a","n":1.50,"ok":true,"x":null,"l":[1,"a"],
// "m":{"k":"v"}} -> S, N (the number token exactly as written, never through a double),
// BOOL, NULL, L, M. Arrays become lists, never sets; there is no way to write binary.
Result<Item> item_from_plain_json(std::string_view json);

// A key given on a command line, wire or plain: wire when every top-level value is an object
// with exactly one member whose name is a type tag ({"id":{"S":"a"}}), plain otherwise. An
// empty object is an empty item either way.
Result<Item> parse_key_arg(std::string_view json);

}  // namespace dynarep::model
