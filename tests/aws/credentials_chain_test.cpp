// The chain's newer links without a real STS: profile resolution (source_profile chains and
// loops, credential_source, mfa_serial), credential_process, IAM Identity Center against an
// in-process fake of the portal, STS errors from an in-process server answering as the STS API
// reference documents, and refresh before expiry / backoff / expiry with an injected clock.
// tests/aws/sts_moto_test.cpp runs the STS links against moto.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "aws/credentials.h"
#include "aws/scoped_env.h"
#include "aws/temp_dir.h"
#include "aws/sts.h"
#include "crypto/checksum.h"
#include "http/test_server.h"

namespace dynarep::aws {
namespace {

using testing::CannedResponse;
using testing::RecordedRequest;
using testing::ScopedEnv;
using Dir = testing::TempDir;
using testing::TestHttpServer;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// --- command lines -------------------------------------------------------------------------

TEST(AwsCredentialProcess, SplitsLikeAPosixShellWithoutExpanding) {
  auto a = detail::split_command(R"(  /bin/tool  --profile 'my prof'  "a \"q\" \$HOME" b\ c $HOME ;rm  )");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, (std::vector<std::string>{"/bin/tool", "--profile", "my prof", "a \"q\" $HOME", "b c", "$HOME", ";rm"}));
  EXPECT_EQ(*detail::split_command(R"(x '' "")"), (std::vector<std::string>{"x", "", ""}));
  EXPECT_FALSE(detail::split_command("tool 'open").ok());
  EXPECT_FALSE(detail::split_command("tool \"open").ok());
}

// --- credential_process --------------------------------------------------------------------

TEST(AwsCredentialProcess, RunsTheProgramDirectlyAndReadsVersion1) {
  Dir d;
  const std::string args_file = d.str() + "/args";
  // The script records its arguments: they must arrive exactly as split, with no shell between.
  const std::string script = d.write("creds.sh",
                                     "#!/bin/sh\n"
                                     "for a in \"$@\"; do printf '%s\\n' \"$a\"; done > " + args_file + "\n"
                                     "echo 'a message for the user' >&2\n"
                                     "printf '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", \"SecretAccessKey\": "
                                     "\"procsecret\", \"SessionToken\": \"proctoken\", \"Expiration\": "
                                     "\"2030-01-01T00:00:00Z\"}'\n",
                                     true);
  ProcessCredentialsProvider p(script + " 'two words' $HOME ';' `id`", "profile proc");
  auto c = p.get();
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "AKIDPROC");
  EXPECT_EQ(c->secret_access_key, "procsecret");
  EXPECT_EQ(c->session_token, "proctoken");
  ASSERT_TRUE(c->expiration.has_value());
  std::ifstream in(args_file);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, "two words\n$HOME\n;\n`id`\n");
}

TEST(AwsCredentialProcess, FailuresAreNamedAndNeverQuoteTheOutput) {
  Dir d;
  const std::string failing = d.write("fail.sh", "#!/bin/sh\necho 'token expired, run login' >&2\nexit 3\n", true);
  auto f = ProcessCredentialsProvider(failing, "profile broken").get();
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().kind, ErrorKind::kAuth);
  EXPECT_NE(f.error().code, "NoCredentials");  // configured: the chain must stop here
  EXPECT_NE(f.error().message.find("credential_process of profile broken ('" + failing + "') exited with status 3"),
            std::string::npos)
      << f.error().message;
  const std::string v2 = d.write(
      "v2.sh", "#!/bin/sh\nprintf '{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"leakedsecret\"}'\n",
      true);
  auto bad = ProcessCredentialsProvider(v2, "profile v2").get();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("without \"Version\": 1"), std::string::npos);
  EXPECT_EQ(bad.error().describe().find("leakedsecret"), std::string::npos);
  auto missing = ProcessCredentialsProvider("/nonexistent/dynarep-helper --x", "profile gone").get();
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("cannot run '/nonexistent/dynarep-helper'"), std::string::npos);
}

// --- profiles ------------------------------------------------------------------------------

