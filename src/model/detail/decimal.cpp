#include "model/detail/decimal.h"

#include <algorithm>
#include <cstring>

namespace dynarep::model::detail {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Exponents beyond this are out of range whatever the digits; saturating here keeps the
// arithmetic below far from int64 overflow for texts of any length.
constexpr int64_t kExponentSaturation = int64_t{1} << 40;

}  // namespace

DecimalError decompose(std::string_view s, Decimal* out) {
  *out = Decimal{};
  const size_t len = s.size();
  size_t i = 0;
  bool negative = false;
  if (i < len && (s[i] == '+' || s[i] == '-')) {
    negative = s[i] == '-';
    ++i;
  }
  const size_t int_begin = i;
  while (i < len && is_digit(s[i])) ++i;
  const size_t int_len = i - int_begin;
  size_t frac_begin = i;
  size_t frac_len = 0;
  if (i < len && s[i] == '.') {
    ++i;
    frac_begin = i;
    while (i < len && is_digit(s[i])) ++i;
    frac_len = i - frac_begin;
  }
  if (int_len + frac_len == 0) return DecimalError::kSyntax;
  int64_t exponent = 0;
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < len && (s[i] == '+' || s[i] == '-')) {
      exp_negative = s[i] == '-';
      ++i;
    }
    if (i >= len || !is_digit(s[i])) return DecimalError::kSyntax;
    while (i < len && is_digit(s[i])) {
      if (exponent < kExponentSaturation) exponent = exponent * 10 + (s[i] - '0');
      ++i;
    }
    if (exp_negative) exponent = -exponent;
  }
  if (i != len) return DecimalError::kSyntax;

  // Find the first and last significant digits as offsets into `s` (skipping the '.').
  const size_t int_end = int_begin + int_len;
  const size_t frac_end = frac_begin + frac_len;
  size_t first = int_begin;
  while (first < int_end && s[first] == '0') ++first;
  int64_t lead;
  if (first < int_end) {
    lead = static_cast<int64_t>(int_end - 1 - first);
  } else {
    first = frac_begin;
    while (first < frac_end && s[first] == '0') ++first;
    if (first == frac_end) return DecimalError::kNone;  // zero, whatever the sign and exponent
    lead = -static_cast<int64_t>(first - frac_begin + 1);
  }
  size_t last = frac_end;  // one past
  while (last > frac_begin && s[last - 1] == '0') --last;
  if (last == frac_begin) {  // the fraction is all zeros (or absent): the last digit is in the integer
    last = int_end;
    while (s[last - 1] == '0') --last;
  }
  const bool spans_dot = first < int_end && last > frac_begin && frac_len > 0;
  const size_t n = last - first - (spans_dot ? 1 : 0);

  out->negative = negative;
  out->digits = n > static_cast<size_t>(Decimal::kMaxDigits) ? Decimal::kMaxDigits + 1 : static_cast<int>(n);
  out->lead_exponent = lead + exponent;
  if (n > static_cast<size_t>(Decimal::kMaxDigits)) return DecimalError::kTooManyDigits;
  if (out->lead_exponent > 125) return DecimalError::kOverflow;
  if (out->lead_exponent < -130) return DecimalError::kUnderflow;
  if (spans_dot) {
    std::memcpy(out->digit, s.data() + first, int_end - first);
    std::memcpy(out->digit + (int_end - first), s.data() + frac_begin, last - frac_begin);
  } else {
    std::memcpy(out->digit, s.data() + first, n);
  }
  return DecimalError::kNone;
}

int compare(const Decimal& a, const Decimal& b) {
  const int sa = a.digits == 0 ? 0 : (a.negative ? -1 : 1);
  const int sb = b.digits == 0 ? 0 : (b.negative ? -1 : 1);
  if (sa != sb) return sa < sb ? -1 : 1;
  if (sa == 0) return 0;
  // Same sign: compare magnitudes, then flip for negatives.
  int mag = 0;
  if (a.lead_exponent != b.lead_exponent) {
    mag = a.lead_exponent < b.lead_exponent ? -1 : 1;
  } else {
    const int n = std::min(a.digits, b.digits);
    const int c = std::memcmp(a.digit, b.digit, static_cast<size_t>(n));
    if (c != 0) {
      mag = c < 0 ? -1 : 1;
    } else if (a.digits != b.digits) {
      // No trailing zeros: the longer one has a further non-zero digit.
      mag = a.digits < b.digits ? -1 : 1;
    }
  }
  return sa < 0 ? -mag : mag;
}

void append_canonical(std::string& out, const Decimal& d) {
  if (d.digits == 0) {
    out += '0';
    return;
  }
  if (d.negative) out += '-';
  const int n = d.digits;
  const int64_t e = d.lead_exponent;
  if (e >= -7 && e <= 20) {
    if (e >= 0) {
      const int int_digits = static_cast<int>(e) + 1;
      if (n <= int_digits) {
        out.append(d.digit, static_cast<size_t>(n));
        out.append(static_cast<size_t>(int_digits - n), '0');
      } else {
        out.append(d.digit, static_cast<size_t>(int_digits));
        out += '.';
        out.append(d.digit + int_digits, static_cast<size_t>(n - int_digits));
      }
    } else {
      out += "0.";
      out.append(static_cast<size_t>(-e - 1), '0');
      out.append(d.digit, static_cast<size_t>(n));
    }
    return;
  }
  out += d.digit[0];
  if (n > 1) {
    out += '.';
    out.append(d.digit + 1, static_cast<size_t>(n - 1));
  }
  out += 'E';
  out += e >= 0 ? '+' : '-';
  out += std::to_string(e >= 0 ? e : -e);
}

}  // namespace dynarep::model::detail
