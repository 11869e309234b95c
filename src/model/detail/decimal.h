// The decomposition of a DynamoDB number's text into sign, significant digits and the exponent
// of the leading digit. Shared by Number (validation, ordering, canonical text) and item_size.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dynarep::model::detail {

enum class DecimalError : uint8_t { kNone, kSyntax, kTooManyDigits, kOverflow, kUnderflow };

struct Decimal {
  static constexpr int kMaxDigits = 38;
  bool negative = false;  // false for zero
  int digits = 0;         // significant digits, leading/trailing zeros trimmed; 0 for zero
  int64_t lead_exponent = 0;  // value = 0.d1d2..dn * 10^(lead_exponent + 1)
  char digit[kMaxDigits] = {};  // the significant digits, ASCII; only when valid
};

// Parses and validates `text`. On kTooManyDigits / kOverflow / kUnderflow `out->digits` and
// `out->lead_exponent` still describe the value (the digit array is left partial).
DecimalError decompose(std::string_view text, Decimal* out);

// Total order by value: <0, 0, >0.
int compare(const Decimal& a, const Decimal& b);

// The canonical text (see Number::canonical()), appended to `out`.
void append_canonical(std::string& out, const Decimal& d);

}  // namespace dynarep::model::detail
