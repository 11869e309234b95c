#include "diff/detail/fingerprint.h"

#include <fmt/format.h>

#include <cstring>

#include "model/item.h"

namespace dynarep::diff::detail {
namespace {

constexpr uint64_t kP1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t kP2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t kP3 = 0x165667B19E3779F9ULL;
constexpr uint64_t kP4 = 0x85EBCA77C2B2AE63ULL;
constexpr uint64_t kP5 = 0x27D4EB2F165667C5ULL;

constexpr uint64_t kKeySeed = 0x6b65792d6964ULL;     // "key-id"
constexpr uint64_t kItemSeed = 0x6974656d2d6670ULL;  // "item-fp"

uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

uint64_t load64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

uint32_t load32(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

uint64_t word_hash(std::string_view bytes, uint64_t seed) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  uint64_t h = seed + kP5 + static_cast<uint64_t>(n);
  while (n >= 8) {
    uint64_t k = load64(p) * kP2;
    k = rotl(k, 31) * kP1;
    h ^= k;
    h = rotl(h, 27) * kP1 + kP4;
    p += 8;
    n -= 8;
  }
  if (n >= 4) {
    h ^= static_cast<uint64_t>(load32(p)) * kP1;
    h = rotl(h, 23) * kP2 + kP3;
    p += 4;
    n -= 4;
  }
  while (n > 0) {
    h ^= static_cast<uint64_t>(*p) * kP5;
    h = rotl(h, 11) * kP1;
    ++p;
    --n;
  }
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP3;
  h ^= h >> 32;
  return h;
}

Hash128 hash128(std::string_view bytes, uint64_t seed) {
  return Hash128{model::hash_bytes(bytes, seed), word_hash(bytes, ~seed)};
}

Hash128 key_id(const model::Item& key) { return hash128(model::canonical_bytes(key), kKeySeed); }

Hash128 item_fingerprint(const model::Item& item) {
  return hash128(model::canonical_bytes(item), kItemSeed);
}

std::string to_hex(const Hash128& h) { return fmt::format("{:016x}{:016x}", h.hi, h.lo); }

}  // namespace dynarep::diff::detail
