// Quoted strings for error messages. The escaping is core's append_json_string (JavaScript's
// JSON.stringify, docs/formats.md §4), which model code calls directly for JSON output.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dynarep::model::detail {

// For error messages: `s` as a quoted JSON string, cut to about `max_bytes` with "..." so a
// 400 KB value does not end up in a log line.
std::string quote_for_message(std::string_view s, size_t max_bytes = 64);

}  // namespace dynarep::model::detail
