// Internals of the Kinesis client that its tests use: the base64 wrappers for record data.
// (Request bodies escape strings with core's append_json_string.)
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dynarep::kinesis::detail {

std::string base64(std::string_view bytes);
// nullopt when `text` is not valid base64.
std::optional<std::string> unbase64(std::string_view text);

}  // namespace dynarep::kinesis::detail
