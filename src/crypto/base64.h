// Standard base64 (RFC 4648 §4, alphabet A-Z a-z 0-9 + /, '=' padding): what DynamoDB's JSON
// carries for B and BS values, and what Content-MD5 and checksum headers use. Table-driven,
// appending into the caller's buffer: the codec's hot path. crypto/encoding.h has the
// convenience forms (a new string; a Result with a message).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dynarep::crypto {

size_t base64_encoded_size(size_t raw_size);
// Appends the padded encoding of `raw` to `out`.
void base64_append(std::string& out, std::string_view raw);

enum class Base64Error { kNone, kLength, kCharacter, kPadding, kTrailingBits };
// Decodes canonical padded base64 into `out` (replacing its contents). Strict: the length must be
// a multiple of 4, no whitespace, '=' only as the last one or two characters, and the unused
// bits of the last group zero (so every accepted text is the one encoding of its bytes).
// On failure `*where` is the offset of the offending character (or the length, for kLength).
Base64Error base64_decode(std::string_view text, std::string* out, size_t* where);
const char* describe(Base64Error e);

}  // namespace dynarep::crypto
