#include "model/item.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "core/json_writer.h"
#include "model/codec.h"
#include "model/detail/access.h"
#include "model/detail/decimal.h"
#include "model/detail/json_escape.h"
#include "model/detail/path.h"

namespace dynarep::model {
namespace {

size_t number_size(const Number& n) {
  detail::Decimal d;
  if (detail::decompose(n.text(), &d) != detail::DecimalError::kNone) return n.text().size();
  if (d.digits == 0) return 1;
  return static_cast<size_t>((d.digits + 1) / 2) + 1;
}

// Map entries in name order, without allocating for the common small map.
class SortedEntries {
 public:
  SortedEntries(const SortedEntries&) = delete;
  SortedEntries& operator=(const SortedEntries&) = delete;
  explicit SortedEntries(const Map& m) {
    n_ = m.size();
    if (n_ > kInline) heap_ = std::make_unique<const Map::value_type*[]>(n_);
    ptrs_ = n_ <= kInline ? inline_ : heap_.get();
    size_t i = 0;
    for (const auto& e : m) ptrs_[i++] = &e;
    std::sort(ptrs_, ptrs_ + n_, [](const Map::value_type* a, const Map::value_type* b) { return a->first < b->first; });
  }
  const Map::value_type* const* begin() const { return ptrs_; }
  const Map::value_type* const* end() const { return ptrs_ + n_; }

 private:
  static constexpr size_t kInline = 32;
  const Map::value_type* inline_[kInline];
  std::unique_ptr<const Map::value_type*[]> heap_;
  const Map::value_type** ptrs_;
  size_t n_;
};

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>(static_cast<unsigned char>(v | 0x80));
    v >>= 7;
  }
  out += static_cast<char>(static_cast<unsigned char>(v));
}

void put_bytes(std::string& out, std::string_view b) {
  put_varint(out, b.size());
  out.append(b);
}

void put_tag(std::string& out, Type t) { out += static_cast<char>(static_cast<uint8_t>(t)); }

void encode_map(std::string& out, const Map& m) {
  put_varint(out, m.size());
  for (const Map::value_type* e : SortedEntries(m)) {
    put_bytes(out, e->first);
    append_canonical_bytes(out, e->second);
  }
}

// Members sorted by bytes, duplicates once.
void encode_string_set(std::string& out, const std::vector<std::string>& members) {
  std::vector<std::string_view> sorted(members.begin(), members.end());
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  put_varint(out, sorted.size());
  for (auto s : sorted) put_bytes(out, s);
}

// ---- hashing: a 64x64->128 multiply folded to 64 bits, over 16-byte blocks.

__extension__ typedef unsigned __int128 u128;

constexpr uint64_t kK0 = 0x9E3779B97F4A7C15ULL;  // 2^64 / golden ratio
constexpr uint64_t kK1 = 0xD6E8FEB86659FD93ULL;
constexpr uint64_t kK2 = 0xA0761D6478BD642FULL;
constexpr uint64_t kK3 = 0xE7037ED1A0B428DBULL;

inline uint64_t fold_mul(uint64_t a, uint64_t b) {
  const u128 p = static_cast<u128>(a) * b;
  return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
}

inline uint64_t load64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

