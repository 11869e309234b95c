// DynamoDB attribute values: the ten types, numbers kept as decimal text, and maps (items).
//
// Equality follows docs/formats.md §1: numbers compare by value ("1.50" == "15E-1"), sets are
// unordered, map attribute order never matters, lists are ordered. Numbers never go through
// a double: a Number is its validated decimal text.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/result.h"

namespace dynarep::model {

// The order matches the storage index inside Value; do not reorder.
enum class Type : uint8_t { kS, kN, kB, kSS, kNS, kBS, kM, kL, kNull, kBool };

// The DynamoDB JSON tag: "S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL".
std::string_view type_tag(Type type);
// The inverse of type_tag; false when `tag` is not one of the ten tags (case-sensitive).
bool type_from_tag(std::string_view tag, Type* out);

// A DynamoDB number: decimal text validated the way DynamoDB validates it.
//   [+-]? digits [. digits] ([eE] [+-]? digits)?   (".5", "5.", "+3", "0001.23" are accepted)
//   at most 38 significant digits (leading and trailing zeros do not count);
//   a non-zero magnitude within 1E-130 .. 9.9999999999999999999999999999999999999E+125;
//   zero with any exponent ("0e1000") is zero.
// Rejected: NaN, Infinity, hex, spaces, empty text. See scylladb test/alternator/test_number.py,
// which pins these cases against DynamoDB itself.
class Number {
 public:
  static constexpr int kMaxDigits = 38;
  static constexpr int kMaxExponent = 125;   // of the leading digit: 9.99..E+125 is the largest
  static constexpr int kMinExponent = -130;  // 1E-130 is the smallest non-zero magnitude

  // Errors read `number "1e999": exponent out of range (...)`.
  static Result<Number> parse(std::string_view text);
  // For literals in code and tests: throws std::invalid_argument when `text` is invalid.
  static Number from_string(std::string_view text);
  static Number from_int(int64_t v);

  Number() : text_(1, '0') {}

  // A passkey: only the codec, having validated the text already, builds numbers unchecked.
  class Trusted {
    friend struct ValueAccess;
    Trusted() = default;
  };
  Number(Trusted, std::string_view validated_text) : text_(validated_text) {}

  // Exactly the text given to parse(), so a round trip is byte-exact.
  const std::string& text() const { return text_; }
  // A normalized text, equal for equal values: "1.50", "1.5", "15E-1", "0.15e1" -> "1.5";
  // "-0" -> "0". Positional notation when the leading digit's exponent is within -7..20,
  // otherwise "d.dddE+x" / "dE-x". Always a valid DynamoDB number.
  std::string canonical() const;
  // Significant digits after trimming leading and trailing zeros (0 for zero).
  int significant_digits() const;
  bool is_zero() const;
  bool is_negative() const;  // false for any zero, including "-0"

  friend bool operator==(const Number& a, const Number& b);
  friend std::strong_ordering operator<=>(const Number& a, const Number& b);

