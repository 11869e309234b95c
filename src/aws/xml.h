// A small, strict XML reader for the documents S3 sends (ListBucketResult, Error,
// InitiateMultipartUploadResult, DeleteResult, ...) and STS's Query-protocol answers
// (AssumeRoleResponse). It reads a whole document into a tree. It lives in aws, below s3,
// because the credentials chain (STS) needs it too.
//
// Accepted: an optional UTF-8 BOM and XML declaration (encoding, if named, must be UTF-8),
// comments and processing instructions outside and inside elements, one root element,
// attributes ('...' or "..."), character data, CDATA sections, the five predefined entities
// (&amp; &lt; &gt; &quot; &apos;) and character references (&#NN; &#xHH;).
// Rejected with an error naming line and column: DOCTYPE (so no entity expansion, no external
// entities), undefined entities, mismatched or unclosed tags, duplicate attributes, invalid
// UTF-8, control characters, text outside the root, nesting deeper than max_depth, more
// than max_attributes on one element.
// Character data is kept exactly (S3 keys may begin or end with spaces), except that the
// whitespace-only text between child elements is dropped.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace dynarep::aws::xml {

struct Element {
  std::string name;  // as written, prefix included ("ListBucketResult", "x:Foo")
  std::vector<std::pair<std::string, std::string>> attributes;  // values entity-decoded
  std::string text;  // this element's own character data, decoded (not its children's)
  std::vector<Element> children;

  // The first child with this name, or null.
  [[nodiscard]] const Element* child(std::string_view child_name) const;
  // All children with this name, in document order.
  [[nodiscard]] std::vector<const Element*> children_named(std::string_view child_name) const;
  // The text of the first child with this name, if there is one.
  [[nodiscard]] std::optional<std::string_view> child_text(std::string_view child_name) const;
  [[nodiscard]] std::optional<std::string_view> attribute(std::string_view attr_name) const;
};

struct ParseOptions {
  // Deepest element nesting accepted. S3's documents nest 3-4 deep; default 32.
  std::size_t max_depth = 32;
  // Most attributes on one element. S3 uses at most two (xmlns, xsi:type); default 64. Keeps
  // the duplicate check cheap on hostile input.
  std::size_t max_attributes = 64;
};

// Parses a whole document. Errors are kInvalidInput, code "MalformedXML", message
// "XML line L column C: <what is wrong>".
Result<Element> parse(std::string_view document, ParseOptions options = {});

// Escapes text for element content or attribute values (& < > " ').
std::string escape(std::string_view text);

}  // namespace dynarep::aws::xml
