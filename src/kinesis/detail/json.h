// Internals of the Kinesis client that its tests use: JSON string escaping for request bodies
// and the base64 wrappers for record data.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dynarep::kinesis::detail {

// Appends `s` as a JSON string literal (quotes included). Bytes >= 0x80 pass through: the
// text is expected to be UTF-8 and the service validates it.
void append_json_string(std::string& out, std::string_view s);

std::string base64(std::string_view bytes);
// nullopt when `text` is not valid base64.
std::optional<std::string> unbase64(std::string_view text);

}  // namespace dynarep::kinesis::detail
