// DynamoDB numbers (model::Number) against a small reference implementation written here.
//
// The input is one or two number texts separated by '|'. Properties: Number::parse accepts
// exactly what the reference accepts (syntax, at most 38 significant digits, a non-zero
// magnitude between 1E-130 and 9.99..E+125); text() is the input; canonical() parses to an
// equal number and is a fixed point; is_zero/is_negative/significant_digits agree with the
// reference; compare, ==, and <=> agree with the reference's order and with each other.
#include <compare>
#include <cstdint>
#include <optional>
#include <string>

#include "common/check.h"
#include "model/value.h"
#include "targets/targets.h"

namespace dynarep::fuzz {
namespace {

using model::Number;

struct Ref {
  bool negative = false;
  std::string digits;     // significant digits, no leading or trailing zeros; empty for zero
  std::int64_t lead = 0;  // power of ten of the first digit
};

bool digit(char c) { return c >= '0' && c <= '9'; }

// nullopt when DynamoDB would reject the text.
std::optional<Ref> reference(std::string_view s) {
  Ref r;
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) r.negative = s[i++] == '-';
  std::string mantissa;  // all digits, '.' removed
  std::int64_t int_digits = 0;
  while (i < s.size() && digit(s[i])) {
    mantissa += s[i++];
    ++int_digits;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && digit(s[i])) mantissa += s[i++];
  }
  if (mantissa.empty()) return std::nullopt;
  std::int64_t exp = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
    if (i >= s.size() || !digit(s[i])) return std::nullopt;
    while (i < s.size() && digit(s[i])) {
      if (exp < 1000000000000) exp = exp * 10 + (s[i] - '0');
      ++i;
    }
    if (eneg) exp = -exp;
  }
  if (i != s.size()) return std::nullopt;
  const std::size_t first = mantissa.find_first_not_of('0');
  if (first == std::string::npos) return Ref{};  // zero, any sign or exponent
  const std::size_t last = mantissa.find_last_not_of('0');
  r.digits = mantissa.substr(first, last - first + 1);
  r.lead = int_digits - 1 - static_cast<std::int64_t>(first) + exp;
  if (r.digits.size() > 38 || r.lead > 125 || r.lead < -130) return std::nullopt;
  return r;
}

int ref_compare(const Ref& a, const Ref& b) {
  const int sa = a.digits.empty() ? 0 : (a.negative ? -1 : 1);
  const int sb = b.digits.empty() ? 0 : (b.negative ? -1 : 1);
  if (sa != sb) return sa < sb ? -1 : 1;
  if (sa == 0) return 0;
  int mag = 0;
  if (a.lead != b.lead) {
    mag = a.lead < b.lead ? -1 : 1;
  } else {
    const int c = a.digits.compare(b.digits);  // no trailing zeros: lexicographic works
    mag = c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return sa < 0 ? -mag : mag;
}

int sign_of(std::strong_ordering o) { return o < 0 ? -1 : (o > 0 ? 1 : 0); }

std::optional<Number> check_one(std::string_view text) {
  auto n = Number::parse(text);
  const auto ref = reference(text);
  FUZZ_CHECK(n.ok() == ref.has_value(), "Number::parse(\"" + printable(text) + "\") " +
                                            (n.ok() ? "accepts" : "rejects: " + n.error().message) +
                                            ", the reference does the opposite");
  if (!n.ok()) {
    FUZZ_CHECK(n.error().kind == ErrorKind::kInvalidInput && !n.error().message.empty(), "unclean error");
    return std::nullopt;
  }
  FUZZ_CHECK(n->text() == text, "text() is not the input");
  const std::string canon = n->canonical();
  auto c = Number::parse(canon);
  FUZZ_CHECK(c.ok(), "canonical \"" + canon + "\" of \"" + printable(text) + "\" does not parse");
  FUZZ_CHECK(*c == *n && model::compare(*c, *n) == 0, "canonical \"" + canon + "\" is another value");
  FUZZ_CHECK(c->canonical() == canon, "canonical() is not a fixed point: " + canon);
  FUZZ_CHECK(n->is_zero() == ref->digits.empty(), "is_zero is wrong for " + printable(text));
  FUZZ_CHECK(n->is_negative() == (ref->negative && !ref->digits.empty()), "is_negative is wrong for " + printable(text));
  FUZZ_CHECK(n->significant_digits() == static_cast<int>(ref->digits.size()),
             "significant_digits is wrong for " + printable(text));
  FUZZ_CHECK(ref_compare(*reference(canon), *ref) == 0, "canonical \"" + canon + "\" differs in the reference");
  return std::move(n).value();
}

}  // namespace

void number(std::string_view data) {
  const std::size_t bar = data.find('|');
  const std::string_view first = data.substr(0, bar);
  auto a = check_one(first);
  if (bar == std::string_view::npos) return;
  const std::string_view second = data.substr(bar + 1);
  auto b = check_one(second);
  if (!a || !b) return;
  const int expected = ref_compare(*reference(first), *reference(second));
  const int got = model::compare(*a, *b);
  const int got_sign = got < 0 ? -1 : (got > 0 ? 1 : 0);
  FUZZ_CHECK(got_sign == expected, "compare(" + printable(first) + ", " + printable(second) + ") = " +
                                       std::to_string(got) + ", the reference says " + std::to_string(expected));
  const int back = model::compare(*b, *a);
  FUZZ_CHECK((back < 0 ? -1 : (back > 0 ? 1 : 0)) == -expected, "compare is not antisymmetric");
  FUZZ_CHECK((*a == *b) == (expected == 0), "operator== disagrees with the order");
  FUZZ_CHECK(sign_of(*a <=> *b) == expected, "operator<=> disagrees with compare");
  FUZZ_CHECK((a->canonical() == b->canonical()) == (expected == 0), "canonical() is not unique per value");
}

}  // namespace dynarep::fuzz
