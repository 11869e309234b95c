// Every command's argument errors, help and exit codes, in-process through cli::run (no
// server, no process): what a user sees when the command line is wrong. docs/formats.md §5:
// 0 success, 2 usage; usage errors print one line naming what is wrong (plus a pointer to
// --help) on stderr and nothing on stdout.
//
// Nothing here may reach a service: the environment points every AWS endpoint at a closed
// port, and each case must finish in under a second, so a check that moved behind a network
// call (and would then be slow and report exit 3) fails here.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli_run.h"

namespace dynarep::cli::testing {
namespace {

bool contains(const std::string& text, std::string_view what) { return text.find(what) != std::string::npos; }

std::string joined(const std::vector<std::string>& args) {
  std::string s;
  for (const auto& a : args) s += (s.empty() ? "" : " ") + a;
  return s;
}

class CliArgs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // A closed port: a case that reaches for the network fails fast instead of finding AWS.
    for (const char* v : {"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_KINESIS",
                          "AWS_ENDPOINT_URL_S3"}) {
      ::setenv(v, "http://127.0.0.1:9", 1);
    }
    ::setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    ::setenv("AWS_REGION", "us-east-1", 1);
    ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  }

  // Runs `args`, checks the exit code, that stderr says `says`, that stdout is empty, and that
  // it took under a second.
  static void expect_usage(const std::vector<std::string>& args, std::string_view says) {
    auto start = std::chrono::steady_clock::now();
    auto r = run_cli(args);
    auto took = std::chrono::steady_clock::now() - start;
    const std::string what = joined(args);
    EXPECT_EQ(r.exit_code, 2) << what << "\n" << r.err;
    EXPECT_TRUE(contains(r.err, says)) << what << ": stderr should say '" << says << "':\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << what << ": " << r.out;
    EXPECT_LT(took, std::chrono::seconds(1)) << what << " took "
                                              << std::chrono::duration<double>(took).count() << "s";
    // One line saying what is wrong, one pointing to the help.
    EXPECT_LE(std::count(r.err.begin(), r.err.end(), '\n'), 2) << what << ":\n" << r.err;
  }
};

const std::vector<std::string> kCommands{
    "tables",           "table",          "scan",           "export",
    "get",              "put",            "import",         "delete",
    "republish",        "create-stream",  "delete-stream",  "replicate",
    "redrive",          "status",         "diff-tables",    "diff-record",
    "replicate-record", "backup-table",   "restore",        "incremental-backup",
    "incremental-backfill", "incremental-snapshot", "incremental-backup-record",
    "incremental-diff-record", "incremental-record-history"};

