// Table and object locations as users type them (aws/location.h). The input is the location,
// optionally followed by '\n' and an --endpoint flag value.
//
// Properties: failures are clean kInvalidInput errors; a table location has a valid table
// name (validate_table_name accepts it) and an http:// or https:// endpoint with a signing
// region and service "dynamodb"; an S3 object location has a bucket of 3-63 characters from
// a-z 0-9 . - and "s3://bucket/key" rebuilds the input (scheme case aside); a file location
// has a non-empty path; "-" alone is stdio.
#include <algorithm>

#include "aws/location.h"
#include "common/check.h"
#include "targets/targets.h"

namespace dynarep::fuzz {
namespace {

bool clean(const Error& e) { return e.kind == ErrorKind::kInvalidInput && !e.message.empty(); }

bool http_url(const std::string& url) { return url.starts_with("http://") || url.starts_with("https://"); }

// "region/table": the form whose endpoint --endpoint may override.
bool looks_like_table_region(std::string_view text) {
  return aws::looks_like_region(text.substr(0, text.find('/')));
}

}  // namespace

void location(std::string_view data) {
  const std::size_t nl = data.find('\n');
  const std::string_view text = data.substr(0, nl);
  const std::string flag = nl == std::string_view::npos ? std::string() : std::string(data.substr(nl + 1));

  (void)aws::looks_like_region(text);

  auto t = aws::parse_table_location(text, flag);
  if (!t.ok()) {
    FUZZ_CHECK(clean(t.error()), "table location error: " + t.error().describe());
  } else {
    FUZZ_CHECK(t->display == text, "display is not the input");
    Status name_ok = aws::validate_table_name(t->table, "fuzz");
    FUZZ_CHECK(name_ok.ok(), "accepted an invalid table name " + printable(t->table));
    // An --endpoint override keeps whatever scheme it was given (ftp://, file://: see
    // tests/security, HttpClientRefusesOtherProtocols); the location's own endpoint is http(s).
    if (flag.empty() || !looks_like_table_region(text)) {
      FUZZ_CHECK(http_url(t->endpoint.url), "endpoint is not an http(s) URL: " + printable(t->endpoint.url));
    } else {
      FUZZ_CHECK(t->endpoint.url.find("://") != std::string::npos, "endpoint without a scheme: " +
                                                                        printable(t->endpoint.url));
    }
    FUZZ_CHECK(t->endpoint.signing_service == "dynamodb", "signing service " + t->endpoint.signing_service);
    FUZZ_CHECK(!t->endpoint.region.empty(), "no signing region");
  }

  auto o = aws::parse_object_location(text);
  if (!o.ok()) {
    FUZZ_CHECK(clean(o.error()), "object location error: " + o.error().describe());
    return;
  }
  FUZZ_CHECK(o->display == text, "display is not the input");
  switch (o->kind) {
    case aws::ObjectLocation::Kind::kS3: {
      const std::string& b = o->bucket;
      FUZZ_CHECK(b.size() >= 3 && b.size() <= 63, "bucket length " + std::to_string(b.size()));
      FUZZ_CHECK(std::all_of(b.begin(), b.end(),
                             [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'; }),
                 "bucket " + printable(b) + " has a character S3 does not allow");
      const std::string rebuilt = "s3://" + b + (o->key.empty() && text.size() == 5 + b.size() ? "" : "/" + o->key);
      FUZZ_CHECK(rebuilt.substr(5) == text.substr(5), "s3 location does not rebuild the input: " + printable(rebuilt));
      break;
    }
    case aws::ObjectLocation::Kind::kFile: FUZZ_CHECK(!o->path.empty(), "empty path"); break;
    case aws::ObjectLocation::Kind::kStdio: FUZZ_CHECK(text == "-", "stdio from " + printable(text)); break;
  }

  // An endpoint override always resolves to a URL.
  if (!flag.empty() && flag.find('\0') == std::string::npos) {
    const aws::Endpoint e = aws::resolve_endpoint(aws::Service::kS3, std::string(text.substr(0, 32)), flag);
    FUZZ_CHECK(e.url.find("://") != std::string::npos || e.url.empty(), "override without a scheme: " + printable(e.url));
  }
}

}  // namespace dynarep::fuzz
