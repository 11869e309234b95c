#include "writer/write_result.h"

#include <fmt/format.h>

namespace dynarep::writer {

const Error& WriteError::error() const {
  static const Error kNone(ErrorKind::kFatal, "Unknown", "write failed");
  if (write_error) return *write_error;
  if (publish_error) return *publish_error;
  return kNone;
}

std::string WriteError::describe() const {
  std::string out;
  if (write_error) out = write_error->describe();
  if (!unpublished.empty()) {
    if (!out.empty()) out += "; ";
    out += fmt::format("{} written change{} not published to the stream", unpublished.size(),
                       unpublished.size() == 1 ? "" : "s");
    if (publish_error) out += " (" + publish_error->describe() + ")";
  }
  if (out.empty()) out = error().describe();
  return out;
}

}  // namespace dynarep::writer
