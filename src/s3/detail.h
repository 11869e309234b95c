// Internals of the S3 client that unit tests check directly. Not for other modules.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/client.h"
#include "s3/client.h"

namespace dynarep::s3::detail {

// "\"abc\"" -> "abc"; anything else unchanged.
std::string strip_quotes(std::string_view etag);
// Decodes S3's encoding-type=url values: '+' is a space, %XX a byte (as the AWS SDKs do).
std::string url_decode_plus(std::string_view text);
// Strict decimal: digits only, no sign, no overflow.
std::optional<std::uint64_t> parse_u64(std::string_view text);

struct ContentRange {
  std::uint64_t first = 0, last = 0, total = 0;
};
// "bytes 0-99/1234"; nullopt unless first <= last < total.
std::optional<ContentRange> parse_content_range(std::string_view value);
// A bucket name usable as a DNS label under TLS: 3-63 of a-z 0-9 '-', no dots, not starting or
// ending with '-'.
bool is_dns_compatible_bucket(std::string_view bucket);
// name=value, both URI-encoded (AWS UriEncode, '/' encoded).
std::string query_param(std::string_view name, std::string_view value);
// Size, ETag, Last-Modified, Content-Type, version id and x-amz-meta-* from a HEAD/GET answer.
ObjectInfo info_from_headers(const http::Response& resp);

}  // namespace dynarep::s3::detail
