// Credentials never appear in what dynarep prints: the dynarep binary, run with --verbose and
// temporary credentials from the environment (access key, secret key, session token), against
// an in-process HTTP server that records each request's Authorization header, so the test
// knows every signature dynarep computed. Checked on success, on service errors (including
// one whose message echoes the signed request back, as AWS's InvalidSignatureException and
// S3's SignatureDoesNotMatch do), on retried 5xx answers, and on a refused connection.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "http/test_server.h"
#include "secrets.h"
#include "support/process.h"

namespace dynarep::security {
namespace {

using dynarep::testing::CannedResponse;
using dynarep::testing::RecordedRequest;
using dynarep::testing::run_dynarep;
using dynarep::testing::TestHttpServer;

CannedResponse json(int status, std::string body) {
  CannedResponse r;
  r.status = status;
  r.headers = {{"Content-Type", "application/x-amz-json-1.0"}, {"x-amzn-RequestId", "REQ-SECURITY-TEST"}};
  r.body = std::move(body);
  return r;
}

// Every signature the server saw, checking on the way that the requests were signed with the
// test's credentials (else the test would prove nothing).
std::vector<std::string> signatures(const TestHttpServer& server) {
  std::vector<std::string> out;
  for (const auto& req : server.requests()) {
    auto auth = req.header("authorization");
    EXPECT_TRUE(auth.has_value()) << "an unsigned request";
    if (!auth) continue;
    EXPECT_NE(auth->find("Credential=" + kAccessKey + "/"), std::string::npos) << *auth;
    EXPECT_EQ(req.header("x-amz-security-token").value_or(""), kSessionToken) << "the session token was not sent";
    if (auto sig = signature_of(*auth)) out.push_back(*sig);
  }
  EXPECT_FALSE(out.empty()) << "no signed request reached the server";
  return out;
}

std::map<std::string, std::string> env_for(const std::string& endpoint) {
  auto env = credential_env();
  env["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint;
  env["AWS_ENDPOINT_URL"] = endpoint;
  return env;
}

TEST(CredentialsNotPrinted, VerboseSuccessfulCall) {
  TestHttpServer server([](const RecordedRequest&) { return json(200, R"({"TableNames":["orders"]})"); });
  auto r = run_dynarep({"--verbose", "tables", "us-east-1"}, "", env_for(server.url()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "orders\n");
  EXPECT_NE(r.err.find("http POST"), std::string::npos) << "--verbose logged no request:\n" << r.err;
  expect_no_secrets(r, signatures(server), "tables --verbose");
}

TEST(CredentialsNotPrinted, VerboseMissingTable) {
  TestHttpServer server([](const RecordedRequest&) {
    return json(400, R"({"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",)"
                     R"("message":"Requested resource not found: Table: missing not found"})");
  });
  auto r = run_dynarep({"--verbose", "scan", "us-east-1/missing", "--quiet"}, "", env_for(server.url()));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("missing"), std::string::npos) << "the error does not name the table:\n" << r.err;
  expect_no_secrets(r, signatures(server), "scan of a missing table");
}

TEST(CredentialsNotPrinted, VerboseRetriedServerErrors) {
  TestHttpServer server([](const RecordedRequest&) {
    return json(500, R"({"__type":"com.amazon.coral.service#InternalFailure","message":"boom"})");
  });
  auto r = run_dynarep({"--verbose", "tables", "us-east-1"}, "", env_for(server.url()));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_GE(server.requests().size(), 2u) << "a 500 was not retried";
  expect_no_secrets(r, signatures(server), "retried 500s");
}

// AWS answers a bad signature with the canonical request it expected, and the canonical
// request holds the x-amz-security-token header's value: printed as is, the session token
// lands in the user's terminal, CI logs and bug reports.
TEST(CredentialsNotPrinted, ServiceErrorThatEchoesTheSignedRequest) {
  TestHttpServer server([](const RecordedRequest& req) {
    const std::string token = req.header("x-amz-security-token").value_or("");
    const std::string auth = req.header("authorization").value_or("");
    const std::string sig = signature_of(auth).value_or("");
    const std::string message =
        "The request signature we calculated does not match the signature you provided. Check your AWS "
        "Secret Access Key and signing method. Consult the service documentation for details.\\n\\nThe "
        "Canonical String for this request should have been\\n'POST\\n/\\n\\ncontent-type:application/"
        "x-amz-json-1.0\\nhost:dynamodb.us-east-1.amazonaws.com\\nx-amz-security-token:" + token +
        "\\nx-amz-target:DynamoDB_20120810.ListTables\\n'\\n\\nSignature provided: " + sig;
    return json(400, R"({"__type":"com.amazon.coral.service#InvalidSignatureException","message":")" + message +
                         R"("})");
  });
  auto r = run_dynarep({"--verbose", "tables", "us-east-1"}, "", env_for(server.url()));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("InvalidSignatureException"), std::string::npos) << r.err;
  expect_no_secrets(r, signatures(server), "an InvalidSignatureException echoing the request");
}

TEST(CredentialsNotPrinted, RefusedConnection) {
  // A port nobody listens on: bind one, note it, close it.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  auto r = run_dynarep({"--verbose", "tables", "us-east-1"}, "", env_for(url));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  expect_no_secrets(r, {}, "a refused connection");
  EXPECT_EQ(r.err.find("Signature="), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Credential="), std::string::npos) << r.err;
}

}  // namespace
}  // namespace dynarep::security