struct Files {
  Dir dir;
  std::string credentials = dir.write("credentials",
                                      "[base]\n"
                                      "aws_access_key_id = AKIDBASE\n"
                                      "aws_secret_access_key = basesecret\n");
  std::string config;
  explicit Files(const std::string& config_text) : config(dir.write("config", config_text)) {}
  Result<Credentials> get(const std::string& profile) {
    return ProfileCredentialsProvider(profile, credentials, config).get();
  }
};

TEST(AwsProfileChain, LoopsAreNamed) {
  ScopedEnv env;
  env.clean_aws();
  Files f(
      "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
      "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = c\n"
      "[profile c]\nrole_arn = arn:aws:iam::1:role/c\nsource_profile = a\n");
  auto r = f.get("a");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "InvalidProfile");
  EXPECT_NE(r.error().message.find("source_profile chain loops: a -> b -> c -> a"), std::string::npos)
      << r.error().message;
}

TEST(AwsProfileChain, ConfigurationErrorsSayWhatIsWrong) {
  ScopedEnv env;
  env.clean_aws();
  Files f(
      "[profile mfa]\nrole_arn = arn:aws:iam::1:role/m\nsource_profile = base\nmfa_serial = arn:aws:iam::1:mfa/me\n"
      "[profile nosource]\nrole_arn = arn:aws:iam::1:role/n\n"
      "[profile both]\nrole_arn = arn:aws:iam::1:role/n\nsource_profile = base\ncredential_source = Environment\n"
      "[profile badsource]\nrole_arn = arn:aws:iam::1:role/n\ncredential_source = Laptop\n"
      "[profile dangling]\nrole_arn = arn:aws:iam::1:role/n\nsource_profile = ghost\n"
      "[profile duration]\nrole_arn = arn:aws:iam::1:role/n\nsource_profile = base\nduration_seconds = 60\n"
      "[profile web]\nweb_identity_token_file = /tmp/x\n");
  auto expect = [&](const std::string& profile, const std::string& text) {
    auto r = f.get(profile);
    ASSERT_FALSE(r.ok()) << profile;
    EXPECT_EQ(r.error().kind, ErrorKind::kAuth);
    EXPECT_NE(r.error().message.find(text), std::string::npos) << r.error().message;
  };
  expect("mfa", "profile 'mfa' assumes role arn:aws:iam::1:role/m with mfa_serial arn:aws:iam::1:mfa/me: dynarep "
                "runs unattended and cannot ask for an MFA code");
  expect("nosource", "profile 'nosource' has role_arn arn:aws:iam::1:role/n but neither source_profile nor "
                     "credential_source");
  expect("both", "profile 'both' sets both source_profile and credential_source");
  expect("badsource", "credential_source 'Laptop' is not Environment, Ec2InstanceMetadata or EcsContainer");
  expect("dangling", "profile 'dangling' names source_profile 'ghost', which is not found in");
  expect("duration", "duration_seconds '60' must be a number of seconds from 900 to 43200");
  expect("web", "profile 'web' has web_identity_token_file but no role_arn");
}

// An STS stand-in that answers AssumeRole as the API reference shows, recording requests.
struct FakeSts {
  std::atomic<int> calls{0};
  std::atomic<bool> deny{false};
  TestHttpServer server{[this](const RecordedRequest& r) {
    const int n = ++calls;
    CannedResponse c;
    if (deny) {
      c.status = 403;
      c.body =
          "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
          "<Code>AccessDenied</Code><Message>User: arn:aws:iam::111111111111:user/ci is not authorized to perform: "
          "sts:AssumeRole on resource: arn:aws:iam::222222222222:role/replica</Message></Error>"
          "<RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>";
      return c;
    }
    const bool web = r.body.find("Action=AssumeRoleWithWebIdentity") != std::string::npos;
    const std::string action = web ? "AssumeRoleWithWebIdentity" : "AssumeRole";
    c.body = "<" + action + "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><" + action +
             "Result><Credentials><AccessKeyId>ASIASTS" + std::to_string(n) +
             "</AccessKeyId><SecretAccessKey>stssecret" + std::to_string(n) +
             "</SecretAccessKey><SessionToken>ststoken" + std::to_string(n) +
             "</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></" + action +
             "Result></" + action + "Response>";
    return c;
  }};
};

