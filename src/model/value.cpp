#include "model/value.h"

#include <algorithm>
#include <stdexcept>

#include "model/detail/decimal.h"
#include "model/detail/json_escape.h"

namespace dynarep::model {

// ---------------------------------------------------------------------------------- Type

std::string_view type_tag(Type type) {
  switch (type) {
    case Type::kS: return "S";
    case Type::kN: return "N";
    case Type::kB: return "B";
    case Type::kSS: return "SS";
    case Type::kNS: return "NS";
    case Type::kBS: return "BS";
    case Type::kM: return "M";
    case Type::kL: return "L";
    case Type::kNull: return "NULL";
    case Type::kBool: return "BOOL";
  }
  return "?";
}

bool type_from_tag(std::string_view tag, Type* out) {
  // Dispatch on length first: this runs once per attribute on the parse path.
  switch (tag.size()) {
    case 1:
      switch (tag[0]) {
        case 'S': *out = Type::kS; return true;
        case 'N': *out = Type::kN; return true;
        case 'B': *out = Type::kB; return true;
        case 'M': *out = Type::kM; return true;
        case 'L': *out = Type::kL; return true;
        default: return false;
      }
    case 2:
      if (tag[1] != 'S') return false;
      switch (tag[0]) {
        case 'S': *out = Type::kSS; return true;
        case 'N': *out = Type::kNS; return true;
        case 'B': *out = Type::kBS; return true;
        default: return false;
      }
    case 4:
      if (tag == "NULL") { *out = Type::kNull; return true; }
      if (tag == "BOOL") { *out = Type::kBool; return true; }
      return false;
    default:
      return false;
  }
}

// -------------------------------------------------------------------------------- Number

namespace {

detail::Decimal decompose_valid(const std::string& text) {
  detail::Decimal d;
  // Texts inside a Number were validated by parse(); a failure here is a bug.
  if (detail::decompose(text, &d) != detail::DecimalError::kNone) {
    throw std::logic_error("model::Number holds invalid text " + text);
  }
  return d;
}

}  // namespace

Result<Number> Number::parse(std::string_view text) {
  detail::Decimal d;
  const char* why = nullptr;
  switch (detail::decompose(text, &d)) {
    case detail::DecimalError::kNone: return Number(std::string(text));
    case detail::DecimalError::kSyntax: why = "not a number"; break;
    case detail::DecimalError::kTooManyDigits: why = "more than 38 significant digits"; break;
    case detail::DecimalError::kOverflow:
      why = "exponent out of range (magnitude above 9.9999999999999999999999999999999999999E+125)";
      break;
    case detail::DecimalError::kUnderflow:
      why = "exponent out of range (non-zero magnitude below 1E-130)";
      break;
  }
  return invalid_input("number " + detail::quote_for_message(text) + ": " + why);
}

Number Number::from_string(std::string_view text) {
  auto r = parse(text);
  if (!r.ok()) throw std::invalid_argument(r.error().message);
  return std::move(r).value();
}

Number Number::from_int(int64_t v) { return Number(std::to_string(v)); }

std::string Number::canonical() const {
  std::string out;
  detail::append_canonical(out, decompose_valid(text_));
  return out;
}

int Number::significant_digits() const { return decompose_valid(text_).digits; }
bool Number::is_zero() const { return decompose_valid(text_).digits == 0; }
bool Number::is_negative() const {
  const auto d = decompose_valid(text_);
  return d.digits != 0 && d.negative;
}

int compare(const Number& a, const Number& b) {
  if (a.text() == b.text()) return 0;
  return detail::compare(decompose_valid(a.text()), decompose_valid(b.text()));
}

bool operator==(const Number& a, const Number& b) { return compare(a, b) == 0; }

std::strong_ordering operator<=>(const Number& a, const Number& b) {
  const int c = compare(a, b);
  return c < 0 ? std::strong_ordering::less
               : (c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal);
}

// ----------------------------------------------------------------------------------- Map

Map::Map(std::initializer_list<value_type> init) {
  entries_.reserve(init.size());
  for (const auto& e : init) set(e.first, e.second);
}

const Value* Map::find(std::string_view name) const {
  for (const auto& e : entries_) {
    if (e.first == name) return &e.second;
  }
  return nullptr;
}

Value* Map::find(std::string_view name) {
  for (auto& e : entries_) {
    if (e.first == name) return &e.second;
  }
  return nullptr;
}

const Value& Map::at(std::string_view name) const {
  const Value* v = find(name);
  if (v == nullptr) throw std::out_of_range("model::Map has no attribute " + std::string(name));
  return *v;
}

void Map::set(std::string name, Value v) {
  if (Value* existing = find(name)) {
    *existing = std::move(v);
    return;
  }
  entries_.emplace_back(std::move(name), std::move(v));
}

bool Map::erase(std::string_view name) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->first == name) {
      entries_.erase(it);
      return true;
    }
  }
  return false;
}

