#include "kinesis/detail/json.h"

#include "crypto/encoding.h"

namespace dynarep::kinesis::detail {

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string base64(std::string_view bytes) { return crypto::base64_encode(bytes); }

std::optional<std::string> unbase64(std::string_view text) {
  auto r = crypto::base64_decode(text);
  if (!r.ok()) return std::nullopt;
  return std::move(r).value();
}

}  // namespace dynarep::kinesis::detail