TEST(AwsProfileChain, AssumeRoleRequestCarriesTheProfileSettings) {
  ScopedEnv env;
  FakeSts sts;
  env.clean_aws().set("AWS_ENDPOINT_URL_STS", sts.server.url());
  Files f(
      "[profile replica]\nrole_arn = arn:aws:iam::222222222222:role/replica\nsource_profile = base\n"
      "external_id = ext-1\nrole_session_name = nightly\nduration_seconds = 7200\nregion = eu-west-1\n");
  auto c = f.get("replica");
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "ASIASTS1");
  auto reqs = sts.server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const std::string& body = reqs[0].body;
  for (const char* part : {"Action=AssumeRole", "Version=2011-06-15", "RoleArn=arn%3Aaws%3Aiam%3A%3A222222222222%3Arole%2Freplica",
                           "RoleSessionName=nightly", "ExternalId=ext-1", "DurationSeconds=7200"}) {
    EXPECT_NE(body.find(part), std::string::npos) << part << " in " << body;
  }
  // Signed with the source profile's keys, for STS in the profile's region.
  const auto auth = reqs[0].header("authorization").value_or("");
  EXPECT_NE(auth.find("Credential=AKIDBASE/"), std::string::npos) << auth;
  EXPECT_NE(auth.find("/eu-west-1/sts/aws4_request"), std::string::npos) << auth;
}

// Which region STS is called in, as the AWS CLI picks it (botocore builds one STS client for
// the whole chain, in the region of the command: --region / the environment, else the selected
// profile's `region`): AWS_REGION / AWS_DEFAULT_REGION, else the selected profile's region, for
// every hop of a source_profile chain; never a source profile's own region, nor AWS_PROFILE's
// when another profile is selected (`--replica-profile X` is `aws --profile X`). With none of
// them: us-east-1 (the CLI's global endpoint sts.amazonaws.com is in us-east-1; dynarep uses
// the regional one, whose sessions are valid in every region).
TEST(AwsProfileChain, StsRegionIsTheSelectedProfilesForEveryHopAsTheAwsCliPicksIt) {
  ScopedEnv env;
  FakeSts sts;
  env.clean_aws().set("AWS_ENDPOINT_URL_STS", sts.server.url());
  Files f(
      "[profile top]\nrole_arn = arn:aws:iam::3:role/top\nsource_profile = mid\nregion = eu-west-1\n"
      "[profile mid]\nrole_arn = arn:aws:iam::2:role/mid\nsource_profile = base\nregion = ap-south-1\n"
      "[profile bare]\nrole_arn = arn:aws:iam::2:role/bare\nsource_profile = mid\n"
      "[profile other]\nregion = eu-central-1\n");
  size_t seen = 0;
  auto regions = [&] {  // the signing region of each STS request since the last look
    std::vector<std::string> out;
    const auto reqs = sts.server.requests();
    for (; seen < reqs.size(); ++seen) {
      const std::string auth = reqs[seen].header("authorization").value_or("");
      const auto end = auth.find("/sts/aws4_request");
      const auto begin = end == std::string::npos ? end : auth.rfind('/', end - 1);
      out.push_back(begin == std::string::npos ? auth : auth.substr(begin + 1, end - begin - 1));
    }
    return out;
  };
  ASSERT_TRUE(f.get("top").ok());
  EXPECT_EQ(regions(), (std::vector<std::string>{"eu-west-1", "eu-west-1"})) << "mid's own region is not used";
  // AWS_PROFILE names another profile: its region is not the selected profile's.
  env.set("AWS_CONFIG_FILE", f.config).set("AWS_PROFILE", "other");
  ASSERT_TRUE(f.get("bare").ok());
  EXPECT_EQ(regions(), (std::vector<std::string>{"us-east-1", "us-east-1"}));
  env.set("AWS_DEFAULT_REGION", "ca-central-1");
  ASSERT_TRUE(f.get("top").ok());
  EXPECT_EQ(regions(), (std::vector<std::string>{"ca-central-1", "ca-central-1"}));
  env.set("AWS_REGION", "sa-east-1");
  ASSERT_TRUE(f.get("top").ok());
  EXPECT_EQ(regions(), (std::vector<std::string>{"sa-east-1", "sa-east-1"}));
}

