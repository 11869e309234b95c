#include "aws/credentials.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "aws/scoped_env.h"
#include "aws/temp_dir.h"
#include "http/test_server.h"

namespace dynarep::aws {
namespace {

using testing::CannedResponse;
using testing::RecordedRequest;
using testing::ScopedEnv;
using testing::TempDir;
using testing::TestHttpServer;
namespace fs = std::filesystem;

std::string iso(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string creds_json(const std::string& key, std::chrono::system_clock::time_point expiration) {
  return R"({"Code":"Success","LastUpdated":"2024-01-01T00:00:00Z","Type":"AWS-HMAC","AccessKeyId":")" + key +
         R"(","SecretAccessKey":"secret-)" + key + R"(","Token":"token-)" + key + R"(","Expiration":")" +
         iso(expiration) + "\"}";
}

CannedResponse answer(int status, std::string body) {
  CannedResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// --- environment ---------------------------------------------------------------------------

TEST(AwsEnvironmentCredentials, ReadsTheThreeVariables) {
  ScopedEnv env;
  env.clean_aws().set("AWS_ACCESS_KEY_ID", "AKIDENV").set("AWS_SECRET_ACCESS_KEY", "envsecret");
  EnvironmentCredentialsProvider p;
  auto c = p.get();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKIDENV");
  EXPECT_EQ(c->secret_access_key, "envsecret");
  EXPECT_EQ(c->session_token, "");
  EXPECT_FALSE(c->expiration.has_value());
  env.set("AWS_SESSION_TOKEN", "envtoken");
  EXPECT_EQ(p.get()->session_token, "envtoken");
}

TEST(AwsEnvironmentCredentials, MissingOrHalfSet) {
  ScopedEnv env;
  env.clean_aws();
  EnvironmentCredentialsProvider p;
  auto none = p.get();
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind, ErrorKind::kAuth);
  EXPECT_EQ(none.error().message, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
  env.set("AWS_ACCESS_KEY_ID", "AKID");
  EXPECT_EQ(p.get().error().message, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  env.unset("AWS_ACCESS_KEY_ID").set("AWS_SECRET_ACCESS_KEY", "s");
  EXPECT_EQ(p.get().error().message, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
}

// --- INI and shared files ------------------------------------------------------------------

TEST(AwsIni, CommentsWhitespaceAndSections) {
  const auto ini = detail::parse_ini(
      "# leading comment\r\n"
      "; another\n"
      "[default]\n"
      "aws_access_key_id=AKIDDEFAULT\n"
      "  AWS_Secret_Access_Key   =   s3cr3t/with+chars==   \n"
      "\n"
      "[ profile   dev ]   # comment after a section\n"
      "region = eu-west-1 ; inline comment\n"
      "key#notacomment = v#kept\n"
      "s3 =\n"
      "  max_concurrent_requests = 20\n"
      "  region = should-not-leak\n"
      "output = json\n"
      "[broken\n"
      "lost = yes\n"
      "[default]\n"
      "extra = added\n");
  const auto* def = ini.section("default");
  ASSERT_NE(def, nullptr);
  ASSERT_EQ(def->size(), 3u);
  EXPECT_EQ((*def)[0], (std::pair<std::string, std::string>("aws_access_key_id", "AKIDDEFAULT")));
  EXPECT_EQ((*def)[1], (std::pair<std::string, std::string>("aws_secret_access_key", "s3cr3t/with+chars==")));
  EXPECT_EQ((*def)[2], (std::pair<std::string, std::string>("extra", "added")));
  const auto* dev = ini.section("profile dev");
  ASSERT_NE(dev, nullptr);
  std::map<std::string, std::string> m(dev->begin(), dev->end());
  EXPECT_EQ(m["region"], "eu-west-1");
  EXPECT_EQ(m["key#notacomment"], "v#kept");
  EXPECT_EQ(m["s3"], "");
  EXPECT_EQ(m["output"], "json");
  EXPECT_EQ(m.count("max_concurrent_requests"), 0u);
  EXPECT_EQ(ini.section("broken"), nullptr);
}

struct SharedFiles {
  TempDir dir;
  std::string credentials = dir.write("credentials",
                                      "[default]\n"
                                      "aws_access_key_id = AKIDCREDDEFAULT\n"
                                      "aws_secret_access_key = creddefaultsecret\n"
                                      "\n"
                                      "[dev]\n"
                                      "aws_access_key_id = AKIDDEVCRED\n"
                                      "aws_secret_access_key = devcredsecret\n"
                                      "aws_session_token = devtoken\n");
  std::string config = dir.write("config",
                                 "[default]\n"
                                 "region = us-west-2\n"
                                 "[profile dev]\n"
                                 "region = eu-central-1\n"
                                 "aws_access_key_id = AKIDDEVCONFIG\n"
                                 "aws_secret_access_key = devconfigsecret\n"
                                 "[profile configonly]\n"
                                 "aws_access_key_id = AKIDCONFIGONLY\n"
                                 "aws_secret_access_key = configonlysecret\n"
                                 "region = ap-south-1\n"
                                 "[profile assume]\n"
                                 "role_arn = arn:aws:iam::123456789012:role/x\n"
                                 "source_profile = default\n"
                                 "[profile sso]\n"
                                 "sso_session = corp\n"
                                 "[profile empty]\n"
                                 "region = sa-east-1\n"
                                 "[nonprofile]\n"
                                 "aws_access_key_id = AKIDIGNORED\n"
                                 "aws_secret_access_key = ignored\n");
};

TEST(AwsProfileCredentials, DefaultProfileFromTheCredentialsFile) {
  ScopedEnv env;
  env.clean_aws();
  SharedFiles f;
  ProfileCredentialsProvider p("", f.credentials, f.config);
  EXPECT_EQ(p.name(), "shared files (profile default)");
  auto c = p.get();
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "AKIDCREDDEFAULT");
  EXPECT_EQ(c->secret_access_key, "creddefaultsecret");
}

TEST(AwsProfileCredentials, EnvironmentSelectsProfileAndFiles) {
  ScopedEnv env;
  SharedFiles f;
  env.clean_aws().set("AWS_PROFILE", "dev").set("AWS_SHARED_CREDENTIALS_FILE", f.credentials).set("AWS_CONFIG_FILE", f.config);
  ProfileCredentialsProvider p;
  auto c = p.get();
  ASSERT_TRUE(c.ok()) << c.error().describe();
  // The credentials file wins over the config file for the same profile.
  EXPECT_EQ(c->access_key_id, "AKIDDEVCRED");
  EXPECT_EQ(c->session_token, "devtoken");
  EXPECT_EQ(p.name(), "shared files (profile dev)");
}

TEST(AwsProfileCredentials, ProfileOnlyInTheConfigFile) {
  ScopedEnv env;
  env.clean_aws();
  SharedFiles f;
  ProfileCredentialsProvider p("configonly", f.credentials, f.config);
  auto c = p.get();
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "AKIDCONFIGONLY");
  // Config-file sections other than [default] need the "profile " prefix.
  auto ignored = ProfileCredentialsProvider("nonprofile", f.credentials, f.config).get();
  ASSERT_FALSE(ignored.ok());
  EXPECT_NE(ignored.error().message.find("profile 'nonprofile' not found"), std::string::npos);
}

TEST(AwsProfileCredentials, ClearErrors) {
  ScopedEnv env;
  env.clean_aws();
  SharedFiles f;
  auto missing = ProfileCredentialsProvider("nope", f.credentials, f.config).get();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kAuth);
  EXPECT_EQ(missing.error().message, "profile 'nope' not found in " + f.credentials + " or " + f.config);
  // role_arn profiles are resolved now (tests/aws/credentials_chain_test.cpp); an SSO profile
  // without its [sso-session] section, and a profile without credentials, say what is missing.
  auto sso = ProfileCredentialsProvider("sso", f.credentials, f.config).get();
  ASSERT_FALSE(sso.ok());
  EXPECT_NE(sso.error().message.find("profile 'sso' names sso_session 'corp', but " + f.config +
                                     " has no [sso-session corp] section"),
            std::string::npos)
      << sso.error().message;
  auto empty = ProfileCredentialsProvider("empty", f.credentials, f.config).get();
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("profile 'empty' has no credentials"), std::string::npos)
      << empty.error().message;
  EXPECT_EQ(empty.error().code, "NoCredentials");  // the chain goes on to the next provider
  auto no_files = ProfileCredentialsProvider("default", "/nonexistent/a", "/nonexistent/b").get();
  ASSERT_FALSE(no_files.ok());
  EXPECT_EQ(no_files.error().message, "profile 'default' not found in /nonexistent/a or /nonexistent/b");
}

TEST(AwsProfileCredentials, HomeDirectoryDefaults) {
  ScopedEnv env;
  TempDir home;
  fs::create_directories(home.path() / ".aws");
  home.write(".aws/credentials", "[default]\naws_access_key_id=AKIDHOME\naws_secret_access_key=home\n");
  home.write(".aws/config", "[default]\nregion=ca-central-1\n");
  env.clean_aws().unset("AWS_SHARED_CREDENTIALS_FILE").unset("AWS_CONFIG_FILE").set("HOME", home.path().string());
  auto c = ProfileCredentialsProvider().get();
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "AKIDHOME");
  EXPECT_EQ(default_region(), "ca-central-1");
}

