#include "model/detail/json_escape.h"

#include <array>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace dynarep::model::detail {
namespace {

constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHighs = 0x8080808080808080ULL;

// Non-zero when some byte of `w` is zero (exact as to whether one exists).
inline uint64_t has_zero_byte(uint64_t w) { return (w - kOnes) & ~w & kHighs; }

// Non-zero when some byte of `w` needs escaping: below 0x20, '"' or '\'.
inline uint64_t needs_escape(uint64_t w) {
  const uint64_t below_space = (w - kOnes * 0x20) & ~w & kHighs;
  return below_space | has_zero_byte(w ^ (kOnes * '"')) | has_zero_byte(w ^ (kOnes * '\\'));
}

constexpr std::array<bool, 256> make_escape_table() {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[static_cast<size_t>(c)] = true;
  t['"'] = true;
  t['\\'] = true;
  return t;
}
constexpr std::array<bool, 256> kNeedsEscape = make_escape_table();

// The first byte in [p, end) that needs escaping, or end.
inline const char* find_escape(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i control_max = _mm_set1_epi8(0x1f);
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // v <= 0x1f (unsigned) exactly when max(v, 0x1f) == 0x1f.
    const __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(v, control_max), control_max);
    const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)), control);
    const int mask = _mm_movemask_epi8(hit);
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  while (end - p >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    if (needs_escape(w) != 0) break;
    p += 8;
  }
  while (p < end && !kNeedsEscape[static_cast<unsigned char>(*p)]) ++p;
  return p;
}

void append_escape(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (c) {
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    case '\b': out += "\\b"; return;
    case '\f': out += "\\f"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    default: {
      const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out.append(u, sizeof u);
    }
  }
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  const char* p = s.data();
  const char* const end = p + s.size();
  const char* run = p;  // start of the bytes not yet copied
  while (true) {
    p = find_escape(p, end);
    out.append(run, static_cast<size_t>(p - run));
    if (p == end) break;
    append_escape(out, static_cast<unsigned char>(*p));
    run = ++p;
  }
  out.push_back('"');
}

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
