#include "aws/errors.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace dynarep::aws {
namespace {

using K = ErrorKind;

// Every AWS error code dynarep knows, and what a caller can do about it. Codes not here are
// classified by HTTP status (kStatusTable). Comments name where a code comes from when the
// reason for its row is not obvious.
constexpr ErrorCodeRule kCodeTable[] = {
    // Throttling: the SDKs' standard-mode THROTTLING_ERROR_CODES (all services).
    {"Throttling", K::kThrottled},
    {"ThrottlingException", K::kThrottled},
    {"ThrottledException", K::kThrottled},
    {"RequestThrottledException", K::kThrottled},
    {"TooManyRequestsException", K::kThrottled},
    {"ProvisionedThroughputExceededException", K::kThrottled},  // DynamoDB, Kinesis
    {"TransactionInProgressException", K::kThrottled},  // DynamoDB: same ClientRequestToken in flight
    {"RequestLimitExceeded", K::kThrottled},            // DynamoDB account-level
    {"BandwidthLimitExceeded", K::kThrottled},
    {"LimitExceededException", K::kThrottled},  // Kinesis; DynamoDB concurrent control-plane ops
    {"RequestThrottled", K::kThrottled},
    {"SlowDown", K::kThrottled},  // S3 503
    {"PriorRequestNotComplete", K::kThrottled},
    {"EC2ThrottledException", K::kThrottled},
    {"KMSThrottlingException", K::kThrottled},  // Kinesis with server-side encryption

    // Transient: the standard TRANSIENT_ERROR_CODES plus service errors documented as retryable.
    {"RequestTimeout", K::kTransient},  // S3 400: socket idle too long
    {"RequestTimeoutException", K::kTransient},
    {"InternalError", K::kTransient},        // S3
    {"InternalFailure", K::kTransient},      // Kinesis, JSON protocols
    {"InternalServerError", K::kTransient},  // DynamoDB 500
    {"ServiceUnavailable", K::kTransient},
    {"ServiceUnavailableException", K::kTransient},
    {"IDPCommunicationError", K::kTransient},
    {"TransactionConflictException", K::kTransient},      // DynamoDB: item in another transaction
    {"ReplicatedWriteConflictException", K::kTransient},  // DynamoDB multi-Region strong consistency
    {"OperationAborted", K::kTransient},                  // S3 409: conflicting operation in progress
    {"ConditionalRequestConflict", K::kTransient},        // S3 409: concurrent conditional write
    {"BadDigest", K::kTransient},                   // S3: body corrupted in transit
    {"XAmzContentSHA256Mismatch", K::kTransient},   // S3: body corrupted in transit
    {"IncompleteBody", K::kTransient},              // S3: connection cut during upload
    {"Crc32Mismatch", K::kTransient},               // ours: DynamoDB x-amz-crc32 check failed

    // Not found.
    {"ResourceNotFoundException", K::kNotFound},  // DynamoDB table, Kinesis stream
    {"TableNotFoundException", K::kNotFound},
    {"IndexNotFoundException", K::kNotFound},
    {"BackupNotFoundException", K::kNotFound},
    {"ReplicaNotFoundException", K::kNotFound},
    {"GlobalTableNotFoundException", K::kNotFound},
    {"NoSuchBucket", K::kNotFound},
    {"NoSuchKey", K::kNotFound},
    {"NoSuchUpload", K::kNotFound},
    {"NoSuchVersion", K::kNotFound},
    {"NotFound", K::kNotFound},  // S3 HEAD 404 (no body): our name for it

    // Condition failed: a conditional write or create lost against the current state.
    {"ConditionalCheckFailedException", K::kConditionFailed},
    {"PreconditionFailed", K::kConditionFailed},  // S3 412 (If-Match / If-None-Match)
    {"TransactionCanceledException", K::kConditionFailed},  // DynamoDB: reasons in the message
    {"ResourceInUseException", K::kConditionFailed},  // DynamoDB table exists / is changing
    {"TableAlreadyExistsException", K::kConditionFailed},
    {"BucketAlreadyOwnedByYou", K::kConditionFailed},
    {"BucketNotEmpty", K::kConditionFailed},

    // Invalid input: the request is wrong and sending it again cannot help.
    {"ValidationException", K::kInvalidInput},
    {"SerializationException", K::kInvalidInput},
    {"InvalidArgumentException", K::kInvalidInput},  // Kinesis
    {"InvalidArgument", K::kInvalidInput},           // S3
    {"ItemCollectionSizeLimitExceededException", K::kInvalidInput},  // DynamoDB LSI 10 GB
    {"UnknownOperationException", K::kInvalidInput},
    {"InvalidAction", K::kInvalidInput},
    {"InvalidParameterValue", K::kInvalidInput},
    {"InvalidParameterCombination", K::kInvalidInput},
    {"InvalidQueryParameter", K::kInvalidInput},
    {"MissingParameter", K::kInvalidInput},
    {"MalformedQueryString", K::kInvalidInput},
    {"IdempotentParameterMismatchException", K::kInvalidInput},  // DynamoDB ClientRequestToken reuse
    {"ExpiredIteratorException", K::kInvalidInput},   // Kinesis, DynamoDB Streams: caller must get a new iterator
    {"TrimmedDataAccessException", K::kInvalidInput},  // DynamoDB Streams: position past retention (caller restarts at TRIM_HORIZON)
    {"ExpiredNextTokenException", K::kInvalidInput},  // Kinesis ListShards
    {"InvalidRequest", K::kInvalidInput},             // S3
    {"InvalidBucketName", K::kInvalidInput},
    {"BucketAlreadyExists", K::kInvalidInput},  // S3: the name belongs to another account
    {"MalformedXML", K::kInvalidInput},
    {"EntityTooLarge", K::kInvalidInput},
    {"EntityTooSmall", K::kInvalidInput},
    {"InvalidPart", K::kInvalidInput},
    {"InvalidPartOrder", K::kInvalidInput},
    {"InvalidRange", K::kInvalidInput},
    {"InvalidDigest", K::kInvalidInput},
    {"InvalidObjectState", K::kInvalidInput},  // S3 archived object
    {"KeyTooLongError", K::kInvalidInput},
    {"MetadataTooLarge", K::kInvalidInput},
    {"MissingContentLength", K::kInvalidInput},
    {"MethodNotAllowed", K::kInvalidInput},
    {"NotImplemented", K::kInvalidInput},  // S3 501: a header asks for something unsupported

    // Authentication and authorisation. ExpiredToken* also trigger one credentials refresh.
    {"UnrecognizedClientException", K::kAuth},
    {"InvalidSignatureException", K::kAuth},
    {"IncompleteSignature", K::kAuth},
    {"IncompleteSignatureException", K::kAuth},
    {"SignatureDoesNotMatch", K::kAuth},
    {"AccessDenied", K::kAuth},
    {"AccessDeniedException", K::kAuth},
    {"AllAccessDisabled", K::kAuth},
    {"ExpiredToken", K::kAuth},
    {"ExpiredTokenException", K::kAuth},
    {"TokenRefreshRequired", K::kAuth},
    {"InvalidToken", K::kAuth},
    {"MissingAuthenticationToken", K::kAuth},
    {"MissingAuthenticationTokenException", K::kAuth},
    {"InvalidClientTokenId", K::kAuth},
    {"InvalidAccessKeyId", K::kAuth},
    {"AuthFailure", K::kAuth},
    {"NotAuthorized", K::kAuth},
    {"OptInRequired", K::kAuth},
    {"AccountProblem", K::kAuth},
    {"KMSAccessDeniedException", K::kAuth},
    {"RequestExpired", K::kAuth},        // clock skew: fix the clock
    {"RequestTimeTooSkewed", K::kAuth},  // clock skew (S3)
    {"RequestInTheFuture", K::kAuth},    // clock skew
};

// For answers whose code is unknown or missing (proxies, load balancers, S3 HEAD). A 4xx
// without an AWS error code is not the service's verdict on the request's content (DynamoDB
// says ValidationException, S3 EntityTooLarge): it comes from something in between, so it is
// never kInvalidInput ("the data is wrong", which makes the replicator park the record) but
// retryable, or a whole-process matter (credentials, proxy authentication).
constexpr HttpStatusRule kStatusTable[] = {
    {400, K::kTransient},  // a proxy's or load balancer's "bad request" page
    {401, K::kAuth},
    {403, K::kAuth},
    {404, K::kNotFound},
    {407, K::kAuth},       // proxy authentication required: the process's configuration
    {408, K::kTransient},  // request timeout
    {409, K::kConditionFailed},
    {412, K::kConditionFailed},
    {413, K::kTransient},  // a proxy's body-size limit
    {429, K::kThrottled},
    {431, K::kTransient},  // a proxy's header-size limit
    {500, K::kTransient},
    {502, K::kTransient},
    {503, K::kTransient},
    {504, K::kTransient},
    {509, K::kThrottled},  // bandwidth limit exceeded
};

constexpr std::string_view kExpiredCredentialCodes[] = {"ExpiredToken", "ExpiredTokenException",
                                                        "TokenRefreshRequired"};

// "ns#Code:http://..." -> "Code".
std::string normalize_code(std::string_view code) {
  if (const auto hash = code.rfind('#'); hash != std::string_view::npos) code.remove_prefix(hash + 1);
  if (const auto colon = code.find(':'); colon != std::string_view::npos) code = code.substr(0, colon);
  while (!code.empty() && std::isspace(static_cast<unsigned char>(code.back()))) code.remove_suffix(1);
  while (!code.empty() && std::isspace(static_cast<unsigned char>(code.front()))) code.remove_prefix(1);
  return std::string(code);
}

std::string xml_unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const auto semi = s.find(';', i);
    if (semi == std::string_view::npos) {
      out += s.substr(i);
      break;
    }
    const std::string_view entity = s.substr(i + 1, semi - i - 1);
    if (entity == "amp") out += '&';
    else if (entity == "lt") out += '<';
    else if (entity == "gt") out += '>';
    else if (entity == "quot") out += '"';
    else if (entity == "apos") out += '\'';
    else {
      out += s.substr(i, semi - i + 1);
    }
    i = semi;
  }
  return out;
}

