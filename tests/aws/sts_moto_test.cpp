// The credentials chain against moto's STS. moto hands out, for an assumed role, credentials
// that act in the role's account (GetCallerIdentity says so, and resources created with them
// live in that account), so each test can tell which identity the chain ended up with.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "aws/credentials.h"
#include "aws/scoped_env.h"
#include "aws/temp_dir.h"
#include "aws/sts.h"
#include "support/moto.h"

namespace dynarep::aws {
namespace {

using testing::ScopedEnv;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

class StsMotoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = dynarep::testing::moto_endpoint();
    if (url_.empty()) GTEST_SKIP() << "moto_server is not installed (scripts/setup.sh installs it with pip)";
    env_.clean_aws().set("AWS_ENDPOINT_URL_STS", url_).set("AWS_REGION", "us-east-1");
  }
  std::string write(const std::string& name, const std::string& text, bool executable = false) {
    return dir_.write(name, text, executable);
  }
  // Which account and principal these credentials are, by moto's GetCallerIdentity.
  CallerIdentity whoami(std::shared_ptr<CredentialsProvider> creds) {
    auto id = get_caller_identity(resolve_endpoint(Service::kSts, "us-east-1"), std::move(creds));
    EXPECT_TRUE(id.ok()) << id.error().describe();
    return id.ok() ? *id : CallerIdentity{};
  }
  std::shared_ptr<CredentialsProvider> profile(const std::string& name, Clock& clock = SystemClock::instance()) {
    return std::make_shared<ProfileCredentialsProvider>(name, credentials_, config_, clock);
  }

  ScopedEnv env_;
  testing::TempDir dir_;
  std::string url_, credentials_, config_;
};

TEST_F(StsMotoTest, EachProfileKindEndsInTheRightAccount) {
  const std::string process = write("proc.sh",
                                    "#!/bin/sh\nprintf '{\"Version\":1,\"AccessKeyId\":\"AKIDPROCESS0001\","
                                    "\"SecretAccessKey\":\"procsecret\"}'\n",
                                    true);
  const std::string token = write("token", "eyJ.web-identity-token.sig");
  credentials_ = write("credentials", "[base]\naws_access_key_id = AKIDBASE0001\naws_secret_access_key = basesecret\n");
  config_ = write("config",
                  "[profile replica]\nrole_arn = arn:aws:iam::222222222222:role/replica\nsource_profile = base\n"
                  "role_session_name = dynarep-test\n"
                  "[profile audit]\nrole_arn = arn:aws:iam::333333333333:role/audit\nsource_profile = replica\n"
                  "[profile proc]\ncredential_process = " + process + "\n"
                  "[profile web]\nrole_arn = arn:aws:iam::444444444444:role/eks\nweb_identity_token_file = " + token +
                  "\nrole_session_name = pod\n"
                  "[profile fromenv]\nrole_arn = arn:aws:iam::555555555555:role/ci\ncredential_source = Environment\n");

  EXPECT_EQ(whoami(profile("base")).account, "123456789012");  // moto's default account
  auto replica = whoami(profile("replica"));
  EXPECT_EQ(replica.account, "222222222222");
  EXPECT_EQ(replica.arn, "arn:aws:sts::222222222222:assumed-role/replica/dynarep-test");
  EXPECT_EQ(whoami(profile("audit")).account, "333333333333");  // base -> replica -> audit
  EXPECT_EQ(whoami(profile("proc")).account, "123456789012");
  auto web = whoami(profile("web"));
  EXPECT_EQ(web.account, "444444444444");
  EXPECT_EQ(web.arn, "arn:aws:sts::444444444444:assumed-role/eks/pod");
  env_.set("AWS_ACCESS_KEY_ID", "AKIDFROMENV0001").set("AWS_SECRET_ACCESS_KEY", "envsecret");
  EXPECT_EQ(whoami(profile("fromenv")).account, "555555555555");

  // A role on top of a profile, as --replica-profile base --replica-role-arn ... does.
  env_.set("AWS_SHARED_CREDENTIALS_FILE", credentials_).set("AWS_CONFIG_FILE", config_);
  auto on_top = credentials_for(CredentialsSpec{.profile = "base", .role_arn = "arn:aws:iam::666666666666:role/backup"});
  EXPECT_EQ(whoami(on_top).account, "666666666666");
}

TEST_F(StsMotoTest, WebIdentityFromTheEnvironmentComesBeforeProfiles) {
  const std::string token = write("token", "eyJ.service-account-token.sig");
  credentials_ = write("credentials", "[default]\naws_access_key_id = AKIDDEFAULT01\naws_secret_access_key = d\n");
  env_.set("AWS_SHARED_CREDENTIALS_FILE", credentials_)
      .set("AWS_ROLE_ARN", "arn:aws:iam::777777777777:role/irsa")
      .set("AWS_WEB_IDENTITY_TOKEN_FILE", token)
      .set("AWS_ROLE_SESSION_NAME", "replicator-0");
  auto id = whoami(default_credentials_chain());
  EXPECT_EQ(id.account, "777777777777");
  EXPECT_EQ(id.arn, "arn:aws:sts::777777777777:assumed-role/irsa/replicator-0");
}

TEST_F(StsMotoTest, AssumedRoleIsRefreshedBeforeItExpires) {
  credentials_ = write("credentials", "[base]\naws_access_key_id = AKIDBASE0002\naws_secret_access_key = basesecret\n");
  config_ = write("config", "[profile replica]\nrole_arn = arn:aws:iam::222222222222:role/replica\nsource_profile = base\n");
  // moto's sessions last an hour from the real time; the injected clock starts there.
  ManualClock clock(std::chrono::system_clock::now());
  auto p = profile("replica", clock);
  auto first = p->get();
  ASSERT_TRUE(first.ok()) << first.error().describe();
  ASSERT_TRUE(first->expiration.has_value());
  EXPECT_GT(*first->expiration, clock.now() + 50min);
  clock.advance(30min);
  EXPECT_EQ(p->get()->access_key_id, first->access_key_id);  // cached
  clock.advance(26min);  // within 5 minutes of the expiry: a new session
  auto second = p->get();
  ASSERT_TRUE(second.ok()) << second.error().describe();
  EXPECT_NE(second->access_key_id, first->access_key_id);
  EXPECT_EQ(whoami(std::make_shared<StaticCredentialsProvider>(*second)).account, "222222222222");
}

}  // namespace
}  // namespace dynarep::aws
