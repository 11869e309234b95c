// The table commands as a user runs them (the built binary, exit codes per docs/formats.md §5,
// stdout data, one clear stderr line per error): tables, table, scan, export, get, delete,
// put, import; their happy paths and their bad inputs.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "cli_env.h"
#include "support/fault_proxy.h"

namespace dynarep::cli::testing {
namespace {

// ---- happy paths ---------------------------------------------------------------------------

TEST_F(CliStack, TablesListsTablesAndTableDescribesOneAsDynoDoes) {
  std::string t = table();
  auto r = run_dynarep({"tables", "us-east-1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto names = lines(r.out);
  EXPECT_NE(std::find(names.begin(), names.end(), t), names.end()) << r.out;
  // dyno also takes region/table here.
  auto r2 = run_dynarep({"tables", "us-east-1/" + t});
  EXPECT_EQ(r2.exit_code, 0) << r2.err;
  // Not compared with r.out: other tests create and delete tables on the same stack meanwhile.
  auto names2 = lines(r2.out);
  EXPECT_NE(std::find(names2.begin(), names2.end(), t), names2.end()) << r2.out;

  auto d = run_dynarep({"table", "us-east-1/" + t});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  simdjson::dom::parser parser;
  auto doc = parser.parse(d.out);
  ASSERT_FALSE(doc.error()) << d.out;
  std::string_view name;
  ASSERT_FALSE(doc.value()["Table"]["TableName"].get(name)) << d.out;  // {"Table":{...}} like dyno
  EXPECT_EQ(name, t);
}

TEST_F(CliStack, PutReadsStdinOrAFileAndWritesEveryLine) {
  std::string t = table();
  // 51 items: two full batches and a partial one (dyno put dropped the partial one).
  auto r = run_dynarep({"put", "us-east-1/" + t}, numbered_lines(51));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  EXPECT_TRUE(contains(r.err, "51 items written")) << r.err;
  auto got = items(t);
  ASSERT_EQ(got.size(), 51u);
  EXPECT_EQ(model::to_json(got["k50"]), R"({"id":{"S":"k50"},"n":{"N":"50"}})");

  std::string f = file("in.txt", numbered_lines(26, "f") + "\n\n");  // blank lines are skipped
  auto r2 = run_dynarep({"put", "us-east-1/" + t, f, "--parallel", "3", "--quiet"});
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_TRUE(r2.err.empty()) << r2.err;
  EXPECT_EQ(items(t).size(), 77u);
}

TEST_F(CliStack, PutWritesFirstLinesThatDynoSkipped) {
  // dyno's parser treats a first line with false / 0 / "" / NULL as a description and writes
  // nothing; these are plain items.
  std::string t = table();
  std::string in = R"({"id":{"S":"a"},"f":{"BOOL":false},"z":{"N":"0"},"e":{"S":""},"n":{"NULL":true}})"
                   "\n"
                   R"({"id":{"S":"b"}})"
                   "\n";
  auto r = run_dynarep({"put", "us-east-1/" + t, "--quiet"}, in);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto got = items(t);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(model::to_json(got["a"]), R"({"id":{"S":"a"},"f":{"BOOL":false},"z":{"N":"0"},"e":{"S":""},"n":{"NULL":true}})");
}

TEST_F(CliStack, ScanPrintsItemsAndExportPrintsTheDescriptionFirst) {
  std::string t = table();
  ASSERT_EQ(run_dynarep({"put", "us-east-1/" + t, "--quiet"}, numbered_lines(40)).exit_code, 0);
  auto s = run_dynarep({"scan", "us-east-1/" + t, "--segments", "3"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(lines(s.out).size(), 40u);
  EXPECT_TRUE(contains(s.err, "40 items")) << s.err;

  auto e = run_dynarep({"export", "us-east-1/" + t, "--quiet"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  auto l = lines(e.out);
  ASSERT_EQ(l.size(), 41u);
  simdjson::dom::parser parser;
  auto d = parser.parse(l[0]);
  ASSERT_FALSE(d.error()) << l[0];
  std::string_view name;
  EXPECT_FALSE(d.value()["TableName"].get(name));
  EXPECT_EQ(name, t);
  for (const char* gone : {"ItemCount", "TableSizeBytes", "TableStatus", "CreationDateTime"}) {
    EXPECT_TRUE(d.value()[gone].error()) << gone << " should not be in " << l[0];
  }
  // The export imports into a new table with the same items.
  std::string copy = table(false);
  auto i = run_dynarep({"import", "us-east-1/" + copy, "--quiet"}, e.out);
  ASSERT_EQ(i.exit_code, 0) << i.err;
  EXPECT_EQ(items(copy), items(t));
}

TEST_F(CliStack, GetPrintsOneItemAndDeleteRemovesIt) {
  std::string t = table();
  ASSERT_EQ(run_dynarep({"put", "us-east-1/" + t, "--quiet"}, numbered_lines(3)).exit_code, 0);
  auto g = run_dynarep({"get", "us-east-1/" + t, R"({"id":"k1"})"});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_EQ(g.out, "{\"id\":{\"S\":\"k1\"},\"n\":{\"N\":\"1\"}}\n");
  auto d = run_dynarep({"delete", "us-east-1/" + t, R"({"id":{"S":"k1"}})"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(items(t).count("k1"), 0u);
  auto g2 = run_dynarep({"get", "us-east-1/" + t, R"({"id":"k1"})"});
  EXPECT_EQ(g2.exit_code, 3);
  EXPECT_EQ(lines(g2.err).size(), 1u) << g2.err;
  EXPECT_TRUE(contains(g2.err, R"(no item with key {"id":{"S":"k1"}})")) << g2.err;
}

TEST_F(CliStack, ImportCreatesOnDemandAndProvisionedTablesFromTheirDescriptions) {
  // An on-demand description as `dyno export` prints it (ProvisionedThroughput 0/0, which
  // CreateTable rejects: dyno's import crashed on it).
  std::string od = table(false);
  std::string on_demand =
      R"({"AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],"TableName":"orig",)"
      R"("KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"ProvisionedThroughput":{"ReadCapacityUnits":0,)"
      R"("WriteCapacityUnits":0},"TableArn":"arn:aws:dynamodb:us-east-1:000000000000:table/orig",)"
      R"("TableId":"3c258b96","BillingModeSummary":{"BillingMode":"PAY_PER_REQUEST"}})";
  auto r = run_dynarep({"import", "us-east-1/" + od}, on_demand + "\n" + numbered_lines(30));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "creating table us-east-1/" + od)) << r.err;
  auto d = ddb_->describe_table(od);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->billing_mode, "PAY_PER_REQUEST");
  EXPECT_EQ(d->status, "ACTIVE");
  EXPECT_EQ(items(od).size(), 30u);

  std::string pv = table(false);
  std::string provisioned =
      R"({"AttributeDefinitions":[{"AttributeName":"h","AttributeType":"S"},{"AttributeName":"r","AttributeType":"N"}],)"
      R"("KeySchema":[{"AttributeName":"h","KeyType":"HASH"},{"AttributeName":"r","KeyType":"RANGE"}],)"
      R"("ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":7,"NumberOfDecreasesToday":0},"TableName":"x"})";
  auto r2 = run_dynarep({"import", "us-east-1/" + pv, "--quiet"},
                        provisioned + "\n" + R"({"h":{"S":"a"},"r":{"N":"1"}})" + "\n" + R"({"h":{"S":"a"},"r":{"N":"2"}})" + "\n");
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  auto d2 = ddb_->describe_table(pv);
  ASSERT_TRUE(d2.ok());
  EXPECT_NE(d2->billing_mode, "PAY_PER_REQUEST");
  EXPECT_TRUE(contains(d2->raw, R"("ReadCapacityUnits":5)")) << d2->raw;
  EXPECT_TRUE(contains(d2->raw, R"("WriteCapacityUnits":7)")) << d2->raw;
  EXPECT_EQ(d2->key_schema.range_name, "r");

  // Into an existing table: the description line is skipped, the items loaded.
  auto r3 = run_dynarep({"import", "us-east-1/" + od}, on_demand + "\n" + numbered_lines(5, "more"));
  ASSERT_EQ(r3.exit_code, 0) << r3.err;
  EXPECT_TRUE(contains(r3.err, "exists; loading items into it")) << r3.err;
  EXPECT_EQ(items(od).size(), 35u);
}

// ---- bad input -----------------------------------------------------------------------------

// The line number is right and the count written is the truth, with 8 parallel writers and
// 1,000 good lines queued ahead of the bad one: exactly those 1,000 are on the table.
TEST_F(CliStack, MalformedLineStopsWithItsNumberAfterWritingEverythingBeforeIt) {
  std::string t = table();
  std::string in = numbered_lines(1000) + "{\"id\":{\"S\":\"broken\"},\n" + numbered_lines(50, "after");
  auto r = run_dynarep({"put", "us-east-1/" + t, "--parallel", "8", "--quiet"}, in);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(r.out.empty());
  auto l = lines(r.err);
  ASSERT_EQ(l.size(), 2u) << r.err;
  EXPECT_TRUE(contains(l[0], "dynarep put: stdin line 1001: malformed JSON")) << l[0];
  EXPECT_TRUE(contains(l[1], "stopped at line 1001: 1000 items before it written, nothing from it on")) << l[1];
  EXPECT_TRUE(contains(l[1], "tail -n +1001")) << l[1];
  auto got = items(t);
  EXPECT_EQ(got.size(), 1000u);
  EXPECT_EQ(got.count("after0"), 0u);
}

TEST_F(CliStack, OversizeItemsAndBadKeysAreReportedWithKeyAndLine) {
  std::string t = table();
  std::string big = R"({"id":{"S":"huge"},"x":{"S":")" + std::string(410000, 'a') + "\"}}\n";
  auto r = run_dynarep({"put", "us-east-1/" + t, "--quiet"}, numbered_lines(2) + big);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(contains(r.err, R"(stdin line 3: item {"id":{"S":"huge"}} is 410007 bytes, over DynamoDB's 400 KB limit)"))
      << r.err;
  EXPECT_EQ(items(t).size(), 2u);

  std::string f = file("bad-key.txt", numbered_lines(1) + R"({"name":{"S":"no id"}})" + "\n");
  auto missing = run_dynarep({"put", "us-east-1/" + t, f, "--quiet"});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_TRUE(contains(missing.err, f + " line 2: partition key attribute \"id\" is missing")) << missing.err;

  auto wrong = run_dynarep({"put", "us-east-1/" + t, "--quiet"}, R"({"id":{"N":"7"},"v":{"S":"x"}})" "\n");
  EXPECT_EQ(wrong.exit_code, 3);
  EXPECT_TRUE(contains(wrong.err, R"(stdin line 1: item {"id":{"N":"7"}}: partition key attribute "id" has type N)"))
      << wrong.err;

  auto empty_key = run_dynarep({"put", "us-east-1/" + t, "--quiet"}, R"({"id":{"S":""}})" "\n");
  EXPECT_EQ(empty_key.exit_code, 3);
  EXPECT_TRUE(contains(empty_key.err, "stdin line 1")) << empty_key.err;
  EXPECT_TRUE(contains(empty_key.err, "is empty")) << empty_key.err;

  auto bad_type = run_dynarep({"put", "us-east-1/" + t, "--quiet"}, R"({"id":{"S":"q"},"v":{"Q":"x"}})" "\n");
  EXPECT_EQ(bad_type.exit_code, 3);
  EXPECT_TRUE(contains(bad_type.err, "stdin line 1")) << bad_type.err;
  EXPECT_TRUE(contains(bad_type.err, "unknown type tag")) << bad_type.err;
}

TEST_F(CliStack, MissingTablesAreOneClearLine) {
  std::string t = table(false);
  for (std::vector<std::string> args : {std::vector<std::string>{"scan", "us-east-1/" + t},
                                        {"export", "us-east-1/" + t},
                                        {"table", "us-east-1/" + t},
                                        {"get", "us-east-1/" + t, R"({"id":"a"})"},
                                        {"delete", "us-east-1/" + t, R"({"id":"a"})"},
                                        {"put", "us-east-1/" + t}}) {
    auto r = run_dynarep(args, numbered_lines(1));
    EXPECT_EQ(r.exit_code, 3) << args[0] << ": " << r.err;
    EXPECT_EQ(lines(r.err).size(), 1u) << args[0] << ": " << r.err;
    EXPECT_TRUE(contains(r.err, "dynarep " + args[0] + ": ")) << r.err;
    EXPECT_TRUE(contains(r.err, "table us-east-1/" + t + " does not exist")) << args[0] << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << args[0];
  }
}

TEST_F(CliStack, UsageErrorsExit2) {
  std::string t = table();
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  for (const auto& c : std::vector<Case>{
           {{"put", "not-a-location"}, "not-a-location"},
           {{"put", "us-east-1/" + t, "/no/such/file"}, "cannot open /no/such/file"},
           {{"put", "us-east-1/" + t, "--parallel", "0"}, "--parallel"},
           {{"put", "us-east-1/" + t, "--unpublished-file", "x"}, "--unpublished-file needs --stream"},
           {{"put", "us-east-1/" + t, "--stream", "bad/name"}, "stream name 'bad/name'"},
           {{"import"}, "location"},
           {{"scan", "us-east-1/x"}, "table name 'x'"},
           {{"get", "us-east-1/" + t}, "key"},
           {{"delete", "us-east-1/" + t, "not json"}, "key not json"},
           {{"tables", "nowhere"}, "nowhere"},
       }) {
    auto r = run_dynarep(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args[0] << " " << r.err;
    EXPECT_TRUE(contains(r.err, c.says)) << c.args[0] << ": " << r.err;
    EXPECT_TRUE(r.out.empty());
  }
}

TEST_F(CliStack, ImportWithoutADescriptionLineFailsOnLine1) {
  std::string t = table(false);
  auto empty = run_dynarep({"import", "us-east-1/" + t}, "");
  EXPECT_EQ(empty.exit_code, 3);
  EXPECT_TRUE(contains(empty.err, "empty input")) << empty.err;
  auto items_only = run_dynarep({"import", "us-east-1/" + t}, numbered_lines(2));
  EXPECT_EQ(items_only.exit_code, 3);
  EXPECT_TRUE(contains(items_only.err, "line 1")) << items_only.err;
  EXPECT_TRUE(contains(items_only.err, "KeySchema")) << items_only.err;
  EXPECT_FALSE(ddb_->describe_table(t).ok()) << "no table is created from a bad description";
}

// BatchWriteItem failing part-way (fault proxy in front of dynalite, reached with -e): the
// count written that the CLI reports is exactly what is on the table.
TEST_F(CliStack, AFailedWriteReportsTheTrueCountWritten) {
  std::string t = table();
  dynarep::testing::FaultProxy proxy(dynarep::testing::local_stack().dynamodb);
  proxy.set_rules(R"({"rules":[{"match":{"target":"DynamoDB_20120810.BatchWriteItem"},"fault":"error",)"
                  R"("status":400,"code":"ValidationException","message":"injected","after":10}]})");
  auto r = run_dynarep({"put", "us-east-1/" + t, "-e", proxy.url(), "--parallel", "8", "--quiet"},
                       numbered_lines(3000));
  EXPECT_EQ(r.exit_code, 3);
  auto l = lines(r.err);
  ASSERT_EQ(l.size(), 2u) << r.err;
  EXPECT_TRUE(contains(l[0], "ValidationException")) << l[0];
  EXPECT_TRUE(contains(l[0], "table " + t)) << l[0];
  const auto got = items(t).size();
  EXPECT_TRUE(contains(l[1], std::to_string(got) + " items written to us-east-1/" + t + " before the failure"))
      << l[1] << " but the table has " << got;
  EXPECT_GT(got, 0u);
  EXPECT_LT(got, 3000u);
}

}  // namespace
}  // namespace dynarep::cli::testing
