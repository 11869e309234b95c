#include "stream/detail/fields.h"

namespace dynarep::stream::detail {

std::optional<simdjson::dom::element> field(simdjson::dom::object obj, std::string_view name) {
  simdjson::dom::element e;
  if (obj.at_key(name).get(e)) return std::nullopt;
  if (e.is_null()) return std::nullopt;
  return e;
}

std::optional<simdjson::dom::element> field_either(simdjson::dom::object obj, std::string_view name,
                                                   std::string_view other_name) {
  if (auto e = field(obj, name)) return e;
  return field(obj, other_name);
}

std::optional<std::chrono::system_clock::time_point> system_time_from_micros(std::int64_t micros) {
  using std::chrono::microseconds;
  constexpr auto kMax = std::chrono::duration_cast<microseconds>(std::chrono::system_clock::duration::max()).count();
  constexpr auto kMin = std::chrono::duration_cast<microseconds>(std::chrono::system_clock::duration::min()).count();
  if (micros > kMax || micros < kMin) return std::nullopt;
  return std::chrono::system_clock::time_point(microseconds(micros));
}

}  // namespace dynarep::stream::detail
