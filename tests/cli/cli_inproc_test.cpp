// The table commands in-process (cli::run with string streams) against the local stack: the
// loading paths put, import and restore share (dynamodb/table_load.h), their messages and exit
// codes, without starting the binary.
#include <gtest/gtest.h>

#include "cli_env.h"
#include "cli_run.h"

namespace dynarep::cli::testing {
namespace {

using CliInProcess = CliStack;

const model::KeySchema kIdKey{"id", model::Type::kS, "", model::Type::kS};

// A dyno export description line for a table keyed h (S), r (N).
const std::string kHashRangeDescription =
    R"({"AttributeDefinitions":[{"AttributeName":"h","AttributeType":"S"},{"AttributeName":"r","AttributeType":"N"}],)"
    R"("KeySchema":[{"AttributeName":"h","KeyType":"HASH"},{"AttributeName":"r","KeyType":"RANGE"}],)"
    R"("BillingModeSummary":{"BillingMode":"PAY_PER_REQUEST"},"TableName":"orig"})";

// Items that carry both keys: the old import loaded them into a table keyed id, silently
// making a table that no longer matches its export.
const std::string kItemsWithBothKeys = R"({"id":{"S":"a"},"h":{"S":"a"},"r":{"N":"1"}})"
                                       "\n"
                                       R"({"id":{"S":"b"},"h":{"S":"b"},"r":{"N":"2"}})"
                                       "\n";

TEST_F(CliInProcess, ImportIntoATableWithAnotherKeyIsRefusedNamingTheTableAndBothKeys) {
  std::string t = table(true, kIdKey);
  auto r = run_cli({"import", "us-east-1/" + t}, kHashRangeDescription + "\n" + kItemsWithBothKeys);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  auto l = lines(r.err);
  ASSERT_EQ(l.size(), 1u) << r.err;
  EXPECT_EQ(l[0], "dynarep import: stdin line 1: table us-east-1/" + t +
                      " has key id (S) but the description line has key h (S), r (N)");
  EXPECT_TRUE(items(t).empty()) << "nothing is written into a table with another key";
}

TEST_F(CliInProcess, ImportIntoATableWithTheSameKeyLoadsIntoIt) {
  std::string t = table(true, {"h", model::Type::kS, "r", model::Type::kN});
  auto r = run_cli({"import", "us-east-1/" + t}, kHashRangeDescription + "\n" + kItemsWithBothKeys);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "import: table us-east-1/" + t + " exists; loading items into it")) << r.err;
  EXPECT_TRUE(contains(r.err, "import us-east-1/" + t + ": 2 items written")) << r.err;
}

TEST_F(CliInProcess, ImportCreatesAMissingTableFromTheDescription) {
  std::string t = table(false);
  auto r = run_cli({"import", "us-east-1/" + t, "--quiet"}, kHashRangeDescription + "\n" + kItemsWithBothKeys);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  auto d = ddb_->describe_table(t);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(model::describe_key_schema(d->key_schema), "h (S), r (N)");
  EXPECT_EQ(items(t).size(), 2u);
}

TEST_F(CliInProcess, PutIntoAMissingTableSaysSoAndExits3) {
  std::string t = table(false);
  auto r = run_cli({"put", "us-east-1/" + t}, numbered_lines(2));
  EXPECT_EQ(r.exit_code, 3);
  auto l = lines(r.err);
  ASSERT_EQ(l.size(), 1u) << r.err;
  EXPECT_TRUE(l[0].starts_with("dynarep put: ")) << l[0];
  EXPECT_TRUE(l[0].ends_with("table us-east-1/" + t +
                             " does not exist (create it first, or use `dynarep import` with a description line)"))
      << l[0];
  EXPECT_FALSE(ddb_->describe_table(t).ok()) << "put never creates a table";
}

TEST_F(CliInProcess, PutNamesTheLineAndKeyOfAnItemWithAMistypedKey) {
  std::string t = table(true, kIdKey);
  auto r = run_cli({"put", "us-east-1/" + t, "--quiet"},
                   numbered_lines(3) + R"({"id":{"N":"7"},"n":{"N":"1"}})" + "\n" + numbered_lines(2, "after"));
  EXPECT_EQ(r.exit_code, 3);
  auto l = lines(r.err);
  ASSERT_EQ(l.size(), 2u) << r.err;
  EXPECT_TRUE(contains(l[0], R"(dynarep put: stdin line 4: item {"id":{"N":"7"}}: )")) << l[0];
  EXPECT_TRUE(contains(l[1], "stopped at line 4: 3 items before it written")) << l[1];
  EXPECT_EQ(items(t).size(), 3u);
}

