#include "common/check.h"

#include <cstdio>
#include <cstdlib>

namespace dynarep::fuzz {
namespace {

FailureHandler g_handler = nullptr;

}  // namespace

void set_failure_handler(FailureHandler handler) { g_handler = handler; }

void fail(const char* file, int line, const std::string& what) {
  const std::string full = std::string(file) + ":" + std::to_string(line) + ": property failed: " + what;
  if (g_handler != nullptr) g_handler(full);  // throws
  std::fprintf(stderr, "\n==== dynarep fuzz: %s\n", full.c_str());
  std::fflush(stderr);
  std::abort();
}

std::string printable(std::string_view s, std::size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (s.size() > max) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

}  // namespace dynarep::fuzz