TEST(AwsRegion, Resolution) {
  ScopedEnv env;
  SharedFiles f;
  env.clean_aws();
  EXPECT_EQ(default_region(), "us-east-1");
  env.set("AWS_SHARED_CREDENTIALS_FILE", f.credentials).set("AWS_CONFIG_FILE", f.config);
  EXPECT_EQ(default_region(), "us-west-2");
  env.set("AWS_PROFILE", "configonly");
  EXPECT_EQ(default_region(), "ap-south-1");
  env.set("AWS_PROFILE", "dev");
  EXPECT_EQ(default_region(), "eu-central-1");
  env.set("AWS_DEFAULT_REGION", "eu-north-1");
  EXPECT_EQ(default_region(), "eu-north-1");
  env.set("AWS_REGION", "me-central-1");
  EXPECT_EQ(default_region(), "me-central-1");
}

TEST(AwsIso8601, Parses) {
  using std::chrono::seconds;
  const auto base = std::chrono::system_clock::from_time_t(1714566896);  // 2024-05-01T12:34:56Z
  EXPECT_EQ(detail::parse_iso8601("2024-05-01T12:34:56Z"), base);
  EXPECT_EQ(detail::parse_iso8601("2024-05-01T12:34:56.123Z"), base);
  EXPECT_EQ(detail::parse_iso8601("2024-05-01T14:34:56+02:00"), base);
  EXPECT_EQ(detail::parse_iso8601("2024-05-01T10:34:56-02:00"), base);
  EXPECT_EQ(detail::parse_iso8601(" 2024-05-01T12:34:56Z "), base);
  EXPECT_EQ(detail::parse_iso8601("2024-05-01 12:34:56"), std::nullopt);
  EXPECT_EQ(detail::parse_iso8601("2024-05-01T12:34:56"), std::nullopt);
  EXPECT_EQ(detail::parse_iso8601("2024-13-01T12:34:56Z"), std::nullopt);
  EXPECT_EQ(detail::parse_iso8601("yesterday"), std::nullopt);
}

