// AWS Signature Version 4 (header and presigned query-string forms).
//
// Staged as AWS documents it, and each stage is visible to tests:
//   canonical request -> string to sign -> signature -> Authorization / X-Amz-Signature
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
//
// Canonicalisation rules implemented here (tests/sigv4 checks them against the published test
// suite and against the AWS SDK for JavaScript's signer):
// - Path: for non-S3 services the path as sent is URI-encoded once more ("double encoding")
//   and normalised (dot segments removed, empty segments collapsed, as botocore and the JS SDK
//   do); for S3 it is used exactly as sent, so S3 paths must be built with uri_encode(key,
//   /*encode_slash=*/false).
// - Query: each parameter is percent-decoded and re-encoded with uri_encode (so raw UTF-8 and
//   over-encoded input canonicalise the same way), then sorted by encoded name, then value.
//   '+' is a literal plus (RFC 3986), not a space: build query strings with uri_encode.
// - Headers: names lower-cased; values trimmed, runs of whitespace (including obsolete line
//   folding) folded to one space; repeated names joined with ',' in the order sent; sorted by
//   name. One sorted list yields both the canonical headers and SignedHeaders.
// - Never signed (intermediaries add or rewrite them, and the AWS SDKs skip them too):
//   authorization, cache-control, connection, expect, from, keep-alive, max-forwards, pragma,
//   referer, te, trailer, transfer-encoding, upgrade, user-agent, x-amzn-trace-id, proxy-*,
//   sec-*.
//
// Thread safety: every function may be called from any number of threads at once. The derived
// signing key (HMAC chain over secret, date, region, service) is cached per thread, a few
// entries deep, so the hot path is one SHA-256 of the canonical request, one of the payload and
// one HMAC.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/credentials.h"

namespace dynarep::aws {

struct SigningRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // URI path as it will be sent on the wire, e.g. "/" or "/bucket/my%20key"
  std::string query;   // raw query string as on the wire, without '?'; may be empty
  std::vector<std::pair<std::string, std::string>> headers;  // as they will be sent (Host included)
};

struct SigningConfig {
  std::string region;
  std::string service;                         // "dynamodb", "kinesis", "s3"
  std::chrono::system_clock::time_point time;  // signing time; sub-second part is dropped
  bool normalize_path = true;                  // remove dot segments and empty segments; false for S3
  bool double_encode_path = true;              // URI-encode the (already encoded) path again; false for S3
  bool add_content_sha256_header = false;      // S3: send and sign x-amz-content-sha256 (default off)
  bool omit_session_token = false;             // sign without the session token, then add it (default off)
  // Payload hash to sign instead of hashing the payload, e.g. "UNSIGNED-PAYLOAD" (S3 streamed
  // uploads, presigned URLs; chunk-signed streaming payloads are not implemented).
  // Default: hex(sha256(payload)); for presign_query (which has no payload) hex(sha256("")).
  std::optional<std::string> payload_hash;
};

struct SigningStages {
  std::string canonical_request, string_to_sign, signature, signed_headers, authorization;
};

// Computes every stage without touching the request (for tests). Headers named x-amz-date,
// x-amz-security-token, authorization (and x-amz-content-sha256 when add_content_sha256_header)
// in `req` are ignored: the stages use the values sign_request would put there.
SigningStages compute_stages(const SigningRequest& req, std::string_view payload, const Credentials& creds,
                             const SigningConfig& config);

// Adds X-Amz-Date, X-Amz-Security-Token (if the credentials have one), x-amz-content-sha256 (if
// configured) and Authorization, first removing any earlier copies, so a retried request can be
// signed again with a new time.
void sign_request(SigningRequest& req, std::string_view payload, const Credentials& creds,
                  const SigningConfig& config);

// Presigned (query-string) form: returns the full query string (the original parameters plus
// X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders, -Security-Token and
// -Signature), canonically encoded, to send as "path?query" with the request's headers.
// `expires` must be 1 s .. 7 days (AWS's limit); otherwise std::invalid_argument (a bug).
std::string presign_query(const SigningRequest& req, const Credentials& creds, const SigningConfig& config,
                          std::chrono::seconds expires);

// The stages of presign_query, for tests; `query` is what presign_query returns.
struct PresignStages {
  std::string canonical_request, string_to_sign, signature, signed_headers, query;
};
PresignStages compute_presign_stages(const SigningRequest& req, const Credentials& creds,
                                     const SigningConfig& config, std::chrono::seconds expires);

// AWS's UriEncode: unreserved characters (A-Z a-z 0-9 - _ . ~) are kept, every other byte
// becomes %XX (upper-case hex); '/' is kept when encode_slash is false (S3 object keys in paths).
std::string uri_encode(std::string_view bytes, bool encode_slash = true);

// Building blocks of the canonical request, exposed for unit tests.
namespace sigv4_detail {
// "20150830T123600Z" (ISO 8601 basic, UTC).
std::string amz_date(std::chrono::system_clock::time_point t);
// Path normalisation: "." and empty segments dropped, ".." removes the previous segment; a
// leading '/' and (if anything remains) a trailing '/' are kept; "" becomes "/".
std::string normalize_path(std::string_view path);
// The CanonicalURI line for this configuration.
std::string canonical_path(std::string_view path, const SigningConfig& config);
// The CanonicalQueryString line for a raw query string (see the rules above).
std::string canonical_query(std::string_view raw_query);
// Percent-decodes %XX sequences; a '%' not followed by two hex digits is kept as is.
std::string percent_decode(std::string_view text);
}  // namespace sigv4_detail

}  // namespace dynarep::aws
