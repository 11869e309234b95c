// Credentials never appear in what dynarep prints, against the local stack (dynalite accepts
// any credentials; s3rver checks signatures made with its own key pair). dynarep runs with
// --verbose and temporary credentials (secret key and session token) from the environment.
#include <gtest/gtest.h>

#include <regex>

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

// s3rver knows the access key but not our secret: it answers SignatureDoesNotMatch with the
// string to sign, the canonical request (which holds the session token's header) and the
// signature it was given, as S3 does.
TEST_F(CredentialsStackTest, VerboseS3SignatureMismatch) {
  auto env = credential_env();
  env["AWS_ACCESS_KEY_ID"] = "S3RVER";
  const std::string bucket = "security-" + std::to_string(::getpid());
  auto r = run_dynarep({"--verbose", "incremental-snapshot", "s3://" + bucket + "/prefix/table",
                        "s3://" + bucket + "/snapshot"},
                       "", env);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("SignatureDoesNotMatch"), std::string::npos)
      << "expected s3rver to reject the signature:\n" << r.err;
  expect_no_secrets(r, {}, "an S3 SignatureDoesNotMatch");
  expect_no_signature_syntax(r, "an S3 SignatureDoesNotMatch");
}

}  // namespace
}  // namespace dynarep::security