TEST(AwsCredentialsJson, Parses) {
  auto c = detail::parse_credentials_json(creds_json("AKIDJSON", std::chrono::system_clock::from_time_t(1714566896)), "src");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKIDJSON");
  EXPECT_EQ(c->secret_access_key, "secret-AKIDJSON");
  EXPECT_EQ(c->session_token, "token-AKIDJSON");
  EXPECT_EQ(c->expiration, std::chrono::system_clock::from_time_t(1714566896));
  auto failed = detail::parse_credentials_json(R"({"Code":"AssumeRoleUnauthorizedAccess","Message":"nope"})", "imds");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message, "imds answered Code AssumeRoleUnauthorizedAccess: nope");
  EXPECT_FALSE(detail::parse_credentials_json("not json", "x").ok());
  EXPECT_FALSE(detail::parse_credentials_json(R"({"AccessKeyId":"A"})", "x").ok());
  EXPECT_FALSE(detail::parse_credentials_json(R"({"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"soon"})", "x").ok());
}

// --- container -----------------------------------------------------------------------------

TEST(AwsContainerCredentials, RelativeUri) {
  ScopedEnv env;
  env.clean_aws().set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc-123");
  const auto exp = std::chrono::system_clock::from_time_t(1714566896);
  TestHttpServer server([&](const RecordedRequest& r) {
    if (r.target != "/v2/credentials/abc-123") return answer(404, "no");
    return answer(200, creds_json("AKIDECS", exp));
  });
  EXPECT_TRUE(ContainerCredentialsProvider::configured());
  ContainerCredentialsProvider p({.relative_uri_host = server.url()});
  auto c = p.get();
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "AKIDECS");
  EXPECT_EQ(c->session_token, "token-AKIDECS");
  EXPECT_EQ(c->expiration, exp);
  EXPECT_FALSE(server.requests().at(0).header("authorization").has_value());
}