TEST_F(CliArgs, HelpListsEveryCommandAndExits0) {
  auto r = run_cli({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  for (const auto& c : kCommands) EXPECT_TRUE(contains(r.out, c)) << c << " missing from --help:\n" << r.out;
  auto v = run_cli({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_TRUE(v.out.starts_with("dynarep ")) << v.out;
}

TEST_F(CliArgs, EveryCommandHasHelpOnStdout) {
  for (const auto& c : kCommands) {
    auto r = run_cli({c, "--help"});
    EXPECT_EQ(r.exit_code, 0) << c << ": " << r.err;
    EXPECT_TRUE(contains(r.out, "dynarep " + c)) << c << ":\n" << r.out;
    EXPECT_TRUE(r.err.empty()) << c << ": " << r.err;
  }
}

TEST_F(CliArgs, NoUnknownOrMissingCommand) {
  expect_usage({}, "subcommand");
  expect_usage({"nope"}, "unknown command 'nope'");
  expect_usage({"put", "us-east-1/orders", "--no-such-flag"}, "--no-such-flag");
  expect_usage({"--log-format", "xml", "tables"}, "--log-format");
}

// Every command without its required arguments names what is missing.
TEST_F(CliArgs, MissingArgumentsAreNamed) {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  for (const auto& c : std::vector<Case>{
           {{"table"}, "location"},
           {{"scan"}, "location"},
           {{"export"}, "location"},
           {{"get", "us-east-1/orders"}, "key"},
           {{"put"}, "location"},
           {{"import"}, "location"},
           {{"delete", "us-east-1/orders"}, "key"},
           {{"republish", "changes.txt"}, "--stream"},
           {{"republish", "--stream", "s"}, "file"},
           {{"create-stream"}, "name"},
           {{"delete-stream"}, "name"},
           {{"replicate"}, "--stream or --table-stream is required"},
           {{"replicate", "--stream", "s"}, "--primary is required"},
           {{"replicate", "--stream", "s", "--primary", "us-east-1/orders"}, "--replica is required"},
           {{"redrive", "letters"}, "--replica"},
           {{"status"}, "--lease-table"},
           {{"diff-tables", "us-east-1/orders"}, "replica"},
           {{"diff-record", "us-east-1/orders", "us-east-1/copy"}, "key"},
           {{"replicate-record", "us-east-1/orders", "us-east-1/copy"}, "key"},
           {{"backup-table", "us-east-1/orders"}, "dest"},
           {{"restore", "s3://bucket/prefix"}, "location"},
           {{"incremental-backup", "s3://bucket/prefix"}, "--primary"},
           {{"incremental-backup", "--primary", "us-east-1/orders", "s3://bucket/prefix"}, "give --stream NAME"},
           {{"incremental-backfill", "us-east-1/orders"}, "dest"},
           {{"incremental-snapshot", "s3://bucket/prefix/orders"}, "dest"},
           {{"incremental-backup-record", "us-east-1/orders", "s3://bucket/prefix"}, "key"},
           {{"incremental-diff-record", "us-east-1/orders", "s3://bucket/prefix"}, "key"},
           {{"incremental-record-history", "s3://bucket/prefix/orders"}, "key"},
       }) {
    expect_usage(c.args, c.says);
  }
}

// Locations that are not locations, and names the services would refuse, stop before any call.
TEST_F(CliArgs, WrongLocationsAreNamed) {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  for (const auto& c : std::vector<Case>{
           {{"tables", "nowhere"}, "nowhere"},
           {{"table", "us-east-1/x"}, "table name 'x'"},
           {{"scan", "us-east-1/x"}, "table name 'x'"},
           {{"export", "not-a-location"}, "not-a-location"},
           {{"get", "not-a-location", R"({"id":"a"})"}, "not-a-location"},
           {{"put", "not-a-location"}, "not-a-location"},
           {{"import", "us-east-1/x"}, "table name 'x'"},
           {{"delete", "not-a-location", R"({"id":"a"})"}, "not-a-location"},
           {{"diff-tables", "us-east-1/orders", "not-a-location"}, "not-a-location"},
           {{"diff-tables", "not-a-location", "us-east-1/orders"}, "not-a-location"},
           {{"diff-record", "us-east-1/orders", "not-a-location", R"({"id":"a"})"}, "not-a-location"},
           {{"backup-table", "not-a-location", "s3://bucket/prefix"}, "not-a-location"},
           {{"restore", "s3://bucket/prefix", "not-a-location"}, "not-a-location"},
           {{"incremental-backfill", "not-a-location", "s3://bucket/prefix"}, "not-a-location"},
           {{"incremental-record-history", "/tmp/not-s3", R"({"id":"a"})"}, "versions are kept only on S3"},
           {{"status", "--lease-table", "us-east-1/x"}, "table name 'x'"},
       }) {
    expect_usage(c.args, c.says);
  }
}

// Option values out of range, malformed or contradicting each other.
TEST_F(CliArgs, BadOptionValuesAreNamed) {
  const std::string t = "us-east-1/orders";
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  for (const auto& c : std::vector<Case>{
           {{"put", t, "/no/such/file"}, "cannot open /no/such/file"},
           {{"put", t, "--parallel", "0"}, "--parallel"},
           {{"put", t, "--stream", "s", "--stream-parallel", "0"}, "--stream-parallel"},
           {{"put", t, "--unpublished-file", "x"}, "--unpublished-file needs --stream"},
           {{"put", t, "--stream", "bad/name"}, "stream name 'bad/name'"},
           {{"import", t, "/no/such/file"}, "cannot open /no/such/file"},
           {{"delete", t, "not json"}, "key not json"},
           {{"delete", t, R"({"id":"a"})", "--stream", "bad/name"}, "stream name 'bad/name'"},
           {{"republish", "/no/such/file", "--stream", "s"}, "cannot open /no/such/file"},
           {{"republish", "-", "--stream", "bad/name"}, "stream name 'bad/name'"},
           {{"create-stream", "bad/name"}, "stream name 'bad/name'"},
           {{"create-stream", "s", "--shards", "0"}, "--shards"},
           {{"replicate", "--fence", "sometimes"}, "--fence"},
           {{"replicate", "--max-records", "0"}, "--max-records"},
           {{"status", "--lease-table", "leases", "--max-lag", "soon"}, "--max-lag"},
           {{"status", "--lease-table", "leases", "--lease-duration", "long"}, "--lease-duration"},
           {{"diff-tables", t, "us-east-1/copy", "--parallel", "0"}, "--parallel"},
           {{"diff-tables", t, "us-east-1/copy", "--segment", "1"}, "--segments"},
           {{"backup-table", t, "s3://bucket/prefix", "--segment", "1"}, "--segment needs --segments"},
           {{"backup-table", t, "s3://bucket/prefix", "--segments", "2"}, "--segments needs --segment"},
           {{"backup-table", t, "s3://bucket/prefix", "--gzip-level", "13"}, "--gzip-level"},
           {{"backup-table", t, "-", "--json"}, "--json writes to stdout"},
           {{"restore", "s3://bucket/prefix", t, "--readers", "0"}, "--readers"},
           {{"restore", "s3://bucket/prefix", t, "--key", "id:Q"}, "id:Q"},
           {{"restore", "s3://bucket/prefix", t, "--as-of", "yesterday"}, "--as-of"},
           {{"restore", "s3://bucket/prefix", t, "--as-of", "2024-01-01T00:00:00Z"}, "--as-of needs --history"},
           {{"restore", "s3://bucket/prefix", t, "--history", "s3://bucket/h/orders"}, "--history is for --as-of"},
           {{"incremental-backup", "--primary", t, "s3://bucket/prefix", "--stream", "s", "--start-at", "soon"},
            "--start-at"},
       }) {
    expect_usage(c.args, c.says);
  }
}

}  // namespace
}  // namespace dynarep::cli::testing
