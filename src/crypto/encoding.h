// Byte encodings: lower-case hex and standard base64 (RFC 4648 section 4).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace dynarep::crypto {

// Lower-case hex, two characters per byte ("\x01\xab" -> "01ab").
std::string hex_lower(std::string_view bytes);
template <std::size_t N>
std::string hex_lower(const std::array<uint8_t, N>& bytes) {
  return hex_lower(std::string_view(reinterpret_cast<const char*>(bytes.data()), N));
}

// Standard alphabet (A-Z a-z 0-9 + /) with '=' padding.
std::string base64_encode(std::string_view bytes);
template <std::size_t N>
std::string base64_encode(const std::array<uint8_t, N>& bytes) {
  return base64_encode(std::string_view(reinterpret_cast<const char*>(bytes.data()), N));
}

// Strict decoding: standard alphabet only (no URL-safe '-' '_'), length a multiple of 4,
// padding only at the end, no whitespace, and the unused bits of the last symbol zero (so each
// input has exactly one decoding). Errors are kInvalidInput and name the offending offset.
Result<std::string> base64_decode(std::string_view text);

}  // namespace dynarep::crypto