TEST(AwsProfileChain, StsRefusalCarriesItsMessageAndTheRoleAndStopsTheChain) {
  ScopedEnv env;
  FakeSts sts;
  sts.deny = true;
  Dir d;
  const std::string config = d.write("config",
                                     "[profile replica]\nrole_arn = arn:aws:iam::222222222222:role/replica\n"
                                     "credential_source = Environment\n");
  env.clean_aws()
      .set("AWS_ENDPOINT_URL_STS", sts.server.url())
      .set("AWS_CONFIG_FILE", config)
      .set("AWS_PROFILE", "replica");
  // Environment keys serve as the role's source (credential_source = Environment), but the
  // chain's own environment link comes first: unset them there by using the profile alone.
  env.set("AWS_ACCESS_KEY_ID", "AKIDENVSOURCE").set("AWS_SECRET_ACCESS_KEY", "envsourcesecret");
  auto c = credentials_for(CredentialsSpec{.profile = "replica", .role_arn = ""})->get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::kAuth);
  EXPECT_EQ(c.error().code, "AccessDenied");
  const std::string text = c.error().describe();
  EXPECT_NE(text.find("AssumeRole arn:aws:iam::222222222222:role/replica"), std::string::npos) << text;
  EXPECT_NE(text.find("is not authorized to perform: sts:AssumeRole"), std::string::npos) << text;
  EXPECT_NE(text.find("profile replica"), std::string::npos) << text;
  EXPECT_EQ(text.find("envsourcesecret"), std::string::npos);

  // In the default chain (no environment keys), a profile whose role is refused stops the
  // chain: it must not go on to the container or instance role, another identity.
  env.unset("AWS_ACCESS_KEY_ID").unset("AWS_SECRET_ACCESS_KEY");
  Dir d2;
  const std::string c2 = d2.write("config",
                                  "[profile replica]\nrole_arn = arn:aws:iam::222222222222:role/replica\n"
                                  "source_profile = src\n[profile src]\naws_access_key_id = AKIDSRC\n"
                                  "aws_secret_access_key = srcsecret\n");
  env.set("AWS_CONFIG_FILE", c2).set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/creds");
  auto chained = default_credentials_chain()->get();
  ASSERT_FALSE(chained.ok());
  EXPECT_EQ(chained.error().code, "AccessDenied") << chained.error().describe();
  EXPECT_EQ(chained.error().describe().find("container"), std::string::npos) << chained.error().describe();
}

TEST(AwsProfileChain, SourceProfileChainsAndSelfReference) {
  ScopedEnv env;
  FakeSts sts;
  env.clean_aws().set("AWS_ENDPOINT_URL_STS", sts.server.url());
  Files f(
      "[profile second]\nrole_arn = arn:aws:iam::3:role/second\nsource_profile = first\n"
      "[profile first]\nrole_arn = arn:aws:iam::2:role/first\nsource_profile = base\n"
      "[profile self]\nrole_arn = arn:aws:iam::2:role/self\nsource_profile = self\n"
      "aws_access_key_id = AKIDSELF\naws_secret_access_key = selfsecret\n");
  auto c = f.get("second");
  ASSERT_TRUE(c.ok()) << c.error().describe();
  auto reqs = sts.server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  // first is assumed with base's keys, then second with first's session.
  EXPECT_NE(reqs[0].body.find("role%2Ffirst"), std::string::npos);
  EXPECT_NE(reqs[0].header("authorization").value_or("").find("Credential=AKIDBASE/"), std::string::npos);
  EXPECT_NE(reqs[1].body.find("role%2Fsecond"), std::string::npos);
  EXPECT_NE(reqs[1].header("authorization").value_or("").find("Credential=ASIASTS1/"), std::string::npos);
  EXPECT_EQ(reqs[1].header("x-amz-security-token").value_or(""), "ststoken1");
  EXPECT_EQ(c->access_key_id, "ASIASTS2");
  auto s = f.get("self");
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_NE(sts.server.requests()[2].header("authorization").value_or("").find("Credential=AKIDSELF/"),
            std::string::npos);
}

