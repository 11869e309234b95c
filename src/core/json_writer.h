// A small JSON builder for request bodies: appends to a string, handles commas, escapes
// strings. Request bodies are built on hot paths (every BatchWriteItem), so no DOM.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dynarep {

// Appends `s` as a JSON string literal (with quotes). UTF-8 passes through; control
// characters, quote and backslash are escaped.
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
