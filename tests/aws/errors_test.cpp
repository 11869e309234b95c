#include "aws/errors.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace dynarep::aws {
namespace {

using K = ErrorKind;

// The classification, written out independently of the table in errors.cpp: the test fails if
// a row is added, removed or changed there without the same change here.
const std::map<std::string, ErrorKind>& expected_codes() {
  static const std::map<std::string, ErrorKind> m = {
      {"Throttling", K::kThrottled},
      {"ThrottlingException", K::kThrottled},
      {"ThrottledException", K::kThrottled},
      {"RequestThrottledException", K::kThrottled},
      {"TooManyRequestsException", K::kThrottled},
      {"ProvisionedThroughputExceededException", K::kThrottled},
      {"TransactionInProgressException", K::kThrottled},
      {"RequestLimitExceeded", K::kThrottled},
      {"BandwidthLimitExceeded", K::kThrottled},
      {"LimitExceededException", K::kThrottled},
      {"RequestThrottled", K::kThrottled},
      {"SlowDown", K::kThrottled},
      {"PriorRequestNotComplete", K::kThrottled},
      {"EC2ThrottledException", K::kThrottled},
      {"KMSThrottlingException", K::kThrottled},
      {"RequestTimeout", K::kTransient},
      {"RequestTimeoutException", K::kTransient},
      {"InternalError", K::kTransient},
      {"InternalFailure", K::kTransient},
      {"InternalServerError", K::kTransient},
      {"ServiceUnavailable", K::kTransient},
      {"ServiceUnavailableException", K::kTransient},
      {"IDPCommunicationError", K::kTransient},
      {"TransactionConflictException", K::kTransient},
      {"ReplicatedWriteConflictException", K::kTransient},
      {"OperationAborted", K::kTransient},
      {"ConditionalRequestConflict", K::kTransient},
      {"BadDigest", K::kTransient},
      {"XAmzContentSHA256Mismatch", K::kTransient},
      {"IncompleteBody", K::kTransient},
      {"Crc32Mismatch", K::kTransient},
      {"ResourceNotFoundException", K::kNotFound},
      {"TableNotFoundException", K::kNotFound},
      {"IndexNotFoundException", K::kNotFound},
      {"BackupNotFoundException", K::kNotFound},
      {"ReplicaNotFoundException", K::kNotFound},
      {"GlobalTableNotFoundException", K::kNotFound},
      {"NoSuchBucket", K::kNotFound},
      {"NoSuchKey", K::kNotFound},
      {"NoSuchUpload", K::kNotFound},
      {"NoSuchVersion", K::kNotFound},
      {"NotFound", K::kNotFound},
      {"ConditionalCheckFailedException", K::kConditionFailed},
      {"PreconditionFailed", K::kConditionFailed},
      {"TransactionCanceledException", K::kConditionFailed},
      {"ResourceInUseException", K::kConditionFailed},
      {"TableAlreadyExistsException", K::kConditionFailed},
      {"BucketAlreadyOwnedByYou", K::kConditionFailed},
      {"BucketNotEmpty", K::kConditionFailed},
      {"ValidationException", K::kInvalidInput},
      {"SerializationException", K::kInvalidInput},
      {"InvalidArgumentException", K::kInvalidInput},
      {"InvalidArgument", K::kInvalidInput},
      {"ItemCollectionSizeLimitExceededException", K::kInvalidInput},
      {"UnknownOperationException", K::kInvalidInput},
      {"InvalidAction", K::kInvalidInput},
      {"InvalidParameterValue", K::kInvalidInput},
      {"InvalidParameterCombination", K::kInvalidInput},
      {"InvalidQueryParameter", K::kInvalidInput},
      {"MissingParameter", K::kInvalidInput},
      {"MalformedQueryString", K::kInvalidInput},
      {"IdempotentParameterMismatchException", K::kInvalidInput},
      {"ExpiredIteratorException", K::kInvalidInput},
      {"TrimmedDataAccessException", K::kInvalidInput},
      {"ExpiredNextTokenException", K::kInvalidInput},
      {"InvalidRequest", K::kInvalidInput},
      {"InvalidBucketName", K::kInvalidInput},
      {"BucketAlreadyExists", K::kInvalidInput},
      {"MalformedXML", K::kInvalidInput},
      {"EntityTooLarge", K::kInvalidInput},
      {"EntityTooSmall", K::kInvalidInput},
      {"InvalidPart", K::kInvalidInput},
      {"InvalidPartOrder", K::kInvalidInput},
      {"InvalidRange", K::kInvalidInput},
      {"InvalidDigest", K::kInvalidInput},
      {"InvalidObjectState", K::kInvalidInput},
      {"KeyTooLongError", K::kInvalidInput},
      {"MetadataTooLarge", K::kInvalidInput},
      {"MissingContentLength", K::kInvalidInput},
      {"MethodNotAllowed", K::kInvalidInput},
      {"NotImplemented", K::kInvalidInput},
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
      {"RequestExpired", K::kAuth},
      {"RequestTimeTooSkewed", K::kAuth},
      {"RequestInTheFuture", K::kAuth},
  };
  return m;
}

const std::map<int, ErrorKind>& expected_statuses() {
  static const std::map<int, ErrorKind> m = {
      // Issue 10: a 4xx without an AWS code comes from something in between, never the data.
      {400, K::kTransient},    {401, K::kAuth},      {403, K::kAuth},      {404, K::kNotFound},
      {407, K::kAuth},         {408, K::kTransient}, {409, K::kConditionFailed}, {412, K::kConditionFailed},
      {413, K::kTransient},    {429, K::kThrottled}, {431, K::kTransient}, {500, K::kTransient},
      {502, K::kTransient},    {503, K::kTransient}, {504, K::kTransient},    {509, K::kThrottled},
  };
  return m;
}

TEST(AwsErrorTable, EveryCodeRowHasTheExpectedKind) {
  std::set<std::string> seen;
  for (const auto& rule : error_code_table()) {
    SCOPED_TRACE(std::string(rule.code));
    EXPECT_TRUE(seen.insert(std::string(rule.code)).second) << "duplicate row";
    auto it = expected_codes().find(std::string(rule.code));
    ASSERT_NE(it, expected_codes().end()) << "row not covered by this test";
    EXPECT_EQ(rule.kind, it->second);
    // The code decides whatever the status: DynamoDB throttles with 400, S3 with 503.
    for (int status : {0, 400, 403, 404, 409, 500, 503}) EXPECT_EQ(classify(rule.code, status), it->second) << status;
  }
  EXPECT_EQ(seen.size(), expected_codes().size()) << "an expected row is missing from the table";
}

TEST(AwsErrorTable, EveryStatusRowHasTheExpectedKind) {
  std::set<int> seen;
  for (const auto& rule : http_status_table()) {
    SCOPED_TRACE(rule.status);
    EXPECT_TRUE(seen.insert(rule.status).second) << "duplicate row";
    auto it = expected_statuses().find(rule.status);
    ASSERT_NE(it, expected_statuses().end()) << "row not covered by this test";
    EXPECT_EQ(rule.kind, it->second);
    EXPECT_EQ(classify("SomeUnknownCode", rule.status), it->second);
    EXPECT_EQ(classify("", rule.status), it->second);
  }
  EXPECT_EQ(seen.size(), expected_statuses().size());
}

TEST(AwsErrorTable, UnknownCodesFallBackToTheStatusClass) {
  EXPECT_EQ(classify("Whatever", 418), K::kTransient);  // never "the record's fault"
  EXPECT_EQ(classify("Whatever", 501), K::kFatal);
  EXPECT_EQ(classify("Whatever", 0), K::kFatal);
  EXPECT_EQ(classify("Whatever", 302), K::kFatal);
}

TEST(AwsErrorTable, RetryableKindsAreExactlyThrottledAndTransient) {
  for (const auto& rule : error_code_table()) {
    Error e(rule.kind, std::string(rule.code), "m");
    const bool expected = rule.kind == K::kThrottled || rule.kind == K::kTransient;
    EXPECT_EQ(e.retryable(), expected) << rule.code;
  }
}

TEST(AwsErrorTable, ExpiredCredentialCodes) {
  EXPECT_TRUE(is_expired_credentials_error("ExpiredToken"));
  EXPECT_TRUE(is_expired_credentials_error("ExpiredTokenException"));
  EXPECT_TRUE(is_expired_credentials_error("TokenRefreshRequired"));
  EXPECT_FALSE(is_expired_credentials_error("AccessDeniedException"));
  EXPECT_FALSE(is_expired_credentials_error("InvalidSignatureException"));
}

TEST(AwsErrorBody, DynamoDbJson) {
  auto p = parse_error_body(
      R"({"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found: Table: t not found"})");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->code, "ResourceNotFoundException");
  EXPECT_EQ(p->message, "Requested resource not found: Table: t not found");
}

