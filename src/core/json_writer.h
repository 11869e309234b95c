// A small JSON builder for request bodies: appends to a string, handles commas, escapes
// strings. Request bodies are built on hot paths (every BatchWriteItem), so no DOM.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dynarep {

// Appends `s` as a JSON string literal (with quotes), escaped exactly as JavaScript's
// JSON.stringify escapes it: `"` and `\` escaped, \b \f \n \r \t by name, other bytes below 0x20
// as \u00xx with lowercase hex; every other byte passed through as is (UTF-8, U+2028/U+2029,
// characters outside the BMP, DEL, and invalid UTF-8 alike).
//
// The one JSON string escaper of the project. The escaping is part of the formats: the
// incremental-backup object name is the sha256 of a key's JSON and the Kinesis partition key is
// that JSON (docs/formats.md §3, §4), so any change here renames users' objects and moves their
// keys to other shards. tests/core/json_writer_test.cpp pins it.
void append_json_string(std::string& out, std::string_view s);

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& string(std::string_view v);
  JsonWriter& number(int64_t v);
  JsonWriter& boolean(bool v);
  // Appends already-serialized JSON (an item from the codec, say) as one value.
  JsonWriter& raw(std::string_view json);
  // key + value shorthands
  JsonWriter& field(std::string_view k, std::string_view v) { return key(k).string(v); }
  JsonWriter& field(std::string_view k, const char* v) { return key(k).string(v); }
  JsonWriter& field(std::string_view k, int64_t v) { return key(k).number(v); }
  JsonWriter& field(std::string_view k, int v) { return key(k).number(v); }
  JsonWriter& field(std::string_view k, bool v) { return key(k).boolean(v); }

 private:
  void before_value();
  std::string& out_;
  // One entry per open container: true once it holds a member (so the next needs a comma).
  std::vector<bool> has_member_;
  bool after_key_ = false;
};

}  // namespace dynarep