inline uint64_t load32(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Writers for validate_item.
Status validate_value(const Value& v, const detail::PathFrame* path, int level);

Status validate_members(const Map& m, const detail::PathFrame* parent, int level) {
  for (const auto& [name, v] : m) {
    const detail::PathFrame frame{parent, name, 0, false};
    DR_TRY(validate_value(v, &frame, level));
  }
  return {};
}

Status validate_value(const Value& v, const detail::PathFrame* path, int level) {
  if (level > kMaxNestingLevels) return detail::attribute_error(path, "nesting deeper than 32 levels");
  auto string_set = [&](const std::vector<std::string>& members, const char* what) -> Status {
    if (members.empty()) return detail::attribute_error(path, std::string(what) + " is empty (DynamoDB rejects empty sets)");
    std::vector<std::string_view> sorted(members.begin(), members.end());
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
      return detail::attribute_error(path, std::string(what) + " has duplicate members");
    }
    return {};
  };
  switch (v.type()) {
    case Type::kSS: return string_set(v.as_ss(), "string set");
    case Type::kBS: return string_set(v.as_bs(), "binary set");
    case Type::kNS: {
      const auto& ns = v.as_ns();
      if (ns.empty()) return detail::attribute_error(path, "number set is empty (DynamoDB rejects empty sets)");
      std::vector<std::string> canon;
      canon.reserve(ns.size());
      for (const auto& n : ns) canon.push_back(n.canonical());
      std::sort(canon.begin(), canon.end());
      if (std::adjacent_find(canon.begin(), canon.end()) != canon.end()) {
        return detail::attribute_error(path, "number set has duplicate members (numbers compare by value)");
      }
      return {};
    }
    case Type::kM: return validate_members(v.as_m(), path, level + 1);
    case Type::kL: {
      const auto& l = v.as_l();
      for (size_t i = 0; i < l.size(); ++i) {
        const detail::PathFrame frame{path, {}, i, true};
        DR_TRY(validate_value(l[i], &frame, level + 1));
      }
      return {};
    }
    default: return {};
  }
}

Status take_key_attribute(const Item& item, const std::string& name, Type type, const char* role, Item* key) {
  const Value* v = item.find(name);
  const std::string quoted = detail::quote_for_message(name);
  if (v == nullptr) return invalid_input(std::string(role) + " attribute " + quoted + " is missing from the item");
  if (v->type() != type) {
    return invalid_input(std::string(role) + " attribute " + quoted + " has type " + std::string(type_tag(v->type())) +
                         ", the table's key schema says " + std::string(type_tag(type)));
  }
  const std::string* bytes = type == Type::kS ? v->try_as_s() : (type == Type::kB ? v->try_as_b() : nullptr);
  if (bytes != nullptr && bytes->empty()) {
    return invalid_input(std::string(role) + " attribute " + quoted +
                         " is empty (DynamoDB key values must not be empty)");
  }
  key->set(name, *v);
  return {};
}

}  // namespace

size_t value_size(const Value& v) {
  switch (v.type()) {
    case Type::kS: return v.as_s().size();
    case Type::kN: return number_size(v.as_n());
    case Type::kB: return v.as_b().size();
    case Type::kSS:
    case Type::kBS: {
      size_t n = 0;
      for (const auto& s : v.type() == Type::kSS ? v.as_ss() : v.as_bs()) n += s.size();
      return n;
    }
    case Type::kNS: {
      size_t n = 0;
      for (const auto& x : v.as_ns()) n += number_size(x);
      return n;
    }
    case Type::kM: {
      size_t n = 3;
      for (const auto& [name, child] : v.as_m()) n += name.size() + value_size(child) + 1;
      return n;
    }
    case Type::kL: {
      size_t n = 3;
      for (const auto& child : v.as_l()) n += value_size(child) + 1;
      return n;
    }
    case Type::kNull:
    case Type::kBool: return 1;
  }
  return 0;
}

size_t item_size(const Item& item) {
  size_t n = 0;
  for (const auto& [name, v] : item) n += name.size() + value_size(v);
  return n;
}

bool same_key_schema(const KeySchema& a, const KeySchema& b) {
  if (a.hash_name != b.hash_name || a.hash_type != b.hash_type) return false;
  if (a.has_range() != b.has_range()) return false;
  return !a.has_range() || (a.range_name == b.range_name && a.range_type == b.range_type);
}

std::string describe_key_schema(const KeySchema& schema) {
  std::string out = schema.hash_name + " (" + std::string(type_tag(schema.hash_type)) + ")";
  if (schema.has_range()) out += ", " + schema.range_name + " (" + std::string(type_tag(schema.range_type)) + ")";
  return out;
}

