#include "aws/xml.h"

#include <gtest/gtest.h>

#include <string>

namespace dynarep::aws::xml {
namespace {

std::string parse_error(std::string_view doc, ParseOptions options = {}) {
  auto r = parse(doc, options);
  if (r.ok()) return "<parsed>";
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(r.error().code, "MalformedXML");
  return r.error().message;
}

TEST(Xml, ParsesListBucketResult) {
  const char* doc = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name>
  <Prefix/>
  <KeyCount>2</KeyCount>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <Contents>
    <Key>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;</Key>
    <LastModified>2009-10-12T17:50:30.000Z</LastModified>
    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>
    <Size>434234</Size>
  </Contents>
  <Contents><Key>  spaced key  </Key><Size>0</Size></Contents>
</ListBucketResult>)";
  auto r = parse(doc);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->name, "ListBucketResult");
  EXPECT_EQ(r->attribute("xmlns"), "http://s3.amazonaws.com/doc/2006-03-01/");
  EXPECT_EQ(r->text, "");
  EXPECT_EQ(r->child_text("Name"), "bucket");
  EXPECT_EQ(r->child_text("Prefix"), "");
  EXPECT_EQ(r->child_text("Missing"), std::nullopt);
  EXPECT_EQ(r->child_text("NextContinuationToken"), "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  auto contents = r->children_named("Contents");
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(contents[0]->child_text("Key"), "a & b <c> \"d\" 'e'");
  EXPECT_EQ(contents[0]->child_text("ETag"), "\"fba9dede5f27731c9771645a39863328\"");
  EXPECT_EQ(contents[1]->child_text("Key"), "  spaced key  ");  // never trimmed
}

TEST(Xml, CharacterReferencesAndUtf8) {
  auto r = parse("<K>&#65;&#x42;&#xe9;&#233;&#x1F600;&#9;&#13;&#x1;caf\xC3\xA9 \xE2\x82\xAC</K>");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->text, "AB\xC3\xA9\xC3\xA9\xF0\x9F\x98\x80\t\r\x01" "caf\xC3\xA9 \xE2\x82\xAC");
}

TEST(Xml, CdataCommentsAndProcessingInstructions) {
  auto r = parse(
      "\xEF\xBB\xBF<?xml version='1.0'?><!-- c --><?pi x?>\n<R><!-- in --><A><![CDATA[<&>]]></A>"
      "<?pi y?><B attr = 'v&amp;w'\n other=\"a\tb\"/></R><!-- after -->\n");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->child_text("A"), "<&>");
  const Element* b = r->child("B");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->attribute("attr"), "v&w");
  EXPECT_EQ(b->attribute("other"), "a b");  // attribute whitespace normalised
  EXPECT_TRUE(b->children.empty());
}

TEST(Xml, LineEndsAreNormalised) {
  auto r = parse("<K>a\r\nb\rc</K>");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, "a\nb\nc");
  // And escape() keeps a "\r" through a round trip.
  auto back = parse("<K>" + escape("x\ry&<>\"'\x01") + "</K>");
  ASSERT_TRUE(back.ok()) << back.error().describe();
  EXPECT_EQ(back->text, "x\ry&<>\"'\x01");
}