TEST(AwsContainerCredentials, FullUriWithTokenFromFileOrVariable) {
  ScopedEnv env;
  TempDir dir;
  const std::string token_file = dir.write("token", "  file-token\n");
  TestHttpServer server([&](const RecordedRequest& r) {
    return answer(200, creds_json("AKID-" + r.header("authorization").value_or("none"),
                                  std::chrono::system_clock::from_time_t(1714566896)));
  });
  env.clean_aws()
      .set("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url() + "/get-credentials")
      .set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "var-token");
  ContainerCredentialsProvider p;
  auto by_var = p.get();
  ASSERT_TRUE(by_var.ok()) << by_var.error().describe();
  EXPECT_EQ(by_var->access_key_id, "AKID-var-token");
  env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file);
  auto by_file = p.get();
  ASSERT_TRUE(by_file.ok()) << by_file.error().describe();
  EXPECT_EQ(by_file->access_key_id, "AKID-file-token") << "the file wins and is trimmed";
  EXPECT_EQ(server.requests().back().target, "/get-credentials");
}

TEST(AwsContainerCredentials, Errors) {
  ScopedEnv env;
  env.clean_aws();
  ContainerCredentialsProvider p;
  EXPECT_FALSE(ContainerCredentialsProvider::configured());
  EXPECT_EQ(p.get().error().message,
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set");
  // http is only allowed to loopback and the ECS/EKS addresses (never contacted here).
  env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://credentials.example.com/creds");
  auto remote = p.get();
  ASSERT_FALSE(remote.ok());
  EXPECT_NE(remote.error().message.find("http is only allowed to loopback"), std::string::npos);
  env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "ftp://127.0.0.1/creds");
  EXPECT_FALSE(p.get().ok());
  TestHttpServer server([](const RecordedRequest&) { return answer(500, "agent broken"); });
  env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url() + "/creds");
  auto broken = p.get();
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().kind, ErrorKind::kAuth);
  EXPECT_NE(broken.error().message.find("answered HTTP 500: agent broken"), std::string::npos)
      << broken.error().message;
  env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "bad\r\ninjected: header");
  EXPECT_NE(p.get().error().message.find("line break"), std::string::npos);
}

// --- IMDSv2 --------------------------------------------------------------------------------

// A fake instance metadata service: IMDSv2 tokens, one role, rotating keys.
struct FakeImds {
  std::atomic<int> tokens_issued{0};
  std::atomic<int> credential_fetches{0};
  std::atomic<bool> reject_tokens{false};  // answer 401 to a token once
  std::atomic<bool> broken{false};         // answer 500 to credential requests
  std::atomic<int> token_status{200};
  std::string role = "my-role";
  std::chrono::seconds lifetime{3600};
  ManualClock* clock = nullptr;
  TestHttpServer server{[this](const RecordedRequest& r) { return handle(r); }};

