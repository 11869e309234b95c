#include "model/detail/json_reader.h"

namespace dynarep::model::detail {

const char* kind_name(JsonNode::Kind kind) {
  switch (kind) {
    case JsonNode::Kind::kNull: return "null";
    case JsonNode::Kind::kBool: return "boolean";
    case JsonNode::Kind::kNumber: return "number";
    case JsonNode::Kind::kString: return "string";
    case JsonNode::Kind::kArray: return "array";
    case JsonNode::Kind::kObject: return "object";
  }
  return "?";
}

namespace {

class Reader {
 public:
  Reader(std::string_view text, JsonSyntaxError* error, int max_depth)
      : s_(text), error_(error), max_depth_(max_depth) {}

  bool document(JsonNode* out) {
    skip_ws();
    if (pos_ == s_.size()) return fail("empty input");
    if (!value(out, 0)) return false;
    skip_ws();
    if (pos_ != s_.size()) return fail("unexpected data after the JSON value");
    return true;
  }

 private:
  bool fail(std::string reason) {
    error_->offset = pos_;
    error_->reason = std::move(reason);
    return false;
  }
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return s_[pos_]; }
  void skip_ws() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++pos_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return fail("invalid literal");
    pos_ += word.size();
    return true;
  }

  bool value(JsonNode* out, int depth) {
    skip_ws();
    if (at_end()) return fail("unexpected end of input, expected a value");
    out->offset = pos_;
    switch (peek()) {
      case '{': return object(out, depth + 1);
      case '[': return array(out, depth + 1);
      case '"':
        out->kind = JsonNode::Kind::kString;
        return string(&out->text);
      case 't':
        out->kind = JsonNode::Kind::kBool;
        out->boolean = true;
        return literal("true");
      case 'f':
        out->kind = JsonNode::Kind::kBool;
        out->boolean = false;
        return literal("false");
      case 'n':
        out->kind = JsonNode::Kind::kNull;
        return literal("null");
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return number(out);
        return fail(std::string("unexpected character '") + printable(peek()) + "', expected a value");
    }
  }