TEST(Xml, Escape) {
  EXPECT_EQ(escape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
  EXPECT_EQ(escape("plain/key with spaces+="), "plain/key with spaces+=");
}

TEST(Xml, MalformedDocumentsSayWhatAndWhere) {
  EXPECT_EQ(parse_error(""), "XML line 1 column 1: no root element");
  EXPECT_EQ(parse_error("   \n "), "XML line 2 column 2: no root element");
  EXPECT_EQ(parse_error("<a>"), "XML line 1 column 1: element <a> is not closed");
  EXPECT_EQ(parse_error("<a><b></a>"), "XML line 1 column 7: </a> does not match <b>");
  EXPECT_EQ(parse_error("<a>\n  <b>x</c></a>"), "XML line 2 column 7: </c> does not match <b>");
  EXPECT_EQ(parse_error("<a></a><b/>"), "XML line 1 column 8: content after the root element");
  EXPECT_EQ(parse_error("<a></a>junk"), "XML line 1 column 8: content after the root element");
  EXPECT_EQ(parse_error("junk<a/>"), "XML line 1 column 1: text before the root element");
  EXPECT_EQ(parse_error("<a>&foo;</a>"), "XML line 1 column 4: undefined entity &foo;");
  EXPECT_EQ(parse_error("<a>&amp</a>"), "XML line 1 column 4: unterminated entity reference (no ';')");
  EXPECT_EQ(parse_error("<a>&#;</a>"), "XML line 1 column 4: empty character reference &#;");
  EXPECT_EQ(parse_error("<a>&#x;</a>"), "XML line 1 column 4: empty character reference &#x;");
  EXPECT_EQ(parse_error("<a>&#12a;</a>"), "XML line 1 column 4: invalid character reference &#12a;");
  EXPECT_EQ(parse_error("<a>&#0;</a>"),
            "XML line 1 column 4: character reference &#0; is not a valid character");
  EXPECT_EQ(parse_error("<a>&#xD800;</a>"),
            "XML line 1 column 4: character reference &#xD800; is not a valid character");
  EXPECT_EQ(parse_error("<a>&#x110000;</a>"),
            "XML line 1 column 4: character reference &#x110000; is not a valid character");
  EXPECT_EQ(parse_error("<a>&#99999999999999;</a>"),
            "XML line 1 column 4: unterminated entity reference (no ';')");
  EXPECT_EQ(parse_error("<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>"),
            "XML line 1 column 1: DOCTYPE is not allowed");
  EXPECT_EQ(parse_error("<a x='1' x='2'/>"), "XML line 1 column 10: duplicate attribute x in <a>");
  EXPECT_EQ(parse_error("<a x='1'y='2'/>"),
            "XML line 1 column 9: expected whitespace, '>' or '/>' in <a>");
  EXPECT_EQ(parse_error("<a x=1/>"), "XML line 1 column 6: expected a quoted value for attribute x");
  EXPECT_EQ(parse_error("<a x/>"), "XML line 1 column 5: expected '=' after attribute x");
  EXPECT_EQ(parse_error("<a x='<'/>"), "XML line 1 column 7: '<' in the value of attribute x");
  EXPECT_EQ(parse_error("<a x='1"), "XML line 1 column 6: unterminated value of attribute x");
  EXPECT_EQ(parse_error("<a"), "XML line 1 column 1: unterminated start tag <a");
  EXPECT_EQ(parse_error("<1a/>"), "XML line 1 column 2: expected a name, found '1'");
  EXPECT_EQ(parse_error("<a></"), "XML line 1 column 6: unexpected end of document, expected a name");
  EXPECT_EQ(parse_error("<a></a"), "XML line 1 column 7: expected '>' to end </a");
  EXPECT_EQ(parse_error("<a><!-- x -- y --></a>"), "XML line 1 column 11: '--' inside a comment");
  EXPECT_EQ(parse_error("<a><!-- x </a>"), "XML line 1 column 4: unterminated comment");
  EXPECT_EQ(parse_error("<a><![CDATA[x</a>"), "XML line 1 column 4: unterminated CDATA section");
  EXPECT_EQ(parse_error("<a>x]]>y</a>"), "XML line 1 column 5: ']]>' in character data");
  EXPECT_EQ(parse_error("<a><!ELEMENT></a>"), "XML line 1 column 4: unexpected '<!' inside <a>");
  EXPECT_EQ(parse_error("<a><?pi x</a>"), "XML line 1 column 4: unterminated processing instruction");
  EXPECT_EQ(parse_error("<a/><?xml version='1.0'?>"),
            "XML line 1 column 5: XML declaration not at the start of the document");
  EXPECT_EQ(parse_error("<?xml version='1.0' encoding='ISO-8859-1'?><a/>"),
            "XML line 1 column 42: unsupported encoding 'ISO-8859-1' (only UTF-8)");
  EXPECT_EQ(parse_error("<?xml version='1.0'"), "XML line 1 column 20: unterminated XML declaration");
  EXPECT_EQ(parse_error("<a>\x01</a>"), "XML line 1 column 4: control character 0x01 is not allowed");
  EXPECT_EQ(parse_error(std::string_view("<a>\0</a>", 8)),
            "XML line 1 column 4: control character 0x00 is not allowed");
  EXPECT_EQ(parse_error("<a>\xC3</a>"), "XML line 1 column 4: invalid UTF-8");
  EXPECT_EQ(parse_error("<a>\xC0\xAF</a>"), "XML line 1 column 4: invalid UTF-8");      // overlong
  EXPECT_EQ(parse_error("<a>\xED\xA0\x80</a>"), "XML line 1 column 4: invalid UTF-8");  // surrogate
  EXPECT_EQ(parse_error("<a>\xF4\x90\x80\x80</a>"), "XML line 1 column 4: invalid UTF-8");
  EXPECT_EQ(parse_error("<a>\xFF</a>"), "XML line 1 column 4: invalid UTF-8");
}

TEST(Xml, DepthLimit) {
  std::string deep;
  for (int i = 0; i < 33; ++i) deep += "<a>";
  for (int i = 0; i < 33; ++i) deep += "</a>";
  EXPECT_EQ(parse_error(deep), "XML line 1 column 97: elements nested deeper than 32");
  EXPECT_TRUE(parse(deep, {.max_depth = 33}).ok());
  // Far deeper than any stack could recurse: still a clean error.
  std::string very_deep;
  for (int i = 0; i < 200000; ++i) very_deep += "<a>";
  EXPECT_NE(parse_error(very_deep).find("nested deeper than 32"), std::string::npos);
}

TEST(Xml, AttributeLimit) {
  std::string doc = "<a";
  for (int i = 0; i < 65; ++i) doc += " x" + std::to_string(i) + "='1'";
  doc += "/>";
  EXPECT_NE(parse_error(doc).find("more than 64 attributes in <a>"), std::string::npos);
  EXPECT_TRUE(parse(doc, {.max_depth = 32, .max_attributes = 65}).ok());
}

TEST(Xml, EveryPrefixOfAValidDocumentFailsCleanly) {
  const std::string doc =
      "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The key &quot;k&quot; does "
      "not exist</Message><Key><![CDATA[k]]></Key><!-- x --><RequestId>1</RequestId></Error>";
  ASSERT_TRUE(parse(doc).ok());
  for (std::size_t n = 0; n < doc.size(); ++n) {
    auto r = parse(std::string_view(doc).substr(0, n));
    EXPECT_FALSE(r.ok()) << n;
  }
}

}  // namespace
}  // namespace dynarep::aws::xml