namespace {

// Below this many entries a nested-loop lookup beats sorting.
constexpr size_t kSmall = 16;

bool maps_equal(const std::vector<Map::value_type>& a, const std::vector<Map::value_type>& b) {
  if (a.size() != b.size()) return false;
  if (a.size() <= kSmall) {
    for (size_t i = 0; i < a.size(); ++i) {
      // Same order is the common case: try the same position first.
      const Map::value_type* match = nullptr;
      if (b[i].first == a[i].first) {
        match = &b[i];
      } else {
        for (const auto& e : b) {
          if (e.first == a[i].first) {
            match = &e;
            break;
          }
        }
      }
      if (match == nullptr || !(match->second == a[i].second)) return false;
    }
    return true;
  }
  std::vector<const Map::value_type*> sa, sb;
  sa.reserve(a.size());
  sb.reserve(b.size());
  for (const auto& e : a) sa.push_back(&e);
  for (const auto& e : b) sb.push_back(&e);
  auto by_name = [](const Map::value_type* x, const Map::value_type* y) { return x->first < y->first; };
  std::sort(sa.begin(), sa.end(), by_name);
  std::sort(sb.begin(), sb.end(), by_name);
  for (size_t i = 0; i < sa.size(); ++i) {
    if (sa[i]->first != sb[i]->first || !(sa[i]->second == sb[i]->second)) return false;
  }
  return true;
}

// Set equality over members compared with `eq`, ordered with `less` for large sets.
// Duplicate members (only possible in values built by hand) count once, as in a set.
template <class T, class Eq, class Less>
bool sets_equal(const std::vector<T>& a, const std::vector<T>& b, Eq eq, Less less) {
  if (a.size() <= kSmall && b.size() <= kSmall) {
    auto contains = [&](const std::vector<T>& v, const T& x) {
      return std::any_of(v.begin(), v.end(), [&](const T& y) { return eq(x, y); });
    };
    return std::all_of(a.begin(), a.end(), [&](const T& x) { return contains(b, x); }) &&
           std::all_of(b.begin(), b.end(), [&](const T& x) { return contains(a, x); });
  }
  auto sorted = [&](const std::vector<T>& v) {
    std::vector<const T*> s;
    s.reserve(v.size());
    for (const auto& x : v) s.push_back(&x);
    std::sort(s.begin(), s.end(), [&](const T* x, const T* y) { return less(*x, *y); });
    s.erase(std::unique(s.begin(), s.end(), [&](const T* x, const T* y) { return eq(*x, *y); }),
            s.end());
    return s;
  };
  const auto sa = sorted(a);
  const auto sb = sorted(b);
  if (sa.size() != sb.size()) return false;
  for (size_t i = 0; i < sa.size(); ++i) {
    if (!eq(*sa[i], *sb[i])) return false;
  }
  return true;
}

bool string_sets_equal(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return sets_equal(a, b, std::equal_to<>(), std::less<>());
}

bool number_sets_equal(const std::vector<Number>& a, const std::vector<Number>& b) {
  return sets_equal(
      a, b, [](const Number& x, const Number& y) { return compare(x, y) == 0; },
      [](const Number& x, const Number& y) { return compare(x, y) < 0; });
}

}  // namespace

