// Credentials never appear in what dynarep prints, against the local stack (dynalite accepts
// any credentials, and so does s3rver for requests carrying a session token). dynarep runs with
// --verbose and temporary credentials (secret key and session token) from the environment;
// successful calls and failing ones (a missing table, a missing bucket).
#include <gtest/gtest.h>

#include "s3/client.h"
#include "secrets.h"
#include "support/process.h"
#include "support/stack.h"

namespace dynarep::security {
namespace {

using dynarep::testing::local_stack;
using dynarep::testing::run_dynarep;
using dynarep::testing::unique_name;

class CredentialsStackTest : public ::testing::Test {
 protected:
  void SetUp() override { local_stack(); }  // exports the endpoints into this process
  // Anything that looks like what follows "Signature=" in an Authorization header.
  static void expect_no_signature_syntax(const dynarep::testing::ProcessResult& r, const std::string& what) {
    for (const std::string* text : {&r.out, &r.err}) {
      EXPECT_EQ(text->find("Signature="), std::string::npos) << what << ":\n" << *text;
      EXPECT_EQ(text->find("<SignatureProvided>"), std::string::npos) << what << ":\n" << *text;
      EXPECT_EQ(text->find("Credential="), std::string::npos) << what << ":\n" << *text;
    }
  }
};

TEST_F(CredentialsStackTest, VerboseTableCommands) {
  const auto env = credential_env();
  auto tables = run_dynarep({"--verbose", "tables", "us-east-1"}, "", env);
  EXPECT_EQ(tables.exit_code, 0) << tables.err;
  EXPECT_NE(tables.err.find("http POST"), std::string::npos) << "--verbose logged no request:\n" << tables.err;
  expect_no_secrets(tables, {}, "tables --verbose");
  expect_no_signature_syntax(tables, "tables --verbose");

  const std::string missing = unique_name("security-missing");
  auto scan = run_dynarep({"--verbose", "scan", "us-east-1/" + missing, "--quiet"}, "", env);
  EXPECT_EQ(scan.exit_code, 3) << scan.err;
  EXPECT_NE(scan.err.find(missing), std::string::npos) << scan.err;
  expect_no_secrets(scan, {}, "scan of a missing table");
  expect_no_signature_syntax(scan, "scan of a missing table");

  auto get = run_dynarep({"--verbose", "get", "us-east-1/" + missing, R"({"id":"a"})"}, "", env);
  EXPECT_NE(get.exit_code, 0) << get.err;
  expect_no_secrets(get, {}, "get from a missing table");
  expect_no_signature_syntax(get, "get from a missing table");
}

// S3 calls too: s3rver knows only its own access key, and answers requests signed with it and
// a session token whatever the secret; another key gets InvalidAccessKeyId.
TEST_F(CredentialsStackTest, VerboseS3Calls) {
  const std::string bucket = unique_name("dr-security");
  Status made = s3::Client::connect("us-east-1", "").create_bucket(bucket);
  ASSERT_TRUE(made.ok()) << made.error().describe();
  auto env = credential_env();
  env["AWS_ACCESS_KEY_ID"] = "S3RVER";
  auto r = run_dynarep({"--verbose", "incremental-snapshot", "s3://" + bucket + "/prefix/table",
                        "s3://" + bucket + "/snapshot"},
                       "", env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("http PUT"), std::string::npos) << "--verbose logged no upload:\n" << r.err;
  expect_no_secrets(r, {}, "incremental-snapshot --verbose");
  expect_no_signature_syntax(r, "incremental-snapshot --verbose");

  auto rejected = run_dynarep({"--verbose", "incremental-snapshot", "s3://" + bucket + "/prefix/table",
                               "s3://" + bucket + "/snapshot2"},
                              "", credential_env());
  EXPECT_EQ(rejected.exit_code, 3) << rejected.err;
  EXPECT_NE(rejected.err.find("InvalidAccessKeyId"), std::string::npos) << rejected.err;
  expect_no_secrets(rejected, {}, "incremental-snapshot with a key s3rver rejects");
  expect_no_signature_syntax(rejected, "incremental-snapshot with a key s3rver rejects");
}

}  // namespace
}  // namespace dynarep::security