  CannedResponse handle(const RecordedRequest& r) {
    if (r.target == "/latest/api/token") {
      if (r.method != "PUT" || !r.header("x-aws-ec2-metadata-token-ttl-seconds")) return answer(400, "bad token request");
      if (token_status != 200) return answer(token_status, "");
      return answer(200, "TOKEN" + std::to_string(++tokens_issued));
    }
    const auto token = r.header("x-aws-ec2-metadata-token");
    if (token_status == 200) {
      if (!token) return answer(401, "");
      if (reject_tokens.exchange(false)) return answer(401, "");
    }
    if (r.target == "/latest/meta-data/iam/security-credentials/") return answer(200, role + "\n");
    if (r.target == "/latest/meta-data/iam/security-credentials/" + role) {
      if (broken) return answer(500, "");
      const int n = ++credential_fetches;
      return answer(200, creds_json("AKIDIMDS" + std::to_string(n), clock->now() + lifetime));
    }
    return answer(404, "");
  }
};

TEST(AwsImdsCredentials, TokenFlow) {
  ScopedEnv env;
  env.clean_aws().unset("AWS_EC2_METADATA_DISABLED");
  ManualClock clock(std::chrono::system_clock::from_time_t(1700000000));
  FakeImds imds;
  imds.clock = &clock;
  ImdsCredentialsProvider p(clock, {.endpoint = imds.server.url() + "/"});
  auto c = p.get();
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "AKIDIMDS1");
  EXPECT_EQ(c->session_token, "token-AKIDIMDS1");
  EXPECT_EQ(c->expiration, clock.now() + std::chrono::hours(1));
  const auto reqs = imds.server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].method, "PUT");
  EXPECT_EQ(reqs[0].header("x-aws-ec2-metadata-token-ttl-seconds"), "21600");
  EXPECT_EQ(reqs[1].target, "/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(reqs[1].header("x-aws-ec2-metadata-token"), "TOKEN1");
  EXPECT_EQ(reqs[2].target, "/latest/meta-data/iam/security-credentials/my-role");
  EXPECT_EQ(reqs[2].header("x-aws-ec2-metadata-token"), "TOKEN1");
  // The token is reused until it nears its TTL.
  ASSERT_TRUE(p.get().ok());
  EXPECT_EQ(imds.tokens_issued, 1);
  clock.advance(std::chrono::hours(6));
  ASSERT_TRUE(p.get().ok());
  EXPECT_EQ(imds.tokens_issued, 2);
}

TEST(AwsImdsCredentials, RejectedTokenIsRenewedOnce) {
  ScopedEnv env;
  env.clean_aws().unset("AWS_EC2_METADATA_DISABLED");
  ManualClock clock;
  FakeImds imds;
  imds.clock = &clock;
  ImdsCredentialsProvider p(clock, {.endpoint = imds.server.url()});
  ASSERT_TRUE(p.get().ok());
  imds.reject_tokens = true;
  auto c = p.get();
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(imds.tokens_issued, 2);
}