TEST(AwsWebIdentity, FromTheEnvironmentUnsignedWithTheTokenFile) {
  ScopedEnv env;
  FakeSts sts;
  Dir d;
  const std::string token = d.write("token", "eyJhbGciOiJSUzI1NiJ9.k8s-service-account.sig\n");
  env.clean_aws()
      .set("AWS_ENDPOINT_URL_STS", sts.server.url())
      .set("AWS_ROLE_ARN", "arn:aws:iam::444444444444:role/eks")
      .set("AWS_WEB_IDENTITY_TOKEN_FILE", token)
      .set("AWS_ROLE_SESSION_NAME", "pod-1");
  auto c = default_credentials_chain()->get();
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "ASIASTS1");
  auto reqs = sts.server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_FALSE(reqs[0].header("authorization").has_value());
  EXPECT_NE(reqs[0].body.find("Action=AssumeRoleWithWebIdentity"), std::string::npos);
  EXPECT_NE(reqs[0].body.find("RoleSessionName=pod-1"), std::string::npos);
  EXPECT_NE(reqs[0].body.find("WebIdentityToken=eyJhbGciOiJSUzI1NiJ9.k8s-service-account.sig"), std::string::npos)
      << reqs[0].body;

  // A token file that went away is named in the error.
  env.set("AWS_WEB_IDENTITY_TOKEN_FILE", d.str() + "/missing");
  auto gone = default_credentials_chain()->get();
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.error().message.find("cannot read the web identity token file " + d.str() + "/missing"),
            std::string::npos)
      << gone.error().describe();
}

// --- IAM Identity Center -------------------------------------------------------------------

struct FakePortal {
  std::atomic<int> calls{0};
  TestHttpServer server{[this](const RecordedRequest& r) {
    ++calls;
    CannedResponse c;
    // GetRoleCredentials: GET /federation/credentials?account_id&role_name, bearer token header.
    if (r.header("x-amz-sso_bearer_token").value_or("") != "valid-access-token") {
      c.status = 401;
      c.headers = {{"x-amzn-ErrorType", "UnauthorizedException"}};
      c.body = R"({"message":"Session token not found or invalid"})";
      return c;
    }
    c.body = R"({"roleCredentials":{"accessKeyId":"ASIASSO","secretAccessKey":"ssosecret","sessionToken":"ssotoken","expiration":1893456000000}})";
    return c;
  }};
};

