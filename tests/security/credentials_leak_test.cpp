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

#include <cstdlib>
#include <filesystem>
#include <fstream>
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

// An assumed role (a replica in another account): neither the source keys nor the role's
// session (secret, token) appear in what dynarep prints, with --verbose, when STS hands the
// role out and when STS refuses it; the refusal names the role, the profile and STS's reason.
const std::string kRoleSecret = "RoLeSeCrEt/ForTheSecurityTest+9876543210Qq";
const std::string kRoleToken = "FwoGZXIvYXdzROLEsessionTOKEN/securityTest+9876543210zyxwvuTSRQPONmlkjihgf==";

CannedResponse sts_or_dynamodb(const RecordedRequest& req, bool deny) {
  if (req.body.find("Action=AssumeRole") != std::string::npos) {
    CannedResponse r;
    if (deny) {
      r.status = 403;
      r.body = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: "
               "arn:aws:iam::111111111111:user/ci is not authorized to perform: sts:AssumeRole on resource: "
               "arn:aws:iam::222222222222:role/replica</Message></Error><RequestId>r-1</RequestId></ErrorResponse>";
      return r;
    }
    r.body = "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAROLESECURITY01</AccessKeyId>"
             "<SecretAccessKey>" + kRoleSecret + "</SecretAccessKey><SessionToken>" + kRoleToken +
             "</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult>"
             "</AssumeRoleResponse>";
    return r;
  }
  if (req.header("x-amz-target").value_or("").ends_with("DescribeTable")) {
    const bool is_a = req.body.find("\"a-table\"") != std::string::npos;
    return json(200, std::string(R"({"Table":{"TableName":")") + (is_a ? "a-table" : "b-table") +
                         R"(","TableStatus":"ACTIVE","KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],)"
                         R"("AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],"ItemCount":0}})");
  }
  return json(200, "{}");  // GetItem: no such item on either side
}

struct RoleSetup {
  std::string dir;
  std::map<std::string, std::string> env;
  explicit RoleSetup(const std::string& url) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "dynarep-sec-role-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir = tmpl;
    std::ofstream(dir + "/config") << "[profile assumer]\nrole_arn = arn:aws:iam::222222222222:role/replica\n"
                                      "credential_source = Environment\n";
    env = env_for(url);
    env["AWS_CONFIG_FILE"] = dir + "/config";
  }
  ~RoleSetup() { std::filesystem::remove_all(dir); }
};

// diff-record with the replica through profile assumer (its role), verbose.
testing::ProcessResult diff_record_as_assumer(const RoleSetup& setup) {
  return run_dynarep({"--verbose", "diff-record", "us-east-1/a-table", "us-east-1/b-table", R"({"id":"x"})",
                      "--replica-profile", "assumer"},
                     "", setup.env);
}

void expect_no_role_secrets(const testing::ProcessResult& r, const TestHttpServer& server, const std::string& what) {
  std::vector<std::string> sigs;
  for (const auto& req : server.requests()) {
    if (auto sig = signature_of(req.header("authorization").value_or(""))) sigs.push_back(*sig);
  }
  expect_no_secrets(r, sigs, what);
  for (const std::string* text : {&r.out, &r.err}) {
    EXPECT_EQ(text->find(kRoleSecret), std::string::npos) << what << " prints the role's secret key:\n" << *text;
    EXPECT_EQ(text->find(kRoleToken.substr(20, 30)), std::string::npos) << what << " prints the role's token:\n"
                                                                        << *text;
  }
}

TEST(CredentialsNotPrinted, AssumedRoleForTheReplica) {
  TestHttpServer server([](const RecordedRequest& req) { return sts_or_dynamodb(req, false); });
  RoleSetup setup(server.url());
  auto r = diff_record_as_assumer(setup);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // The replica's calls were signed with the role's session, the primary's with the keys.
  int role_signed = 0;
  for (const auto& req : server.requests()) {
    const std::string auth = req.header("authorization").value_or("");
    if (auth.find("Credential=ASIAROLESECURITY01/") != std::string::npos) {
      ++role_signed;
      EXPECT_EQ(req.header("x-amz-security-token").value_or(""), kRoleToken);
      EXPECT_NE(req.body.find("b-table"), std::string::npos) << req.body;
    }
  }
  EXPECT_GE(role_signed, 2);  // DescribeTable and GetItem on the replica
  expect_no_role_secrets(r, server, "diff-record --replica-profile with an assumed role");
}

TEST(CredentialsNotPrinted, RefusedRoleNamesRoleProfileAndReason) {
  TestHttpServer server([](const RecordedRequest& req) { return sts_or_dynamodb(req, true); });
  RoleSetup setup(server.url());
  auto r = diff_record_as_assumer(setup);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("arn:aws:iam::222222222222:role/replica"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("profile assumer"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("AccessDenied"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("is not authorized to perform: sts:AssumeRole"), std::string::npos) << r.err;
  expect_no_role_secrets(r, server, "a refused AssumeRole");
}

}  // namespace
}  // namespace dynarep::security