  static std::string printable(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) return std::string(1, c);
    static constexpr char kHex[] = "0123456789abcdef";
    return std::string("\\x") + kHex[u >> 4] + kHex[u & 0xF];
  }

  bool object(JsonNode* out, int depth) {
    if (depth > max_depth_) return fail("nesting deeper than " + std::to_string(max_depth_));
    out->kind = JsonNode::Kind::kObject;
    ++pos_;  // '{'
    skip_ws();
    if (!at_end() && peek() == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      skip_ws();
      if (at_end()) return fail("unexpected end of input in an object");
      if (peek() != '"') return fail("expected a member name in double quotes");
      std::string name;
      if (!string(&name)) return false;
      skip_ws();
      if (at_end() || peek() != ':') return fail("expected ':' after a member name");
      ++pos_;
      out->members.emplace_back(std::move(name), JsonNode{});
      if (!value(&out->members.back().second, depth)) return false;
      skip_ws();
      if (at_end()) return fail("unexpected end of input in an object");
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or '}' in an object");
    }
  }

  bool array(JsonNode* out, int depth) {
    if (depth > max_depth_) return fail("nesting deeper than " + std::to_string(max_depth_));
    out->kind = JsonNode::Kind::kArray;
    ++pos_;  // '['
    skip_ws();
    if (!at_end() && peek() == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      out->elements.emplace_back();
      if (!value(&out->elements.back(), depth)) return false;
      skip_ws();
      if (at_end()) return fail("unexpected end of input in an array");
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or ']' in an array");
    }
  }

  bool digits() {
    const size_t start = pos_;
    while (!at_end() && peek() >= '0' && peek() <= '9') ++pos_;
    return pos_ > start;
  }

  // RFC 8259 §6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  bool number(JsonNode* out) {
    const size_t start = pos_;
    if (peek() == '-') ++pos_;
    if (at_end()) return fail("unexpected end of input in a number");
    if (peek() == '0') {
      ++pos_;
      if (!at_end() && peek() >= '0' && peek() <= '9') return fail("leading zero in a number");
    } else if (!digits()) {
      return fail("expected a digit in a number");
    }
    if (!at_end() && peek() == '.') {
      ++pos_;
      if (!digits()) return fail("expected a digit after '.' in a number");
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
      ++pos_;
      if (!at_end() && (peek() == '+' || peek() == '-')) ++pos_;
      if (!digits()) return fail("expected a digit in a number's exponent");
    }
    out->kind = JsonNode::Kind::kNumber;
    out->text.assign(s_.substr(start, pos_ - start));
    return true;
  }

  static void append_utf8(std::string* out, uint32_t cp) {
    if (cp < 0x80) {
      *out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      *out += static_cast<char>(0xC0 | (cp >> 6));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      *out += static_cast<char>(0xE0 | (cp >> 12));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      *out += static_cast<char>(0xF0 | (cp >> 18));
      *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool hex4(uint32_t* cp) {
    if (s_.size() - pos_ < 4) return fail("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return fail("invalid hex digit in a \\u escape");
      }
      ++pos_;
    }
    *cp = v;
    return true;
  }

  // The length of the valid UTF-8 sequence at pos_ (2..4), or 0.
  size_t utf8_sequence() const {
    auto byte = [&](size_t k) -> unsigned {
      return pos_ + k < s_.size() ? static_cast<unsigned char>(s_[pos_ + k]) : 0u;
    };
    auto cont = [&](size_t k) { return (byte(k) & 0xC0u) == 0x80u; };
    const unsigned b0 = byte(0);
    const unsigned b1 = byte(1);
    if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
    if (b0 >= 0xE0 && b0 <= 0xEF) {
      const unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80;
      const unsigned hi = b0 == 0xED ? 0x9F : 0xBF;  // no UTF-16 surrogates
      return b1 >= lo && b1 <= hi && cont(2) ? 3 : 0;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
      const unsigned lo = b0 == 0xF0 ? 0x90 : 0x80;
      const unsigned hi = b0 == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
      return b1 >= lo && b1 <= hi && cont(2) && cont(3) ? 4 : 0;
    }
    return 0;
  }

  bool string(std::string* out) {
    ++pos_;  // '"'
    out->clear();
    while (true) {
      if (at_end()) return fail("unterminated string");
      const auto c = static_cast<unsigned char>(peek());
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return fail("unescaped control character in a string");
      if (c == '\\') {
        ++pos_;
        if (at_end()) return fail("unterminated escape in a string");
        const char e = peek();
        ++pos_;
        switch (e) {
          case '"': *out += '"'; break;
          case '\\': *out += '\\'; break;
          case '/': *out += '/'; break;
          case 'b': *out += '\b'; break;
          case 'f': *out += '\f'; break;
          case 'n': *out += '\n'; break;
          case 'r': *out += '\r'; break;
          case 't': *out += '\t'; break;
          case 'u': {
            const size_t escape_at = pos_ - 2;
            uint32_t cp = 0;
            if (!hex4(&cp)) return false;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              uint32_t low = 0;
              if (s_.substr(pos_, 2) != "\\u") {
                pos_ = escape_at;
                return fail("lone UTF-16 surrogate in a \\u escape");
              }
              pos_ += 2;
              if (!hex4(&low)) return false;
              if (low < 0xDC00 || low > 0xDFFF) {
                pos_ = escape_at;
                return fail("lone UTF-16 surrogate in a \\u escape");
              }
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
              pos_ = escape_at;
              return fail("lone UTF-16 surrogate in a \\u escape");
            }
            append_utf8(out, cp);
            break;
          }
          default:
            pos_ -= 2;
            return fail("invalid escape in a string");
        }
        continue;
      }
      if (c < 0x80) {
        *out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      const size_t n = utf8_sequence();
      if (n == 0) return fail("invalid UTF-8 in a string");
      out->append(s_.substr(pos_, n));
      pos_ += n;
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
  JsonSyntaxError* error_;
  int max_depth_;
};

}  // namespace

bool parse_json(std::string_view text, JsonNode* out, JsonSyntaxError* error, int max_depth) {
  *out = JsonNode{};
  return Reader(text, error, max_depth).document(out);
}

}  // namespace dynarep::model::detail
