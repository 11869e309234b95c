// JSON string output. The escaping matches JavaScript's JSON.stringify (what the original
// Node tools wrote, and what names incremental-backup objects through a SHA-256 of the key's
// JSON, CONTRACT.md §4): `"` and `\` escaped, \b \f \n \r \t by name, other control characters
// below 0x20 as \u00xx with lowercase hex; everything else, UTF-8 included, passed through.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dynarep::model::detail {

// Appends `s` as a quoted JSON string.
void append_json_string(std::string& out, std::string_view s);

// For error messages: `s` as a quoted JSON string, cut to about `max_bytes` with "..." so a
// 400 KB value does not end up in a log line.
std::string quote_for_message(std::string_view s, size_t max_bytes = 64);

}  // namespace dynarep::model::detail
