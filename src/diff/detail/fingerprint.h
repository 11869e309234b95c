// 128-bit identities for keys and items, computed from model::canonical_bytes so that equal
// items (docs/formats.md §1: numbers by value, sets and maps unordered) get equal fingerprints.
//
// Each half comes from a different 64-bit hash function over the same bytes: model's
// multiply-fold hash_bytes and an xxHash64-style word hash (below). Two unrelated functions,
// rather than one function with two seeds, so that a structural weakness in one (inputs whose
// internal states collide whatever the seed) is not shared by the other. Two different items
// then share a fingerprint with probability about 2^-128: diff treats equal fingerprints as
// equal items, and everything else is re-read and compared with full Item equality.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "model/value.h"

namespace dynarep::diff::detail {

struct Hash128 {
  uint64_t hi = 0;
  uint64_t lo = 0;
  bool operator==(const Hash128&) const = default;
  bool is_zero() const { return hi == 0 && lo == 0; }
};

struct Hash128Hasher {
  size_t operator()(const Hash128& h) const { return static_cast<size_t>(h.hi ^ (h.lo * 0x9E3779B97F4A7C15ULL)); }
};

// An xxHash64-style hash (one lane: 8-byte words, then 4 bytes, then single bytes, then the
// xxHash64 avalanche). Not the reference XXH64 output: nothing outside this process sees it.
uint64_t word_hash(std::string_view bytes, uint64_t seed);

// The two hashes of `bytes`, with seeds that differ for keys and items.
Hash128 hash128(std::string_view bytes, uint64_t seed);

// Identity of a key (an Item holding only the key attributes).
Hash128 key_id(const model::Item& key);
// Fingerprint of a whole item. The zero value stands for "no item" in re-check rounds.
Hash128 item_fingerprint(const model::Item& item);

// "0123456789abcdef0123456789abcdef", for logs and tests.
std::string to_hex(const Hash128& h);

}  // namespace dynarep::diff::detail
