#include "kinesis/detail/json.h"

#include "crypto/encoding.h"

namespace dynarep::kinesis::detail {

std::string base64(std::string_view bytes) { return crypto::base64_encode(bytes); }

std::optional<std::string> unbase64(std::string_view text) {
  auto r = crypto::base64_decode(text);
  if (!r.ok()) return std::nullopt;
  return std::move(r).value();
}

}  // namespace dynarep::kinesis::detail
