#include "crypto/encoding.h"

#include <cstdio>

namespace dynarep::crypto {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Decoding table: 0..63 for alphabet characters, kInvalid for everything else ('=' included;
// padding is handled by position).
constexpr uint8_t kInvalid = 0xff;
struct DecodeTable {
  uint8_t v[256];
  constexpr DecodeTable() : v() {
    for (auto& x : v) x = kInvalid;
    for (uint8_t i = 0; i < 64; ++i) v[static_cast<unsigned char>(kBase64Alphabet[i])] = i;
  }
};
constexpr DecodeTable kDecode;

std::string describe_char(unsigned char c) {
  char buf[16];
  if (c >= 0x20 && c < 0x7f) {
    std::snprintf(buf, sizeof buf, "'%c'", c);
  } else {
    std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
  }
  return buf;
}

Error base64_error(std::string message) {
  return Error(ErrorKind::kInvalidInput, "InvalidBase64", "base64: " + std::move(message));
}

}  // namespace

std::string hex_lower(std::string_view bytes) {
  std::string out(bytes.size() * 2, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kHexDigits[b >> 4];
    out[2 * i + 1] = kHexDigits[b & 0x0f];
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto at = [&](std::size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out.push_back(kBase64Alphabet[(n >> 18) & 63]);
    out.push_back(kBase64Alphabet[(n >> 12) & 63]);
    out.push_back(kBase64Alphabet[(n >> 6) & 63]);
    out.push_back(kBase64Alphabet[n & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t n = at(i) << 16;
    out.push_back(kBase64Alphabet[(n >> 18) & 63]);
    out.push_back(kBase64Alphabet[(n >> 12) & 63]);
    out.append("==");
  } else if (rest == 2) {
    const uint32_t n = (at(i) << 16) | (at(i + 1) << 8);
    out.push_back(kBase64Alphabet[(n >> 18) & 63]);
    out.push_back(kBase64Alphabet[(n >> 12) & 63]);
    out.push_back(kBase64Alphabet[(n >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return base64_error("length " + std::to_string(text.size()) + " is not a multiple of 4");
  }
  std::size_t pad = 0;
  if (!text.empty() && text.back() == '=') pad = (text[text.size() - 2] == '=') ? 2 : 1;
  const std::size_t data_len = text.size() - pad;

  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < data_len; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const uint8_t v = kDecode.v[c];
    if (v == kInvalid) {
      if (c == '=') {
        return base64_error("padding '=' at offset " + std::to_string(i) + " before the end of the input");
      }
      return base64_error("invalid character " + describe_char(c) + " at offset " + std::to_string(i));
    }
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // With one '=' the last symbol carries 2 unused bits, with two '=' 4: they must be zero, or
  // two different texts would decode to the same bytes.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    return base64_error("non-zero padding bits in the last symbol at offset " + std::to_string(data_len - 1));
  }
  return out;
}

}  // namespace dynarep::crypto