Result<Item> extract_key(const Item& item, const KeySchema& schema) {
  Item key;
  DR_TRY(take_key_attribute(item, schema.hash_name, schema.hash_type, "partition key", &key));
  if (schema.has_range()) {
    DR_TRY(take_key_attribute(item, schema.range_name, schema.range_type, "sort key", &key));
  }
  return key;
}

std::string canonical_key_json(const Item& key) {
  std::string out;
  out += '{';
  bool first = true;
  for (const Map::value_type* e : SortedEntries(key)) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, e->first);
    out += ':';
    append_value_json(out, e->second);
  }
  out += '}';
  return out;
}

void append_canonical_bytes(std::string& out, const Value& v) {
  put_tag(out, v.type());
  switch (v.type()) {
    case Type::kS: put_bytes(out, v.as_s()); return;
    case Type::kB: put_bytes(out, v.as_b()); return;
    case Type::kN: {
      detail::Decimal d;
      if (detail::decompose(v.as_n().text(), &d) != detail::DecimalError::kNone) {
        put_bytes(out, v.as_n().text());  // unreachable: Numbers are valid
        return;
      }
      // Length-prefixed like every other field; the canonical text is at most ~45 bytes.
      const size_t at = out.size();
      out += '\0';
      detail::append_canonical(out, d);
      out[at] = static_cast<char>(out.size() - at - 1);
      return;
    }
    case Type::kSS: encode_string_set(out, v.as_ss()); return;
    case Type::kBS: encode_string_set(out, v.as_bs()); return;
    case Type::kNS: {
      std::vector<std::string> canon;
      canon.reserve(v.as_ns().size());
      for (const auto& n : v.as_ns()) canon.push_back(n.canonical());
      encode_string_set(out, canon);
      return;
    }
    case Type::kM: encode_map(out, v.as_m()); return;
    case Type::kL:
      put_varint(out, v.as_l().size());
      for (const auto& e : v.as_l()) append_canonical_bytes(out, e);
      return;
    case Type::kNull: return;
    case Type::kBool: out += v.as_bool() ? '\1' : '\0'; return;
  }
}

std::string canonical_bytes(const Item& item) {
  std::string out;
  encode_map(out, item);
  return out;
}

uint64_t hash_bytes(std::string_view bytes, uint64_t seed) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  uint64_t h = fold_mul(seed ^ kK0, kK1 ^ n);
  while (n > 16) {
    h = fold_mul(load64(p) ^ kK2 ^ h, load64(p + 8) ^ kK3);
    p += 16;
    n -= 16;
  }
  // The last 1..16 bytes, read as two (possibly overlapping) words.
  uint64_t a = 0, b = 0;
  if (n >= 8) {
    a = load64(p);
    b = load64(p + n - 8);
  } else if (n >= 4) {
    a = load32(p);
    b = load32(p + n - 4);
  } else if (n > 0) {
    a = (uint64_t{p[0]} << 16) | (uint64_t{p[n / 2]} << 8) | p[n - 1];
  }
  h = fold_mul(a ^ kK2 ^ h, b ^ kK3 ^ n);
  return fold_mul(h ^ kK0, kK1 ^ bytes.size());
}

uint64_t item_hash(const Item& item) {
  thread_local std::string buf;
  buf.clear();
  encode_map(buf, item);
  return hash_bytes(buf, 0x6974656dULL);  // "item"
}

uint64_t key_hash(const Item& key) {
  thread_local std::string buf;
  buf.clear();
  encode_map(buf, key);
  return hash_bytes(buf, 0x6b6579ULL);  // "key"
}

Status validate_item(const Item& item) {
  DR_TRY(validate_members(item, nullptr, 1));
  const size_t size = item_size(item);
  if (size > kMaxItemSize) {
    return invalid_input("item size " + std::to_string(size) + " bytes exceeds DynamoDB's limit of " +
                         std::to_string(kMaxItemSize) + " bytes");
  }
  return {};
}

}  // namespace dynarep::model
