// Private access for the codec: building values in place and appending map entries without
// the per-append uniqueness scan (the codec checks uniqueness once per map).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/value.h"

namespace dynarep::model {

struct MapAccess {
  static std::vector<Map::value_type>& entries(Map& m) { return m.entries_; }
  static const std::vector<Map::value_type>& entries(const Map& m) { return m.entries_; }
};

struct ValueAccess {
  static auto& storage(Value& v) { return v.v_; }
  static const auto& storage(const Value& v) { return v.v_; }
  // `text` must already be a valid number (detail::decompose said so).
  static Number::Trusted trusted() { return {}; }
};

}  // namespace dynarep::model
