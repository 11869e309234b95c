#include "diff/segments.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>

namespace dynarep::diff {
namespace {

Error usage(std::string message) { return Error(ErrorKind::kInvalidInput, "Usage", std::move(message)); }

std::optional<std::pair<std::string_view, std::string>> env_index(const EnvLookup& env) {
  for (std::string_view name : {kKubernetesIndexVar, kAwsBatchIndexVar}) {
    auto v = env(name);
    if (v && !v->empty()) return std::make_pair(name, *v);
  }
  return std::nullopt;
}

}  // namespace

EnvLookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<Slice> choose_slice(std::optional<int> segment, std::optional<int> segments, const EnvLookup& env) {
  Slice s;
  if (!segments) {
    if (segment) return usage("--segment needs --segments (the number of slices the work is split into)");
    if (auto idx = env_index(env)) {
      s.note = fmt::format("ignoring {}={}: give --segments N to scan one slice of N per job; "
                           "scanning the whole table",
                           idx->first, idx->second);
    }
    return s;
  }
  if (*segments < 1) return usage(fmt::format("--segments {} must be at least 1", *segments));
  s.total_segments = *segments;
  if (segment) {
    if (*segment < 0 || *segment >= *segments) {
      return usage(fmt::format("--segment {} is outside 0..{}", *segment, *segments - 1));
    }
    s.segments = {*segment};
    s.origin = "--segment";
    return s;
  }
  if (auto idx = env_index(env)) {
    int v = -1;
    const std::string& text = idx->second;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v < 0) {
      return usage(fmt::format("{}={} is not a segment number", idx->first, text));
    }
    if (v >= *segments) {
      return usage(fmt::format("{}={} is outside 0..{} (--segments {})", idx->first, v, *segments - 1, *segments));
    }
    s.segments = {v};
    s.origin = std::string(idx->first);
  }
  return s;
}

}  // namespace dynarep::diff
