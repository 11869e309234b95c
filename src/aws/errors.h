// AWS error responses -> Error. ONE table maps AWS error codes to ErrorKind, and one maps
// HTTP statuses for answers without a known code; a test checks every row.
//
// Sources for the retryable sets: the AWS SDKs' "standard" retry mode (SDKs and Tools Reference
// Guide, "Retry behavior"; smithy service-error-classification THROTTLING_ERROR_CODES and
// TRANSIENT_ERROR_CODES; botocore's standard retry handler), and the error tables of the
// DynamoDB, Kinesis and S3 API references (which codes are "OK to retry").
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"
#include "http/client.h"

namespace dynarep::aws {

struct ErrorCodeRule {
  std::string_view code;
  ErrorKind kind;
};
struct HttpStatusRule {
  int status;
  ErrorKind kind;
};

// The tables themselves (read by tests and documentation).
std::span<const ErrorCodeRule> error_code_table();
std::span<const HttpStatusRule> http_status_table();

// Kind of an AWS error: by code when the code is in error_code_table(), else by status when it
// is in http_status_table(), else kInvalidInput for other 4xx and kFatal for the rest.
ErrorKind classify(std::string_view code, int http_status);

// Credentials that expired or were revoked: worth one credentials refresh and a retry.
bool is_expired_credentials_error(std::string_view code);

struct ParsedErrorBody {
  std::string code{};
  std::string message{};
  std::string request_id{};  // S3 XML bodies carry one
};
// Reads the code and message of an error body: JSON ({"__type": "ns#Code", "message": ...},
// also "code"/"Message") or S3 XML (<Error><Code/><Message/><RequestId/></Error>). A "__type"
// keeps what follows '#' and drops a ":http://..." suffix. nullopt if neither form is found.
std::optional<ParsedErrorBody> parse_error_body(std::string_view body);

// The Error for a non-2xx answer: code from the body or the x-amzn-ErrorType header (else
// "Http<status>"), message (else the HTTP reason and a little of the body), request id from
// x-amzn-RequestId / x-amz-request-id / the body, http_status, classified kind.
Error error_from_response(const http::Response& response);

}  // namespace dynarep::aws
