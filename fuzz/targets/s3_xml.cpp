// The S3 XML reader (aws/xml.h). The first input byte picks the parse options (low nibble:
// max_depth 1..15 or the default 32; high nibble: max_attributes 0..14 or the default 64),
// the rest is the document.
//
// Properties: failures are clean kInvalidInput errors with code "MalformedXML" naming a line
// and column; a parsed tree respects the options; written back out with xml::escape it parses
// to the same tree; and, for the rest of the input as text, <a>escape(text)</a> reads back as
// that text whenever XML can carry it (valid UTF-8 without NUL, U+FFFE or U+FFFF).
#include "common/check.h"
#include "aws/xml.h"
#include "targets/targets.h"

namespace dynarep::fuzz {
namespace {

using aws::xml::Element;

std::size_t depth_of(const Element& e) {
  std::size_t d = 0;
  for (const auto& c : e.children) d = std::max(d, depth_of(c));
  return d + 1;
}

void check_limits(const Element& e, const aws::xml::ParseOptions& o) {
  FUZZ_CHECK(e.attributes.size() <= o.max_attributes, "more attributes than max_attributes");
  FUZZ_CHECK(!e.name.empty(), "element without a name");
  for (const auto& c : e.children) check_limits(c, o);
}

// xml::escape leaves U+FFFE and U+FFFF raw, which parse() rejects as text while it accepts
// them as the references &#xFFFE; and &#xFFFF; (reported; tests/fuzz_regressions
// S3Xml.EscapeCarriesEveryTextParseProduces). Written as references here, so the round trip
// keeps checking everything else.
std::string escape_text(std::string_view v) {
  std::string out = aws::xml::escape(v);
  for (const char* nonchar : {"\xEF\xBF\xBE", "\xEF\xBF\xBF"}) {
    for (std::size_t at = out.find(nonchar); at != std::string::npos; at = out.find(nonchar, at)) {
      out.replace(at, 3, nonchar[2] == '\xBE' ? "&#xFFFE;" : "&#xFFFF;");
    }
  }
  return out;
}

// Attribute values: raw tab and newline would be read back as spaces (XML 1.0 §3.3.3), so
// they go as character references on top of what xml::escape does.
std::string escape_attribute(std::string_view v) {
  std::string out;
  for (char c : escape_text(v)) {
    if (c == '\t') {
      out += "&#9;";
    } else if (c == '\n') {
      out += "&#10;";
    } else {
      out += c;
    }
  }
  return out;
}

void write(std::string& out, const Element& e) {
  out += '<';
  out += e.name;
  for (const auto& [n, v] : e.attributes) {
    out += ' ';
    out += n;
    out += "=\"";
    out += escape_attribute(v);
    out += '"';
  }
  out += '>';
  out += escape_text(e.text);
  for (const auto& c : e.children) write(out, c);
  out += "</";
  out += e.name;
  out += '>';
}

bool same(const Element& a, const Element& b) {
  if (a.name != b.name || a.attributes != b.attributes || a.text != b.text || a.children.size() != b.children.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.children.size(); ++i) {
    if (!same(a.children[i], b.children[i])) return false;
  }
  return true;
}

void check_error(const Error& e) {
  FUZZ_CHECK(e.kind == ErrorKind::kInvalidInput && e.code == "MalformedXML", "unclean error: " + e.describe());
  FUZZ_CHECK(e.message.starts_with("XML line "), "error does not name a line: " + e.message);
}

// Valid UTF-8 without the code points XML cannot carry even as references.
bool xml_text(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
    if (n == 0 || i + n > s.size() || c == 0) return false;
    std::uint32_t cp = n == 1 ? c : (c & (0xFF >> (n + 1)));
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF) ||
        cp == 0xFFFE || cp == 0xFFFF) {
      return false;
    }
    i += n;
  }
  return true;
}

}  // namespace

void s3_xml(std::string_view data) {
  Bytes in(data);
  const std::uint8_t opt = in.u8();
  aws::xml::ParseOptions options;
  if ((opt & 0x0F) != 0) options.max_depth = opt & 0x0F;
  if ((opt >> 4) != 0x0F) options.max_attributes = opt >> 4;
  const std::string_view doc = in.rest();

  auto r = aws::xml::parse(doc, options);
  if (!r.ok()) {
    check_error(r.error());
  } else {
    FUZZ_CHECK(depth_of(*r) <= options.max_depth, "tree deeper than max_depth");
    check_limits(*r, options);
    (void)r->child("Key");
    (void)r->children_named("Contents");
    (void)r->child_text("Code");
    (void)r->attribute("xmlns");
    std::string out;
    write(out, *r);
    auto again = aws::xml::parse(out, options);
    FUZZ_CHECK(again.ok(), "a parsed tree written back does not parse: " + printable(out) + ": " +
                               again.error().describe());
    FUZZ_CHECK(same(*again, *r), "a parsed tree written back reads differently: " + printable(out));
  }

  // xml::escape carries any text XML can hold (S3 keys in DeleteObjects bodies).
  if (xml_text(doc)) {
    const std::string wrapped = "<a>" + aws::xml::escape(doc) + "</a>";
    auto t = aws::xml::parse(wrapped);
    FUZZ_CHECK(t.ok(), "escaped text does not parse: " + printable(wrapped) + ": " + t.error().describe());
    FUZZ_CHECK(t->text == doc, "escaped text reads back differently: " + printable(doc));
  }
}

}  // namespace dynarep::fuzz
