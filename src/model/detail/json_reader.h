// A small, strict RFC 8259 JSON reader producing a tree that keeps each number's token text.
// Not the fast path (simdjson is): it serves plain-JSON keys, where a number must stay exactly
// as typed, and it locates syntax errors (byte offset and reason) that simdjson only reports
// by kind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dynarep::model::detail {

struct JsonNode {
  enum class Kind : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };
  JsonNode();  // defined below the struct: clang needs JsonNode complete for the pair member

  Kind kind = Kind::kNull;
  bool boolean = false;
  std::string text;  // kString: the unescaped UTF-8; kNumber: the token exactly as written
  std::vector<JsonNode> elements;                        // kArray
  std::vector<std::pair<std::string, JsonNode>> members;  // kObject, in document order
  size_t offset = 0;  // where the value starts in the input
};
inline JsonNode::JsonNode() = default;

const char* kind_name(JsonNode::Kind kind);

struct JsonSyntaxError {
  size_t offset = 0;
  std::string reason;
};

// Parses one JSON value surrounded by optional whitespace. Strings must be valid UTF-8 and
// \u escapes well-formed (no lone surrogates). Containers deeper than `max_depth` fail.
bool parse_json(std::string_view text, JsonNode* out, JsonSyntaxError* error, int max_depth = 1024);

}  // namespace dynarep::model::detail
