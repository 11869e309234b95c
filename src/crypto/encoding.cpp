#include "crypto/encoding.h"

#include <cstdio>

#include "crypto/base64.h"

namespace dynarep::crypto {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

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
  base64_append(out, bytes);
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  std::string out;
  std::size_t where = 0;
  switch (base64_decode(text, &out, &where)) {
    case Base64Error::kNone: return out;
    case Base64Error::kLength:
      return base64_error("length " + std::to_string(text.size()) + " is not a multiple of 4");
    case Base64Error::kPadding:
      return base64_error("padding '=' at offset " + std::to_string(where) + " before the end of the input");
    case Base64Error::kCharacter:
      return base64_error("invalid character " + describe_char(static_cast<unsigned char>(text[where])) +
                          " at offset " + std::to_string(where));
    case Base64Error::kTrailingBits:
      return base64_error("non-zero padding bits in the last symbol at offset " + std::to_string(where));
  }
  return base64_error("undecodable");
}

}  // namespace dynarep::crypto
