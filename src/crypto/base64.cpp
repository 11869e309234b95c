#include "crypto/base64.h"

#include <array>
#include <cstdint>

namespace dynarep::crypto {
namespace {

constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr uint8_t kBase64Invalid = 0xFF;

constexpr std::array<uint8_t, 256> make_decode_table() {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = kBase64Invalid;
  for (uint8_t i = 0; i < 64; ++i) t[static_cast<unsigned char>(kBase64Alphabet[i])] = i;
  return t;
}
constexpr std::array<uint8_t, 256> kBase64Decode = make_decode_table();

}  // namespace

size_t base64_encoded_size(size_t raw_size) { return (raw_size + 2) / 3 * 4; }

void base64_append(std::string& out, std::string_view raw) {
  const size_t start = out.size();
  out.resize(start + base64_encoded_size(raw.size()));
  char* dst = out.data() + start;
  const auto* src = reinterpret_cast<const unsigned char*>(raw.data());
  size_t n = raw.size();
  while (n >= 3) {
    const uint32_t w = (uint32_t{src[0]} << 16) | (uint32_t{src[1]} << 8) | src[2];
    dst[0] = kBase64Alphabet[(w >> 18) & 63];
    dst[1] = kBase64Alphabet[(w >> 12) & 63];
    dst[2] = kBase64Alphabet[(w >> 6) & 63];
    dst[3] = kBase64Alphabet[w & 63];
    src += 3;
    dst += 4;
    n -= 3;
  }
  if (n == 1) {
    const uint32_t w = uint32_t{src[0]} << 16;
    dst[0] = kBase64Alphabet[(w >> 18) & 63];
    dst[1] = kBase64Alphabet[(w >> 12) & 63];
    dst[2] = '=';
    dst[3] = '=';
  } else if (n == 2) {
    const uint32_t w = (uint32_t{src[0]} << 16) | (uint32_t{src[1]} << 8);
    dst[0] = kBase64Alphabet[(w >> 18) & 63];
    dst[1] = kBase64Alphabet[(w >> 12) & 63];
    dst[2] = kBase64Alphabet[(w >> 6) & 63];
    dst[3] = '=';
  }
}

Base64Error base64_decode(std::string_view text, std::string* out, size_t* where) {
  out->clear();
  const size_t len = text.size();
  if (len % 4 != 0) {
    *where = len;
    return Base64Error::kLength;
  }
  if (len == 0) return Base64Error::kNone;
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t pad = 0;
  if (s[len - 1] == '=') pad = s[len - 2] == '=' ? 2 : 1;
  out->resize(len / 4 * 3 - pad);
  auto* dst = reinterpret_cast<unsigned char*>(out->data());
  const size_t full = pad == 0 ? len : len - 4;  // groups without padding
  for (size_t i = 0; i < full; i += 4) {
    const uint8_t a = kBase64Decode[s[i]], b = kBase64Decode[s[i + 1]], c = kBase64Decode[s[i + 2]], d = kBase64Decode[s[i + 3]];
    if (((a | b | c | d) & 0xC0) != 0) {  // kBase64Invalid has the high bits set
      for (size_t k = i; k < i + 4; ++k) {
        if (kBase64Decode[s[k]] == kBase64Invalid) {
          *where = k;
          out->clear();
          return s[k] == '=' ? Base64Error::kPadding : Base64Error::kCharacter;
        }
      }
    }
    const uint32_t w = (uint32_t{a} << 18) | (uint32_t{b} << 12) | (uint32_t{c} << 6) | d;
    dst[0] = static_cast<unsigned char>(w >> 16);
    dst[1] = static_cast<unsigned char>(w >> 8);
    dst[2] = static_cast<unsigned char>(w);
    dst += 3;
  }
  if (pad != 0) {
    const size_t i = len - 4;
    const size_t data_chars = 4 - pad;
    uint32_t w = 0;
    for (size_t k = 0; k < 4; ++k) {
      const uint8_t v = kBase64Decode[s[i + k]];
      if (k < data_chars) {
        if (v == kBase64Invalid) {
          *where = i + k;
          out->clear();
          return s[i + k] == '=' ? Base64Error::kPadding : Base64Error::kCharacter;
        }
        w |= uint32_t{v} << (18 - 6 * k);
      }
    }
    // pad == 1: 18 data bits, the last 2 must be zero; pad == 2: 12 bits, the last 4.
    const uint32_t unused = pad == 1 ? (w & 0xFFu) : (w & 0xFFFFu);
    if (unused != 0) {
      *where = i + data_chars - 1;
      out->clear();
      return Base64Error::kTrailingBits;
    }
    dst[0] = static_cast<unsigned char>(w >> 16);
    if (pad == 1) dst[1] = static_cast<unsigned char>(w >> 8);
  }
  return Base64Error::kNone;
}

const char* describe(Base64Error e) {
  switch (e) {
    case Base64Error::kNone: return "ok";
    case Base64Error::kLength: return "length is not a multiple of 4";
    case Base64Error::kCharacter: return "character outside the base64 alphabet";
    case Base64Error::kPadding: return "misplaced '=' padding";
    case Base64Error::kTrailingBits: return "non-zero bits after the last byte (not canonical)";
  }
  return "?";
}

}  // namespace dynarep::crypto