TEST(AwsSso, SessionProfileUsesTheCachedTokenAndThePortal) {
  ScopedEnv env;
  FakePortal portal;
  Dir home;
  const std::string config = home.write(".aws/config",
                                        "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\n"
                                        "sso_role_name = ReadOnly\n"
                                        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
                                        "sso_region = eu-west-1\n"
                                        "[profile legacy]\nsso_start_url = https://old.awsapps.com/start\n"
                                        "sso_region = us-east-1\nsso_account_id = 111122223333\nsso_role_name = Admin\n");
  env.clean_aws().set("HOME", home.str()).set("AWS_CONFIG_FILE", config).set("AWS_ENDPOINT_URL_SSO", portal.server.url());
  ManualClock clock(std::chrono::system_clock::from_time_t(1800000000));  // 2027-01-15
  home.write(".aws/sso/cache/" + crypto::sha1_hex("corp") + ".json",
             R"({"startUrl":"https://corp.awsapps.com/start","region":"eu-west-1","accessToken":"valid-access-token","expiresAt":"2027-01-15T10:00:00Z"})");
  ProfileCredentialsProvider dev("dev", "", config, clock);
  auto c = dev.get();
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "ASIASSO");
  EXPECT_EQ(c->session_token, "ssotoken");
  auto reqs = portal.server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/federation/credentials?account_id=111122223333&role_name=ReadOnly");

  // The legacy profile's cache file is named after its start URL; it has none: log in.
  auto legacy = ProfileCredentialsProvider("legacy", "", config, clock).get();
  ASSERT_FALSE(legacy.ok());
  EXPECT_EQ(legacy.error().code, "SsoLoginRequired");
  const std::string legacy_file = home.str() + "/.aws/sso/cache/" + crypto::sha1_hex("https://old.awsapps.com/start") + ".json";
  EXPECT_NE(legacy.error().message.find(legacy_file + " is missing"), std::string::npos) << legacy.error().message;
  EXPECT_NE(legacy.error().message.find("run `aws sso login --profile legacy`"), std::string::npos);

  // An expired token: log in again, and the portal is not asked.
  home.write(".aws/sso/cache/" + crypto::sha1_hex("https://old.awsapps.com/start") + ".json",
             R"({"accessToken":"old-token","expiresAt":"2027-01-15T07:00:00UTC"})");
  auto expired = ProfileCredentialsProvider("legacy", "", config, clock).get();
  ASSERT_FALSE(expired.ok());
  EXPECT_NE(expired.error().message.find("expired at 2027-01-15T07:00:00UTC"), std::string::npos)
      << expired.error().message;
  EXPECT_NE(expired.error().message.find("aws sso login --profile legacy"), std::string::npos);
  EXPECT_EQ(portal.calls.load(), 1);

  // A token the portal refuses (revoked): log in again, too.
  home.write(".aws/sso/cache/" + crypto::sha1_hex("https://old.awsapps.com/start") + ".json",
             R"({"accessToken":"revoked-token","expiresAt":"2027-01-16T07:00:00Z"})");
  auto refused = ProfileCredentialsProvider("legacy", "", config, clock).get();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kAuth);
  EXPECT_NE(refused.error().describe().find("UnauthorizedException"), std::string::npos) << refused.error().describe();
  EXPECT_NE(refused.error().describe().find("aws sso login --profile legacy"), std::string::npos);
  EXPECT_EQ(refused.error().describe().find("revoked-token"), std::string::npos);
}

// --- refresh before expiry -----------------------------------------------------------------

// Hands out credentials valid for an hour from the injected clock, or fails when told to.
struct HourlySource : CredentialsProvider {
  explicit HourlySource(ManualClock& c) : clock(c) {}
  ManualClock& clock;
  std::atomic<int> calls{0};
  std::atomic<bool> fail{false};
  std::atomic<int> delay_ms{0};
  Result<Credentials> get() override {
    const int n = ++calls;
    if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
    if (fail) return Error(ErrorKind::kTransient, "ServiceUnavailable", "STS is down");
    return Credentials{"ASIA" + std::to_string(n), "s", "t", clock.now() + 1h};
  }
  std::string name() const override { return "role arn:aws:iam::2:role/replica (profile replica)"; }
};

