// Attribute paths for error messages ("m.l[3].x"), kept as a chain of frames on the stack so
// the success path never builds a string.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.h"

namespace dynarep::model::detail {

struct PathFrame {
  const PathFrame* parent = nullptr;
  std::string_view name;  // the attribute name, when !is_index
  size_t index = 0;       // the list position, when is_index
  bool is_index = false;
};

// "a.b[3].c"; "" for no frame.
std::string render_path(const PathFrame* frame);

// invalid_input(`attribute "<path>": <message>`), or `value: <message>` when there is no path.
Error attribute_error(const PathFrame* frame, std::string message);

}  // namespace dynarep::model::detail