TEST(AwsImdsCredentials, EndpointFromTheEnvironmentAndV1Fallback) {
  ScopedEnv env;
  ManualClock clock;
  FakeImds imds;
  imds.clock = &clock;
  imds.token_status = 405;  // no IMDSv2 here
  env.clean_aws().unset("AWS_EC2_METADATA_DISABLED").set("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.server.url());
  ImdsCredentialsProvider p(clock);
  EXPECT_EQ(p.name(), "instance metadata (" + imds.server.url() + ")");
  auto c = p.get();
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_FALSE(imds.server.requests().back().header("x-aws-ec2-metadata-token").has_value());
}

TEST(AwsImdsCredentials, Errors) {
  ScopedEnv env;
  env.clean_aws();
  ManualClock clock;
  FakeImds imds;
  imds.clock = &clock;
  ImdsCredentialsProvider p(clock, {.endpoint = imds.server.url()});
  EXPECT_FALSE(ImdsCredentialsProvider::enabled());
  EXPECT_EQ(p.get().error().message, "disabled by AWS_EC2_METADATA_DISABLED=true");
  env.unset("AWS_EC2_METADATA_DISABLED");
  imds.token_status = 403;
  EXPECT_NE(p.get().error().message.find("IMDS is disabled for this instance"), std::string::npos);
  imds.token_status = 200;
  imds.role = "";
  EXPECT_NE(p.get().error().message.find("no IAM role is attached"), std::string::npos);
}

TEST(AwsImdsCredentials, UnreachableFailsFast) {
  ScopedEnv env;
  env.clean_aws().unset("AWS_EC2_METADATA_DISABLED");
  int port = 0;
  {
    TestHttpServer s([](const RecordedRequest&) { return CannedResponse{}; });
    port = s.port();
  }
  ManualClock clock;
  ImdsCredentialsProvider p(clock, {.endpoint = "http://127.0.0.1:" + std::to_string(port)});
  const auto start = std::chrono::steady_clock::now();
  auto c = p.get();
  ASSERT_FALSE(c.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(c.error().kind, ErrorKind::kAuth);
  EXPECT_NE(c.error().message.find("unreachable"), std::string::npos);
}

// --- caching -------------------------------------------------------------------------------

TEST(AwsCachingCredentials, RefreshesFiveMinutesBeforeExpiry) {
  ScopedEnv env;
  env.clean_aws().unset("AWS_EC2_METADATA_DISABLED");
  ManualClock clock(std::chrono::system_clock::from_time_t(1700000000));
  FakeImds imds;
  imds.clock = &clock;
  auto inner = std::make_shared<ImdsCredentialsProvider>(clock, ImdsCredentialsProvider::Options{.endpoint = imds.server.url()});
  CachingCredentialsProvider p(inner, clock);
  EXPECT_EQ(p.get()->access_key_id, "AKIDIMDS1");
  EXPECT_EQ(p.get()->access_key_id, "AKIDIMDS1");
  clock.advance(std::chrono::minutes(54));
  EXPECT_EQ(p.get()->access_key_id, "AKIDIMDS1");
  EXPECT_EQ(imds.credential_fetches, 1);
  clock.advance(std::chrono::minutes(2));  // 56 min: within 5 min of expiry
  EXPECT_EQ(p.get()->access_key_id, "AKIDIMDS2");
  EXPECT_EQ(imds.credential_fetches, 2);
  EXPECT_EQ(p.get()->access_key_id, "AKIDIMDS2");
  EXPECT_EQ(imds.credential_fetches, 2);
  p.invalidate();
  EXPECT_EQ(p.get()->access_key_id, "AKIDIMDS3");
}

TEST(AwsCachingCredentials, KeepsValidCredentialsWhenARefreshFails) {
  ScopedEnv env;
  env.clean_aws().unset("AWS_EC2_METADATA_DISABLED");
  ManualClock clock(std::chrono::system_clock::from_time_t(1700000000));
  FakeImds imds;
  imds.clock = &clock;
  auto inner = std::make_shared<ImdsCredentialsProvider>(clock, ImdsCredentialsProvider::Options{.endpoint = imds.server.url()});
  CachingCredentialsProvider p(inner, clock);
  ASSERT_EQ(p.get()->access_key_id, "AKIDIMDS1");
  imds.broken = true;
  clock.advance(std::chrono::minutes(57));
  auto stale = p.get();
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->access_key_id, "AKIDIMDS1");
  clock.advance(std::chrono::minutes(4));  // past expiry
  auto expired = p.get();
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().kind, ErrorKind::kAuth);
  imds.broken = false;
  clock.advance(std::chrono::seconds(2));  // the backoff after the second failed refresh
  EXPECT_EQ(p.get()->access_key_id, "AKIDIMDS2");
}

TEST(AwsCachingCredentials, ShortLivedCredentialsAreNotFetchedAtEveryCall) {
  ManualClock clock(std::chrono::system_clock::from_time_t(1700000000));
  struct Counting : CredentialsProvider {
    ManualClock* clock;
    int calls = 0;
    explicit Counting(ManualClock* c) : clock(c) {}
    Result<Credentials> get() override {
      ++calls;
      return Credentials{"AKID" + std::to_string(calls), "s", "t", clock->now() + std::chrono::minutes(4)};
    }
    std::string name() const override { return "counting"; }
  };
  auto inner = std::make_shared<Counting>(&clock);
  CachingCredentialsProvider p(inner, clock);
  ASSERT_TRUE(p.get().ok());
  ASSERT_TRUE(p.get().ok());
  EXPECT_EQ(inner->calls, 1);
  clock.advance(std::chrono::minutes(2) + std::chrono::seconds(1));  // past half their life
  ASSERT_TRUE(p.get().ok());
  EXPECT_EQ(inner->calls, 2);
}