// The text of the first <tag>...</tag> inside `xml`, or nullopt.
std::optional<std::string> xml_element(std::string_view xml, std::string_view tag) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  const auto start = xml.find(open);
  if (start == std::string_view::npos) return std::nullopt;
  const auto end = xml.find(close, start + open.size());
  if (end == std::string_view::npos) return std::nullopt;
  return xml_unescape(xml.substr(start + open.size(), end - start - open.size()));
}

std::optional<ParsedErrorBody> parse_json_error(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS) return std::nullopt;
  simdjson::dom::object obj;
  if (doc.get(obj) != simdjson::SUCCESS) return std::nullopt;
  ParsedErrorBody out;
  auto str = [&](const char* key) -> std::optional<std::string> {
    std::string_view v;
    if (obj[key].get(v) == simdjson::SUCCESS) return std::string(v);
    return std::nullopt;
  };
  for (const char* key : {"__type", "code", "Code"}) {
    if (auto v = str(key)) {
      out.code = normalize_code(*v);
      break;
    }
  }
  for (const char* key : {"message", "Message", "errorMessage"}) {
    if (auto v = str(key)) {
      out.message = *v;
      break;
    }
  }
  if (out.code.empty() && out.message.empty()) return std::nullopt;
  return out;
}

std::string_view status_code_name(int status) {
  switch (status) {
    case 304: return "NotModified";
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 408: return "RequestTimeout";
    case 409: return "Conflict";
    case 412: return "PreconditionFailed";
    case 413: return "RequestEntityTooLarge";
    case 416: return "InvalidRange";
    case 429: return "TooManyRequests";
    case 500: return "InternalServerError";
    case 502: return "BadGateway";
    case 503: return "ServiceUnavailable";
    case 504: return "GatewayTimeout";
    default: return "";
  }
}