 private:
  explicit Number(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

// Total order by value: negative, zero, positive.
int compare(const Number& a, const Number& b);

class Value;

// Attribute name -> value, in insertion order. A flat vector: items have few attributes and
// a linear scan of short names beats hashing; names are unique (set() replaces).
class Map {
 public:
  using value_type = std::pair<std::string, Value>;
  using iterator = std::vector<value_type>::iterator;
  using const_iterator = std::vector<value_type>::const_iterator;

  Map() = default;
  Map(std::initializer_list<value_type> init);

  const Value* find(std::string_view name) const;
  Value* find(std::string_view name);
  bool contains(std::string_view name) const { return find(name) != nullptr; }
  // Throws std::out_of_range when absent (a bug in the caller).
  const Value& at(std::string_view name) const;
  // Replaces the value when `name` is present, else appends.
  void set(std::string name, Value v);
  bool erase(std::string_view name);
  // Defined after Value: clang instantiates std::pair<std::string, Value> for these, and Value
  // is incomplete until then.
  void clear();
  void reserve(size_t n);

  size_t size() const;
  bool empty() const;
  iterator begin();
  iterator end();
  const_iterator begin() const;
  const_iterator end() const;

  friend bool operator==(const Map& a, const Map& b);

 private:
  friend struct MapAccess;  // the codec appends without the uniqueness scan
  std::vector<value_type> entries_;
};

// An item IS its top-level map.
using Item = Map;

class Value {
 public:
  // A NULL value.
  Value() : v_(std::in_place_index<kNullIndex>) {}

  static Value S(std::string s);
  static Value N(Number n);
  static Value B(std::string bytes);  // raw bytes, not base64
  static Value SS(std::vector<std::string> members);
  static Value NS(std::vector<Number> members);
  static Value BS(std::vector<std::string> members);  // raw bytes each
  static Value M(Map m);
  static Value L(std::vector<Value> elements);
  static Value Null();
  static Value Bool(bool b);

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is(Type t) const { return type() == t; }

  // Strict accessors: std::logic_error on the wrong type (a bug in the caller).
  const std::string& as_s() const;
  const Number& as_n() const;
  const std::string& as_b() const;
  const std::vector<std::string>& as_ss() const;
  const std::vector<Number>& as_ns() const;
  const std::vector<std::string>& as_bs() const;
  const Map& as_m() const;
  Map& as_m();
  const std::vector<Value>& as_l() const;
  std::vector<Value>& as_l();
  bool as_bool() const;

  // Non-throwing accessors: nullptr on the wrong type.
  const std::string* try_as_s() const { return std::get_if<0>(&v_); }
  const Number* try_as_n() const { return std::get_if<1>(&v_); }
  const std::string* try_as_b() const { return std::get_if<2>(&v_); }
  const std::vector<std::string>* try_as_ss() const { return std::get_if<3>(&v_); }
  const std::vector<Number>* try_as_ns() const { return std::get_if<4>(&v_); }
  const std::vector<std::string>* try_as_bs() const { return std::get_if<5>(&v_); }
  const Map* try_as_m() const { return std::get_if<6>(&v_); }
  Map* try_as_m() { return std::get_if<6>(&v_); }
  const std::vector<Value>* try_as_l() const { return std::get_if<7>(&v_); }
  std::vector<Value>* try_as_l() { return std::get_if<7>(&v_); }
  const bool* try_as_bool() const { return std::get_if<9>(&v_); }
  bool is_null() const { return v_.index() == kNullIndex; }

  // docs/formats.md §1 equality: numbers by value, sets as sets, maps by name, lists in order.
  friend bool operator==(const Value& a, const Value& b);

 private:
  static constexpr size_t kNullIndex = 8;
  using Storage = std::variant<std::string,               // S
                               Number,                    // N
                               std::string,               // B
                               std::vector<std::string>,  // SS
                               std::vector<Number>,       // NS
                               std::vector<std::string>,  // BS
                               Map,                       // M
                               std::vector<Value>,        // L
                               std::monostate,            // NULL
                               bool>;                     // BOOL
  template <size_t I, class... A>
  static Value make(A&&... a) {
    Value v;
    v.v_.template emplace<I>(std::forward<A>(a)...);
    return v;
  }
  [[noreturn]] void wrong_type(Type wanted) const;
  friend struct ValueAccess;  // the codec builds values in place
  Storage v_;
};

inline void Map::clear() { entries_.clear(); }
inline void Map::reserve(size_t n) { entries_.reserve(n); }
inline size_t Map::size() const { return entries_.size(); }
inline bool Map::empty() const { return entries_.empty(); }
inline Map::iterator Map::begin() { return entries_.begin(); }
inline Map::iterator Map::end() { return entries_.end(); }
inline Map::const_iterator Map::begin() const { return entries_.begin(); }
inline Map::const_iterator Map::end() const { return entries_.end(); }

}  // namespace dynarep::model
