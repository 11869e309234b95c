#include "model/detail/path.h"

#include <vector>

#include "model/detail/json_escape.h"

namespace dynarep::model::detail {

std::string render_path(const PathFrame* frame) {
  std::vector<const PathFrame*> chain;
  for (const PathFrame* f = frame; f != nullptr; f = f->parent) chain.push_back(f);
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const PathFrame* f = *it;
    if (f->is_index) {
      out += '[';
      out += std::to_string(f->index);
      out += ']';
    } else {
      if (!out.empty()) out += '.';
      out += f->name;
    }
  }
  return out;
}

Error attribute_error(const PathFrame* frame, std::string message) {
  if (frame == nullptr) return invalid_input("value: " + message);
  return invalid_input("attribute " + quote_for_message(render_path(frame), 200) + ": " + message);
}

}  // namespace dynarep::model::detail