bool operator==(const Map& a, const Map& b) { return maps_equal(a.entries_, b.entries_); }

// --------------------------------------------------------------------------------- Value

Value Value::S(std::string s) { return make<0>(std::move(s)); }
Value Value::N(Number n) { return make<1>(std::move(n)); }
Value Value::B(std::string bytes) { return make<2>(std::move(bytes)); }
Value Value::SS(std::vector<std::string> members) { return make<3>(std::move(members)); }
Value Value::NS(std::vector<Number> members) { return make<4>(std::move(members)); }
Value Value::BS(std::vector<std::string> members) { return make<5>(std::move(members)); }
Value Value::M(Map m) { return make<6>(std::move(m)); }
Value Value::L(std::vector<Value> elements) { return make<7>(std::move(elements)); }
Value Value::Null() { return Value(); }
Value Value::Bool(bool b) { return make<9>(b); }

void Value::wrong_type(Type wanted) const {
  throw std::logic_error("model::Value: wanted type " + std::string(type_tag(wanted)) + ", value is " +
                         std::string(type_tag(type())));
}

const std::string& Value::as_s() const {
  if (auto* p = try_as_s()) return *p;
  wrong_type(Type::kS);
}
const Number& Value::as_n() const {
  if (auto* p = try_as_n()) return *p;
  wrong_type(Type::kN);
}
const std::string& Value::as_b() const {
  if (auto* p = try_as_b()) return *p;
  wrong_type(Type::kB);
}
const std::vector<std::string>& Value::as_ss() const {
  if (auto* p = try_as_ss()) return *p;
  wrong_type(Type::kSS);
}
const std::vector<Number>& Value::as_ns() const {
  if (auto* p = try_as_ns()) return *p;
  wrong_type(Type::kNS);
}
const std::vector<std::string>& Value::as_bs() const {
  if (auto* p = try_as_bs()) return *p;
  wrong_type(Type::kBS);
}
const Map& Value::as_m() const {
  if (auto* p = try_as_m()) return *p;
  wrong_type(Type::kM);
}
Map& Value::as_m() {
  if (auto* p = try_as_m()) return *p;
  wrong_type(Type::kM);
}
const std::vector<Value>& Value::as_l() const {
  if (auto* p = try_as_l()) return *p;
  wrong_type(Type::kL);
}
std::vector<Value>& Value::as_l() {
  if (auto* p = try_as_l()) return *p;
  wrong_type(Type::kL);
}
bool Value::as_bool() const {
  if (auto* p = try_as_bool()) return *p;
  wrong_type(Type::kBool);
}

namespace {

// Alternative I of a variant whose index the caller has checked.
template <size_t I, class V>
const auto& alt(const V& v) {
  const auto* p = std::get_if<I>(&v);
  if (p == nullptr) __builtin_unreachable();
  return *p;
}

}  // namespace

bool operator==(const Value& a, const Value& b) {
  if (a.v_.index() != b.v_.index()) return false;
  switch (a.type()) {
    case Type::kS: return alt<0>(a.v_) == alt<0>(b.v_);
    case Type::kN: return alt<1>(a.v_) == alt<1>(b.v_);
    case Type::kB: return alt<2>(a.v_) == alt<2>(b.v_);
    case Type::kSS: return string_sets_equal(alt<3>(a.v_), alt<3>(b.v_));
    case Type::kNS: return number_sets_equal(alt<4>(a.v_), alt<4>(b.v_));
    case Type::kBS: return string_sets_equal(alt<5>(a.v_), alt<5>(b.v_));
    case Type::kM: return alt<6>(a.v_) == alt<6>(b.v_);
    case Type::kL: return alt<7>(a.v_) == alt<7>(b.v_);
    case Type::kNull: return true;
    case Type::kBool: return alt<9>(a.v_) == alt<9>(b.v_);
  }
  return false;
}

}  // namespace dynarep::model