TEST_F(CliInProcess, RestoreOfAnExportWithAnotherKeyIsRefusedLikeImport) {
  std::string t = table(true, kIdKey);
  std::string f = file("export.jsonl", kHashRangeDescription + "\n" + kItemsWithBothKeys);
  auto r = run_cli({"restore", f, "us-east-1/" + t, "--quiet"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_TRUE(contains(r.err, "table us-east-1/" + t + " has key id (S) but the backup has key h (S), r (N)"))
      << r.err;
  EXPECT_TRUE(items(t).empty());
}

// Per-side credentials (docs/credentials.md, "Two accounts in one process"): each
// --<side>-profile reaches the clients of that side and no other. Every side gets a profile
// that does not exist, with its own name, so the first call of that side fails and the one
// error line names that profile and the place (table, stream, bucket) it was for; the sides
// not named use the stack's keys and work.
TEST_F(CliInProcess, PerSideProfilesReachTheirSidesOnStatusIncrementalBackupRedriveAndDeadLetters) {
  const std::string t = table(), t2 = table(), s = stream();
  const std::string loc = "us-east-1/" + t, loc2 = "us-east-1/" + t2;
  struct Case {
    std::vector<std::string> args;
    std::string profile, place;
  };
  const std::string letters = file("letters.jsonl", "");
  // A record that can never be applied (not JSON): the Lambda event mode dead-letters it.
  const std::string event = file(
      "event.json",
      R"({"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"pk","sequenceNumber":"1",)"
      R"("data":"bm90IGpzb24=","approximateArrivalTimestamp":1700000000.5},"eventSource":"aws:kinesis",)"
      R"("eventVersion":"1.0","eventID":"shardId-000000000000:1","eventName":"aws:kinesis:record",)"
      R"("awsRegion":"us-east-1","eventSourceARN":"arn:aws:kinesis:us-east-1:1:stream/s"}]})");
  for (const auto& c : std::vector<Case>{
           {{"status", "--lease-table", loc, "--lease-profile", "no-lease-side"}, "no-lease-side", t},
           // The stream side reads --primary's description (its stream's ARN) too.
           {{"status", "--lease-table", loc, "--table-stream", "--primary", loc2, "--stream-profile", "no-stream-side"},
            "no-stream-side", t2},
           {{"incremental-backup", "--quiet", "--primary", loc, "s3://dynarep-nobucket/p", "--stream", s, "--primary-profile",
             "no-primary-side"},
            "no-primary-side", t},
           {{"incremental-backup", "--quiet", "--primary", loc, path("backups"), "--stream", s, "--stream-profile",
             "no-stream-side"},
            "no-stream-side", s},
           {{"incremental-backup", "--quiet", "--primary", loc, "s3://dynarep-nobucket/p", "--stream", s, "--s3-profile",
             "no-s3-side"},
            "no-s3-side", "dynarep-nobucket"},
           {{"redrive", letters, "--primary", loc, "--replica", loc2, "--primary-profile", "no-primary-side"},
            "no-primary-side", t},
           {{"redrive", letters, "--primary", loc, "--replica", loc2, "--replica-profile", "no-replica-side"},
            "no-replica-side", t2},
           {{"redrive", "s3://dynarep-nobucket/dl", "--replica", loc2, "--dead-letter", path("still.jsonl"),
             "--s3-profile", "no-s3-side"},
            "no-s3-side", "dynarep-nobucket"},
           {{"replicate", "--event", event, "--replica", loc2, "--dead-letter", "s3://dynarep-nobucket/dl",
             "--dead-letter-profile", "no-dead-letter-side"},
            "no-dead-letter-side", "dynarep-nobucket"},
       }) {
    std::string what;
    for (const auto& a : c.args) what += a + " ";
    auto r = run_cli(c.args);
    EXPECT_EQ(r.exit_code, 3) << what << "\n" << r.out << r.err;
    EXPECT_TRUE(contains(r.err, "profile '" + c.profile + "' not found")) << what << "\n" << r.err;
    EXPECT_TRUE(contains(r.err, c.place)) << what << "\n" << r.err;
    EXPECT_EQ(lines(r.err).size(), 1u) << what << "\n" << r.err;
  }
}

}  // namespace
}  // namespace dynarep::cli::testing
