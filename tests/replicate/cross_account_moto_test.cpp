// Two accounts in one process, on moto: the primary table and the stream in account A (the
// environment's keys: moto's default account 123456789012), the replica in account B
// (222222222222), reached through an assumed role. `dynarep replicate --replica-profile B`
// converges, and `diff-tables --repair --replica-role-arn ...` repairs across the accounts.
// moto keeps each account's resources apart, so account A cannot even see the replica: the
// test knows the role was used.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "aws/credentials.h"
#include "aws/scoped_env.h"
#include "replicate/test_harness.h"
#include "support/moto.h"
#include "support/process.h"

namespace dynarep::replicate {
namespace {

using namespace std::chrono_literals;
using repltest::item;
using repltest::key;
namespace fs = std::filesystem;

constexpr const char* kReplicaRole = "arn:aws:iam::222222222222:role/replica";

class CrossAccountMotoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::local_stack();  // the environment's keys: account A on moto
    url_ = testing::moto_endpoint();
    if (url_.empty()) GTEST_SKIP() << "moto_server is not installed (scripts/setup.sh installs it with pip)";
    std::string tmpl = (fs::temp_directory_path() / "dynarep-xacct-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    config_ = dir_ + "/config";
    // Profile B: the replica account's role, assumed with the environment's keys.
    std::ofstream(config_) << "[profile acct-b]\nrole_arn = " << kReplicaRole
                           << "\ncredential_source = Environment\nrole_session_name = replicator\n";
    env_.set("AWS_ENDPOINT_URL_STS", url_);
    host_ = url_.substr(std::string("http://").size());
    a_ = repltest::ddb(url_);
    kin_ = repltest::kin(url_);
    // The test's own client for account B, through the same kind of assumed role.
    auto role = std::make_shared<aws::CachingCredentialsProvider>(
        std::make_shared<aws::AssumeRoleCredentialsProvider>(
            std::make_shared<aws::EnvironmentCredentialsProvider>(),
            aws::AssumeRoleParams{.role_arn = kReplicaRole, .session_name = "test-check"}, "us-east-1", "test"),
        SystemClock::instance());
    b_ = std::make_shared<dynamodb::Client>(std::make_shared<aws::AwsClient>(
        aws::Endpoint{url_, "us-east-1", "dynamodb"}, role, repltest::test_policy()));
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::map<std::string, std::string> child_env() const {
    return {{"AWS_CONFIG_FILE", config_}, {"AWS_ENDPOINT_URL_STS", url_}, {"AWS_REGION", "us-east-1"}};
  }
  std::string loc(const std::string& table) const { return host_ + "/" + table; }
  std::string wait_equal(const std::string& primary, const std::string& replica, std::chrono::milliseconds timeout) {
    std::string diff;
    repltest::eventually(
        [&] {
          diff = repltest::diff_tables(repltest::scan_all(*a_, primary), repltest::scan_all(*b_, replica));
          return diff.empty();
        },
        timeout, 250ms);
    return diff;
  }

  testing::ScopedEnv env_;
  std::string url_, host_, dir_, config_;
  std::shared_ptr<dynamodb::Client> a_, b_;
  std::shared_ptr<kinesis::Client> kin_;
};

TEST_F(CrossAccountMotoTest, ReplicateIntoAnotherAccountThenRepairAcrossAccounts) {
  const std::string primary = testing::unique_name("xprim");
  const std::string replica = testing::unique_name("xrepl");
  const std::string stream = testing::unique_name("xstream");
  ASSERT_TRUE(a_->create_table(primary, repltest::simple_schema()).ok());
  auto made = b_->create_table(replica, repltest::simple_schema());
  ASSERT_TRUE(made.ok()) << made.error().describe();
  // The replica is account B's: account A does not see it.
  auto from_a = a_->describe_table(replica);
  ASSERT_FALSE(from_a.ok());
  EXPECT_EQ(from_a.error().kind, ErrorKind::kNotFound);
  ASSERT_TRUE(kin_->create_stream(stream, 1).ok());

  repltest::Writer w(primary, stream, a_, kin_);
  for (int i = 0; i < 20; ++i) w.put(item("k" + std::to_string(i), 1));

  repltest::Proc rep({"replicate", "--primary", loc(primary), "--replica", loc(replica), "--replica-profile",
                      "acct-b", "--stream", stream, "--kinesis-endpoint", url_, "--idle-poll", "100ms"},
                     child_env());
  EXPECT_EQ(wait_equal(primary, replica, 60s), "") << rep.log();
  w.put(item("k3", 2));
  w.del(key("k4"));
  EXPECT_EQ(wait_equal(primary, replica, 60s), "") << rep.log();
  rep.signal(SIGTERM);
  EXPECT_EQ(rep.wait(30s), std::optional<int>(0)) << rep.log();
  EXPECT_EQ(rep.log().find("S3RVER"), std::string::npos) << "the log shows the secret key:\n" << rep.log();

  // Break the replica in account B, then repair it from account A's primary with the role
  // given on the command line (on top of the default chain).
  ASSERT_TRUE(b_->delete_item(replica, key("k1")).ok());
  ASSERT_TRUE(b_->put_item(replica, item("k2", 9)).ok());
  ASSERT_TRUE(b_->put_item(replica, item("extra", 1)).ok());
  auto found = testing::run_dynarep({"diff-tables", loc(primary), loc(replica), "--replica-profile", "acct-b",
                                     "--quiet", "--settle", "0"},
                                    "", child_env());
  EXPECT_EQ(found.exit_code, 1) << found.err;
  auto repaired = testing::run_dynarep({"diff-tables", loc(primary), loc(replica), "--repair", "--replica-role-arn",
                                        kReplicaRole, "--quiet", "--settle", "0"},
                                       "", child_env());
  EXPECT_EQ(repaired.exit_code, 0) << repaired.out << repaired.err;
  EXPECT_EQ(wait_equal(primary, replica, 5s), "");
  // Without the role, the replica is not there at all (account A).
  auto wrong = testing::run_dynarep({"diff-tables", loc(primary), loc(replica), "--quiet"}, "", child_env());
  EXPECT_EQ(wrong.exit_code, 3);
  EXPECT_NE(wrong.err.find(replica), std::string::npos) << wrong.err;
}

}  // namespace
}  // namespace dynarep::replicate