TEST(AwsErrorBody, JsonVariants) {
  auto kinesis = parse_error_body(R"({"__type":"ResourceNotFoundException","message":"Stream s under account 1 not found."})");
  ASSERT_TRUE(kinesis);
  EXPECT_EQ(kinesis->code, "ResourceNotFoundException");
  auto capital = parse_error_body(R"({"__type":"com.amazon.coral.validate#ValidationException","Message":"bad"})");
  ASSERT_TRUE(capital);
  EXPECT_EQ(capital->code, "ValidationException");
  EXPECT_EQ(capital->message, "bad");
  auto suffixed = parse_error_body(R"({"code":"aws.protocoltests#FooError:http://internal.amazon.com/coral/x/"})");
  ASSERT_TRUE(suffixed);
  EXPECT_EQ(suffixed->code, "FooError");
  EXPECT_FALSE(parse_error_body(R"({"unrelated":1})"));
  EXPECT_FALSE(parse_error_body("[1,2]"));
  EXPECT_FALSE(parse_error_body("{not json"));
  EXPECT_FALSE(parse_error_body(""));
  EXPECT_FALSE(parse_error_body("<html>bad gateway</html>"));
}

TEST(AwsErrorBody, S3Xml) {
  auto p = parse_error_body(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does "
      "not exist &amp; never did</Message><Key>a/b</Key><RequestId>4442587FB7D0A2F9</RequestId><HostId>h</HostId></Error>");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->code, "NoSuchKey");
  EXPECT_EQ(p->message, "The specified key does not exist & never did");
  EXPECT_EQ(p->request_id, "4442587FB7D0A2F9");
}

http::Response response(int status, std::string body, http::Headers headers = {}) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

TEST(AwsErrorFromResponse, DynamoDbThrottleOn400) {
  auto e = error_from_response(response(
      400, R"({"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"})",
      {{"x-amzn-requestid", "RID1"}}));
  EXPECT_EQ(e.kind, K::kThrottled);
  EXPECT_EQ(e.code, "ProvisionedThroughputExceededException");
  EXPECT_EQ(e.message, "slow down");
  EXPECT_EQ(e.request_id, "RID1");
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.describe(), "ProvisionedThroughputExceededException: slow down (HTTP 400, request id RID1)");
}

