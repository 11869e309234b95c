#include "aws/xml.h"

#include <cstdint>
#include <cstring>

#include <fmt/format.h>

namespace dynarep::aws::xml {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool is_name_start(char c) {
  auto u = static_cast<unsigned char>(c);
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' || u >= 0x80;
}

bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Length of the valid UTF-8 sequence at s[i] (RFC 3629: no overlongs, no surrogates, at most
// U+10FFFF), or 0 if it is not one.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(k) & 0x3F);
  }
  if (n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return 0;
  if (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return 0;
  if (n == 3 && (cp == 0xFFFE || cp == 0xFFFF)) return 0;  // not XML characters
  return n;
}

class Parser {
 public:
  Parser(std::string_view doc, ParseOptions options) : doc_(doc), options_(options) {}

  Result<Element> run() {
    DR_TRY(check_characters());
    if (doc_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    if (starts_with("<?xml") && pos_ + 5 < doc_.size() &&
        (is_space(doc_[pos_ + 5]) || doc_[pos_ + 5] == '?')) {
      DR_TRY(parse_declaration());
    }
    DR_TRY(parse_misc());
    if (at_end()) return error("no root element");
    if (starts_with("<!DOCTYPE")) return error("DOCTYPE is not allowed");
    if (peek() != '<') return error("text before the root element");
    Element root;
    DR_TRY(parse_element(root, 1));
    DR_TRY(parse_misc());
    if (!at_end()) return error("content after the root element");
    return root;
  }

 private:
  bool at_end() const { return pos_ >= doc_.size(); }
  char peek() const { return doc_[pos_]; }
  bool starts_with(std::string_view s) const { return doc_.substr(pos_, s.size()) == s; }
  void skip_space() {
    while (!at_end() && is_space(peek())) ++pos_;
  }

  Error error_at(std::size_t offset, std::string_view what) const {
    std::size_t line = 1, col = 1;
    for (std::size_t i = 0; i < offset && i < doc_.size(); ++i) {
      if (doc_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return Error(ErrorKind::kInvalidInput, "MalformedXML",
                 fmt::format("XML line {} column {}: {}", line, col, what));
  }
  Error error(std::string_view what) const { return error_at(pos_, what); }

  // XML 1.0 §2.2 Char: the document is UTF-8 text without control characters other than
  // tab, newline and carriage return. Checked once, up front, so the parser can then work on
  // bytes.
  Status check_characters() const {
    for (std::size_t i = 0; i < doc_.size();) {
      auto c = static_cast<unsigned char>(doc_[i]);
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
        return error_at(i, fmt::format("control character 0x{:02x} is not allowed", c));
      }
      std::size_t n = utf8_sequence_length(doc_, i);
      if (n == 0) return error_at(i, "invalid UTF-8");
      i += n;
    }
    return {};
  }

  Status parse_declaration() {
    pos_ += 5;  // "<?xml"
    for (;;) {
      skip_space();
      if (at_end()) return error("unterminated XML declaration");
      if (starts_with("?>")) {
        pos_ += 2;
        return {};
      }
      std::string name, value;
      DR_TRY(parse_attribute(name, value));
      if (name == "encoding") {
        std::string lower;
        for (char c : value) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
        if (lower != "utf-8" && lower != "utf8") {
          return error(fmt::format("unsupported encoding '{}' (only UTF-8)", value));
        }
      }
    }
  }

  // Comments, processing instructions and whitespace, outside the root element.
  Status parse_misc() {
    for (;;) {
      skip_space();
      if (starts_with("<!--")) {
        DR_TRY(parse_comment());
      } else if (starts_with("<?")) {
        DR_TRY(parse_pi());
      } else {
        return {};
      }
    }
  }

  Status parse_comment() {
    const std::size_t start = pos_;
    pos_ += 4;
    std::size_t end = doc_.find("--", pos_);
    if (end == std::string_view::npos) return error_at(start, "unterminated comment");
    if (end + 2 >= doc_.size() || doc_[end + 2] != '>') return error_at(end, "'--' inside a comment");
    pos_ = end + 3;
    return {};
  }

  Status parse_pi() {
    const std::size_t start = pos_;
    pos_ += 2;
    std::string target;
    DR_TRY(parse_name(target));
    std::string lower;
    for (char c : target) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    if (lower == "xml") return error_at(start, "XML declaration not at the start of the document");
    std::size_t end = doc_.find("?>", pos_);
    if (end == std::string_view::npos) return error_at(start, "unterminated processing instruction");
    pos_ = end + 2;
    return {};
  }

  Status parse_name(std::string& out) {
    if (at_end() || !is_name_start(peek())) {
      return error(at_end() ? "unexpected end of document, expected a name"
                            : fmt::format("expected a name, found '{}'", peek()));
    }
    const std::size_t start = pos_;
    while (!at_end() && is_name_char(peek())) ++pos_;
    out.assign(doc_.substr(start, pos_ - start));
    return {};
  }

  // Appends raw character data, normalising line ends as XML 1.0 §2.11 requires
  // ("\r\n" and a lone "\r" become "\n").
  static void append_text(std::string& out, std::string_view raw) {
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\r') {
        out += '\n';
        if (i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
      } else {
        out += raw[i];
      }
    }
  }

  // At '&': decodes one entity or character reference into `out`.
  Status parse_reference(std::string& out) {
    const std::size_t start = pos_;
    std::size_t semi = doc_.find(';', pos_);
    if (semi == std::string_view::npos || semi - pos_ > 12) {
      return error_at(start, "unterminated entity reference (no ';')");
    }
    std::string_view ref = doc_.substr(pos_ + 1, semi - pos_ - 1);
    pos_ = semi + 1;
    if (ref == "amp") {
      out += '&';
    } else if (ref == "lt") {
      out += '<';
    } else if (ref == "gt") {
      out += '>';
    } else if (ref == "quot") {
      out += '"';
    } else if (ref == "apos") {
      out += '\'';
    } else if (!ref.empty() && ref[0] == '#') {
      std::string_view digits = ref.substr(1);
      int base = 10;
      if (!digits.empty() && digits[0] == 'x') {
        base = 16;
        digits.remove_prefix(1);
      }
      if (digits.empty()) return error_at(start, fmt::format("empty character reference &{};", ref));
      std::uint32_t cp = 0;
      for (char c : digits) {
        int d = -1;
        if (c >= '0' && c <= '9') d = c - '0';
        if (base == 16 && c >= 'a' && c <= 'f') d = c - 'a' + 10;
        if (base == 16 && c >= 'A' && c <= 'F') d = c - 'A' + 10;
        if (d < 0) return error_at(start, fmt::format("invalid character reference &{};", ref));
        cp = cp * static_cast<std::uint32_t>(base) + static_cast<std::uint32_t>(d);
        if (cp > 0x10FFFF) break;
      }
      // Any Unicode scalar value except NUL: stricter than S3 is of no use to us, and S3
      // writes control characters in keys as references.
      if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return error_at(start, fmt::format("character reference &{}; is not a valid character", ref));
      }
      append_utf8(out, cp);
    } else {
      return error_at(start, fmt::format("undefined entity &{};", ref));
    }
    return {};
  }

  // name = "value" | 'value'. Values are decoded and their whitespace characters become
  // spaces (XML 1.0 §3.3.3, CDATA attribute normalisation).
  Status parse_attribute(std::string& name, std::string& value) {
    DR_TRY(parse_name(name));
    skip_space();
    if (at_end() || peek() != '=') return error(fmt::format("expected '=' after attribute {}", name));
    ++pos_;
    skip_space();
    if (at_end() || (peek() != '"' && peek() != '\'')) {
      return error(fmt::format("expected a quoted value for attribute {}", name));
    }
    const char quote = peek();
    const std::size_t start = pos_;
    ++pos_;
    value.clear();
    for (;;) {
      if (at_end()) return error_at(start, fmt::format("unterminated value of attribute {}", name));
      char c = peek();
      if (c == quote) {
        ++pos_;
        return {};
      }
      if (c == '<') return error(fmt::format("'<' in the value of attribute {}", name));
      if (c == '&') {
        DR_TRY(parse_reference(value));
        continue;
      }
      if (c == '\r' && pos_ + 1 < doc_.size() && doc_[pos_ + 1] == '\n') ++pos_;
      value += is_space(c) ? ' ' : c;
      ++pos_;
    }
  }

  Status parse_element(Element& e, std::size_t depth) {
    if (depth > options_.max_depth) {
      return error(fmt::format("elements nested deeper than {}", options_.max_depth));
    }
    const std::size_t open = pos_;
    ++pos_;  // '<'
    DR_TRY(parse_name(e.name));
    // Attributes.
    for (;;) {
      const bool had_space = !at_end() && is_space(peek());
      skip_space();
      if (at_end()) return error_at(open, fmt::format("unterminated start tag <{}", e.name));
      if (starts_with("/>")) {
        pos_ += 2;
        return {};
      }
      if (peek() == '>') {
        ++pos_;
        break;
      }
      if (!had_space) return error(fmt::format("expected whitespace, '>' or '/>' in <{}>", e.name));
      if (e.attributes.size() >= options_.max_attributes) {
        return error(fmt::format("more than {} attributes in <{}>", options_.max_attributes, e.name));
      }
      std::string name, value;
      const std::size_t attr_at = pos_;
      DR_TRY(parse_attribute(name, value));
      for (const auto& [n, v] : e.attributes) {
        if (n == name) return error_at(attr_at, fmt::format("duplicate attribute {} in <{}>", name, e.name));
      }
      e.attributes.emplace_back(std::move(name), std::move(value));
    }
    // Content.
    for (;;) {
      if (at_end()) return error_at(open, fmt::format("element <{}> is not closed", e.name));
      const char c = peek();
      if (c == '<') {
        if (starts_with("</")) {
          const std::size_t close = pos_;
          pos_ += 2;
          std::string name;
          DR_TRY(parse_name(name));
          if (name != e.name) {
            return error_at(close, fmt::format("</{}> does not match <{}>", name, e.name));
          }
          skip_space();
          if (at_end() || peek() != '>') return error(fmt::format("expected '>' to end </{}", name));
          ++pos_;
          break;
        }
        if (starts_with("<!--")) {
          DR_TRY(parse_comment());
        } else if (starts_with("<![CDATA[")) {
          const std::size_t start = pos_;
          pos_ += 9;
          std::size_t end = doc_.find("]]>", pos_);
          if (end == std::string_view::npos) return error_at(start, "unterminated CDATA section");
          append_text(e.text, doc_.substr(pos_, end - pos_));
          pos_ = end + 3;
        } else if (starts_with("<?")) {
          DR_TRY(parse_pi());
        } else if (starts_with("<!")) {
          return error(fmt::format("unexpected '<!' inside <{}>", e.name));
        } else {
          e.children.emplace_back();
          DR_TRY(parse_element(e.children.back(), depth + 1));
        }
      } else if (c == '&') {
        DR_TRY(parse_reference(e.text));
      } else {
        const std::size_t start = pos_;
        while (!at_end() && peek() != '<' && peek() != '&') ++pos_;
        std::string_view run = doc_.substr(start, pos_ - start);
        if (std::size_t bad = run.find("]]>"); bad != std::string_view::npos) {
          return error_at(start + bad, "']]>' in character data");
        }
        append_text(e.text, run);
      }
    }
    if (!e.children.empty()) {
      bool blank = true;
      for (char ch : e.text) blank = blank && is_space(ch);
      if (blank) e.text.clear();
    }
    return {};
  }

  std::string_view doc_;
  ParseOptions options_;
  std::size_t pos_ = 0;
};

}  // namespace

const Element* Element::child(std::string_view child_name) const {
  for (const auto& c : children) {
    if (c.name == child_name) return &c;
  }
  return nullptr;
}

std::vector<const Element*> Element::children_named(std::string_view child_name) const {
  std::vector<const Element*> out;
  for (const auto& c : children) {
    if (c.name == child_name) out.push_back(&c);
  }
  return out;
}

std::optional<std::string_view> Element::child_text(std::string_view child_name) const {
  const Element* c = child(child_name);
  if (c == nullptr) return std::nullopt;
  return std::string_view(c->text);
}

std::optional<std::string_view> Element::attribute(std::string_view attr_name) const {
  for (const auto& [n, v] : attributes) {
    if (n == attr_name) return std::string_view(v);
  }
  return std::nullopt;
}

Result<Element> parse(std::string_view document, ParseOptions options) {
  return Parser(document, options).run();
}

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    // U+FFFE and U+FFFF are not XML Chars written raw, but a key may hold them (S3 lists them
    // as references, and parse() reads those): write them back the same way.
    if (c == '\xEF' && i + 2 < text.size() && text[i + 1] == '\xBF' &&
        (text[i + 2] == '\xBE' || text[i + 2] == '\xBF')) {
      out += text[i + 2] == '\xBE' ? "&#xFFFE;" : "&#xFFFF;";
      i += 2;
      continue;
    }
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      // A raw "\r" would be read back as "\n" (XML line-end normalisation).
      case '\r': out += "&#13;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
          out += fmt::format("&#{};", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace dynarep::aws::xml
