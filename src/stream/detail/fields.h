// Internals shared by the record and Lambda event parsers: member lookup and times.
#pragma once

#include <simdjson.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dynarep::stream::detail {

// The member, or nullopt when absent or JSON null.
std::optional<simdjson::dom::element> field(simdjson::dom::object obj, std::string_view name);
// The first of two spellings present (camelCase, then the Streams Preview's PascalCase).
std::optional<simdjson::dom::element> field_either(simdjson::dom::object obj, std::string_view name,
                                                   std::string_view other_name);

// system_clock counts 64-bit nanoseconds: it spans only 1677-09-21 to 2262-04-11. The time
// `micros` after the epoch, or nullopt outside that span (where converting would overflow).
std::optional<std::chrono::system_clock::time_point> system_time_from_micros(std::int64_t micros);

}  // namespace dynarep::stream::detail