TEST(AwsCredentialRefresh, RefreshesEarlyKeepsOldOnFailureBacksOffThenNamesTheRole) {
  ManualClock clock(std::chrono::system_clock::from_time_t(1800000000));
  auto src = std::make_shared<HourlySource>(clock);
  CachingCredentialsProvider p(src, clock);
  EXPECT_EQ(p.get()->access_key_id, "ASIA1");
  clock.advance(54min);
  EXPECT_EQ(p.get()->access_key_id, "ASIA1");
  clock.advance(2min);  // 4 minutes left: refreshed before expiry
  EXPECT_EQ(p.get()->access_key_id, "ASIA2");
  EXPECT_EQ(src->calls.load(), 2);

  // STS goes down 56 minutes into the second hour: the current credentials stay in use, and
  // refreshes are tried after 1 s, 2 s, 4 s, ... not at every call.
  src->fail = true;
  clock.advance(56min);
  EXPECT_EQ(p.get()->access_key_id, "ASIA2");
  EXPECT_EQ(src->calls.load(), 3);
  EXPECT_EQ(p.get()->access_key_id, "ASIA2");
  clock.advance(500ms);
  EXPECT_EQ(p.get()->access_key_id, "ASIA2");
  EXPECT_EQ(src->calls.load(), 3);  // within the 1 s backoff
  clock.advance(600ms);
  EXPECT_EQ(p.get()->access_key_id, "ASIA2");
  EXPECT_EQ(src->calls.load(), 4);
  clock.advance(1500ms);
  EXPECT_EQ(p.get()->access_key_id, "ASIA2");
  EXPECT_EQ(src->calls.load(), 4);  // within the 2 s backoff
  clock.advance(600ms);
  (void)p.get();
  EXPECT_EQ(src->calls.load(), 5);

  // Past expiry: every call fails, naming the role and the refresh failure.
  clock.advance(5min);
  auto expired = p.get();
  ASSERT_FALSE(expired.ok());
  EXPECT_NE(expired.error().message.find("credentials from role arn:aws:iam::2:role/replica (profile replica) "
                                         "expired at"),
            std::string::npos)
      << expired.error().message;
  EXPECT_NE(expired.error().message.find("STS is down"), std::string::npos);
  auto again = p.get();
  ASSERT_FALSE(again.ok());

  // STS is back: the next attempt after the backoff succeeds.
  src->fail = false;
  clock.advance(61s);
  auto back = p.get();
  ASSERT_TRUE(back.ok()) << back.error().describe();
  EXPECT_EQ(src->calls.load() >= 7, true);
}

TEST(AwsCredentialRefresh, OneRefreshAtATimeOthersKeepTheValidCredentials) {
  ManualClock clock(std::chrono::system_clock::from_time_t(1800000000));
  auto src = std::make_shared<HourlySource>(clock);
  CachingCredentialsProvider p(src, clock);
  ASSERT_TRUE(p.get().ok());
  clock.advance(57min);
  src->delay_ms = 300;  // a slow STS
  std::atomic<int> old_seen{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto c = p.get();
      if (c.ok() && c->access_key_id == "ASIA1") ++old_seen;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(src->calls.load(), 2);  // one refresh for eight callers
  EXPECT_GE(old_seen.load(), 6);    // the others did not wait for it
  EXPECT_EQ(p.get()->access_key_id, "ASIA2");
}

TEST(AwsCredentialRefresh, WithoutValidCredentialsCallersWaitForOneRefresh) {
  ManualClock clock(std::chrono::system_clock::from_time_t(1800000000));
  auto src = std::make_shared<HourlySource>(clock);
  src->delay_ms = 200;
  CachingCredentialsProvider p(src, clock);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] { ok += p.get().ok() ? 1 : 0; });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 6);
  EXPECT_EQ(src->calls.load(), 1);
}

// --- STS answers ---------------------------------------------------------------------------

TEST(AwsSts, ParsesCredentialsAndRejectsIncompleteAnswers) {
  auto c = sts_detail::parse_credentials_xml(
      "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>sk"
      "</SecretAccessKey><SessionToken>tok</SessionToken><Expiration>2030-01-01T00:00:00.000Z</Expiration>"
      "</Credentials></AssumeRoleResult></AssumeRoleResponse>",
      "AssumeRole");
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "ASIAX");
  EXPECT_EQ(c->expiration, std::chrono::system_clock::from_time_t(1893456000));
  EXPECT_FALSE(sts_detail::parse_credentials_xml("<AssumeRoleResponse/>", "AssumeRole").ok());
  EXPECT_FALSE(sts_detail::parse_credentials_xml("not xml", "AssumeRole").ok());
  EXPECT_EQ(resolve_endpoint(Service::kSts, "eu-west-1").url.find("https://sts.eu-west-1.amazonaws.com"), 0u);
  EXPECT_EQ(aws_endpoint_url(Service::kSso, "eu-west-1"), "https://portal.sso.eu-west-1.amazonaws.com");
}

}  // namespace
}  // namespace dynarep::aws
