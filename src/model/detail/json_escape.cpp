#include "model/detail/json_escape.h"

#include "core/json_writer.h"

namespace dynarep::model::detail {

std::string quote_for_message(std::string_view s, size_t max_bytes) {
  std::string out;
  if (s.size() <= max_bytes) {
    append_json_string(out, s);
    return out;
  }
  // Cut on a UTF-8 character boundary.
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  append_json_string(out, s.substr(0, cut));
  out.insert(out.size() - 1, "...");
  return out;
}

}  // namespace dynarep::model::detail