TEST(AwsErrorFromResponse, S3SlowDownOn503AndRequestIdHeader) {
  auto e = error_from_response(response(503, "<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>",
                                        {{"x-amz-request-id", "S3RID"}}));
  EXPECT_EQ(e.kind, K::kThrottled);
  EXPECT_EQ(e.code, "SlowDown");
  EXPECT_EQ(e.request_id, "S3RID");
}

TEST(AwsErrorFromResponse, ErrorTypeHeaderWhenTheBodyHasNoCode) {
  auto e = error_from_response(
      response(400, "", {{"x-amzn-errortype", "ValidationException:http://internal.amazon.com/coral/com.amazon.coral.validate/"}}));
  EXPECT_EQ(e.kind, K::kInvalidInput);
  EXPECT_EQ(e.code, "ValidationException");
}

TEST(AwsErrorFromResponse, BodylessAnswersAreNamedByStatus) {
  auto head404 = error_from_response(response(404, ""));
  EXPECT_EQ(head404.kind, K::kNotFound);
  EXPECT_EQ(head404.code, "NotFound");
  EXPECT_EQ(head404.message, "HTTP 404");
  auto gateway = error_from_response(response(502, "<html><body>Bad Gateway</body></html>"));
  EXPECT_EQ(gateway.kind, K::kTransient);
  EXPECT_EQ(gateway.code, "BadGateway");
  EXPECT_NE(gateway.message.find("Bad Gateway"), std::string::npos) << gateway.message;
  auto teapot = error_from_response(response(418, ""));
  EXPECT_EQ(teapot.kind, K::kTransient);
  EXPECT_EQ(teapot.code, "Http418");
  auto precondition = error_from_response(response(412, ""));
  EXPECT_EQ(precondition.kind, K::kConditionFailed);
  auto throttled = error_from_response(response(429, ""));
  EXPECT_EQ(throttled.kind, K::kThrottled);
}

TEST(AwsErrorFromResponse, RequestIdFromTheS3BodyWhenNoHeader) {
  auto e = error_from_response(response(
      403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>BODYRID</RequestId></Error>"));
  EXPECT_EQ(e.kind, K::kAuth);
  EXPECT_EQ(e.request_id, "BODYRID");
}

}  // namespace
}  // namespace dynarep::aws