// --- the default chain ---------------------------------------------------------------------

TEST(AwsDefaultChain, EnvironmentFirst) {
  ScopedEnv env;
  SharedFiles f;
  env.clean_aws()
      .set("AWS_ACCESS_KEY_ID", "AKIDENV")
      .set("AWS_SECRET_ACCESS_KEY", "s")
      .set("AWS_SHARED_CREDENTIALS_FILE", f.credentials);
  auto chain = default_credentials_chain(SystemClock::instance());
  EXPECT_EQ(chain->get()->access_key_id, "AKIDENV");
}

TEST(AwsDefaultChain, SharedFilesWhenNoEnvironment) {
  ScopedEnv env;
  SharedFiles f;
  env.clean_aws().set("AWS_SHARED_CREDENTIALS_FILE", f.credentials).set("AWS_CONFIG_FILE", f.config).set("AWS_PROFILE", "dev");
  auto chain = default_credentials_chain(SystemClock::instance());
  auto c = chain->get();
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "AKIDDEVCRED");
  // Once chosen, the provider is kept: environment keys appearing later do not switch it.
  env.set("AWS_ACCESS_KEY_ID", "AKIDLATE").set("AWS_SECRET_ACCESS_KEY", "s");
  EXPECT_EQ(chain->get()->access_key_id, "AKIDDEVCRED");
}

TEST(AwsDefaultChain, ContainerThenImds) {
  ScopedEnv env;
  ManualClock clock(std::chrono::system_clock::from_time_t(1700000000));
  TestHttpServer ecs([](const RecordedRequest&) {
    return answer(200, creds_json("AKIDFULLURI", std::chrono::system_clock::from_time_t(1900000000)));
  });
  env.clean_aws().set("AWS_CONTAINER_CREDENTIALS_FULL_URI", ecs.url() + "/creds");
  EXPECT_EQ(default_credentials_chain(clock)->get()->access_key_id, "AKIDFULLURI");

  FakeImds imds;
  imds.clock = &clock;
  env.unset("AWS_CONTAINER_CREDENTIALS_FULL_URI")
      .unset("AWS_EC2_METADATA_DISABLED")
      .set("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.server.url());
  auto chain = default_credentials_chain(clock);
  EXPECT_EQ(chain->get()->access_key_id, "AKIDIMDS1");
  EXPECT_EQ(chain->get()->access_key_id, "AKIDIMDS1") << "cached";
  clock.advance(std::chrono::minutes(56));
  EXPECT_EQ(chain->get()->access_key_id, "AKIDIMDS2") << "refreshed through the chain's clock";
  chain->invalidate();
  EXPECT_EQ(chain->get()->access_key_id, "AKIDIMDS3");
}

TEST(AwsDefaultChain, NothingWorksListsWhatWasTried) {
  ScopedEnv env;
  env.clean_aws();
  auto c = default_credentials_chain(SystemClock::instance())->get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::kAuth);
  EXPECT_EQ(c.error().code, "NoCredentials");
  EXPECT_EQ(c.error().message,
            "no AWS credentials found; tried environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set; "
            "shared files (profile default): profile 'default' not found in /nonexistent/dynarep-test-credentials or "
            "/nonexistent/dynarep-test-config; container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and "
            "AWS_CONTAINER_CREDENTIALS_FULL_URI are not set; instance metadata (http://169.254.169.254): disabled by "
            "AWS_EC2_METADATA_DISABLED=true");
}

TEST(AwsStaticCredentials, Fixed) {
  StaticCredentialsProvider p(Credentials{"A", "B", "C", std::nullopt});
  EXPECT_EQ(p.get()->access_key_id, "A");
  EXPECT_EQ(p.name(), "static");
}

}  // namespace
}  // namespace dynarep::aws