// A printable, bounded excerpt of a body that is not an AWS error document (HTML from a proxy).
std::string excerpt(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 200)) {
    out += std::isprint(static_cast<unsigned char>(c)) ? c : ' ';
  }
  if (body.size() > 200) out += "...";
  return out;
}

}  // namespace

std::span<const ErrorCodeRule> error_code_table() { return kCodeTable; }
std::span<const HttpStatusRule> http_status_table() { return kStatusTable; }

ErrorKind classify(std::string_view code, int http_status) {
  for (const auto& rule : kCodeTable) {
    if (rule.code == code) return rule.kind;
  }
  for (const auto& rule : kStatusTable) {
    if (rule.status == http_status) return rule.kind;
  }
  // Any other 4xx with an unknown code: retried a few times, never blamed on the data.
  if (http_status >= 400 && http_status < 500) return ErrorKind::kTransient;
  return ErrorKind::kFatal;
}

bool is_expired_credentials_error(std::string_view code) {
  return std::find(std::begin(kExpiredCredentialCodes), std::end(kExpiredCredentialCodes), code) !=
         std::end(kExpiredCredentialCodes);
}

std::optional<ParsedErrorBody> parse_error_body(std::string_view body) {
  size_t first = 0;
  while (first < body.size() && std::isspace(static_cast<unsigned char>(body[first]))) ++first;
  if (first == body.size()) return std::nullopt;
  if (body[first] == '{') return parse_json_error(body);
  if (body[first] != '<') return std::nullopt;
  // S3: <?xml ...?><Error><Code>NoSuchKey</Code><Message>...</Message><RequestId>..</RequestId></Error>
  ParsedErrorBody out;
  if (auto code = xml_element(body, "Code")) out.code = normalize_code(*code);
  if (auto message = xml_element(body, "Message")) out.message = *message;
  if (auto id = xml_element(body, "RequestId")) out.request_id = *id;
  if (out.code.empty() && out.message.empty()) return std::nullopt;
  return out;
}

Error error_from_response(const http::Response& response) {
  ParsedErrorBody parsed;
  if (auto p = parse_error_body(response.body)) parsed = std::move(*p);
  if (parsed.code.empty()) {
    if (auto header = response.header("x-amzn-errortype")) parsed.code = normalize_code(*header);
  }
  if (parsed.code.empty()) {
    const std::string_view name = status_code_name(response.status);
    parsed.code = name.empty() ? fmt::format("Http{}", response.status) : std::string(name);
  }
  if (parsed.message.empty()) {
    parsed.message = fmt::format("HTTP {}", response.status);
    if (!response.body.empty() && !parse_error_body(response.body)) parsed.message += ": " + excerpt(response.body);
  }
  const ErrorKind kind = classify(parsed.code, response.status);  // before parsed.code is moved from
  Error err(kind, std::move(parsed.code), std::move(parsed.message));
  err.http_status = response.status;
  if (auto id = response.header("x-amzn-requestid")) {
    err.request_id = std::string(*id);
  } else if (auto s3id = response.header("x-amz-request-id")) {
    err.request_id = std::string(*s3id);
  } else {
    err.request_id = std::move(parsed.request_id);
  }
  return err;
}

}  // namespace dynarep::aws
