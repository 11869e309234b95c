// dynarep redrive end to end: a record the replica really rejects (the primary's item breaks a
// global secondary index of the replica: its index key has the wrong type) is dead-lettered by
// `replicate`; redrive before the cause is fixed keeps it (exit 1, in the new --dead-letter
// file); once the item is fixed on the primary, redrive of that file applies it (exit 0).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "crypto/encoding.h"
#include "replicate/test_harness.h"
#include "s3/client.h"
#include "support/process.h"

namespace dynarep::repltest {
namespace {

using Event = stream::ChangeRecord::Event;

std::string kinesis_event(const std::vector<std::pair<std::string, int>>& records) {
  std::string e = R"({"Records":[)";
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& [data, seq] = records[i];
    e += (i ? "," : "");
    e += R"({"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"pk","sequenceNumber":")" + std::to_string(seq) +
         R"(","data":")" + crypto::base64_encode(data) +
         R"(","approximateArrivalTimestamp":1700000000.5},"eventSource":"aws:kinesis","eventVersion":"1.0",)"
         R"("eventID":"shardId-000000000007:)" + std::to_string(seq) +
         R"(","eventName":"aws:kinesis:record","awsRegion":"us-east-1","eventSourceARN":"arn:aws:kinesis:us-east-1:1:stream/s"})";
  }
  return e + "]}";
}

class RedriveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::local_stack();
    db_ = ddb();
    primary_ = res_.table(simple_schema(), "prim");
    // The replica has an index on g as a number: an item whose g is a string is refused
    // (ValidationException), as DynamoDB does.
    replica_ = testing::unique_name("repl");
    const std::string create =
        R"({"TableName":")" + replica_ +
        R"(","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"},{"AttributeName":"g","AttributeType":"N"}],)"
        R"("KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST",)"
        R"("GlobalSecondaryIndexes":[{"IndexName":"by-g","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],)"
        R"("Projection":{"ProjectionType":"KEYS_ONLY"}}]})";
    auto st = db_->create_table(create);
    ASSERT_TRUE(st.ok()) << st.error().describe();
    res_.adopt_table(replica_);
    ASSERT_TRUE(db_->wait_until_active(replica_).ok());
    dir_ = std::filesystem::temp_directory_path() / testing::unique_name("redrive");
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  model::Item parse(const std::string& json) {
    auto r = model::parse_item(json);
    EXPECT_TRUE(r.ok()) << json;
    return r.ok() ? *r : model::Item{};
  }
  Resources res_;
  std::shared_ptr<dynamodb::Client> db_;
  std::string primary_, replica_, dir_;
};

TEST_F(RedriveTest, ARecordTheReplicaRejectedIsAppliedOnceTheCauseIsFixed) {
  ASSERT_TRUE(db_->put_item(primary_, parse(R"({"id":{"S":"bad"},"g":{"S":"not a number"}})")).ok());
  ASSERT_TRUE(db_->put_item(primary_, parse(R"({"id":{"S":"good"},"g":{"N":"2"}})")).ok());
  const std::string event_file = dir_ + "/event.json";
  std::ofstream(event_file) << kinesis_event(
      {{stream::make_keys_only_record(key("bad"), Event::kInsert, "us-east-1"), 1},
       {stream::make_keys_only_record(key("good"), Event::kInsert, "us-east-1"), 2}});
  const std::string primary = "us-east-1/" + primary_, replica = "us-east-1/" + replica_;
  auto rep = testing::run_dynarep({"replicate", "--primary", primary, "--replica", replica, "--event", event_file,
                                   "--dead-letter", dir_ + "/dl"});
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  const std::string letters = dir_ + "/dl/shardId-000000000007.jsonl";
  ASSERT_TRUE(std::filesystem::exists(letters)) << rep.err;
  ASSERT_EQ(scan_all(*db_, replica_).size(), 1u) << "only the good item reached the replica";

  // The cause is not fixed yet: the letter still fails and is kept in the new file.
  const std::string still = dir_ + "/still.jsonl";
  auto first = testing::run_dynarep({"redrive", "--primary", primary, "--replica", replica, letters, "--dead-letter", still});
  EXPECT_EQ(first.exit_code, 1) << first.err;
  EXPECT_EQ(first.out, R"({"letters":1,"applied":0,"stillFailing":1,"skipped":0,"deadLetter":")" + still + "\"}\n")
      << first.err;
  std::ifstream still_file(still);
  const std::string kept((std::istreambuf_iterator<char>(still_file)), std::istreambuf_iterator<char>());
  EXPECT_NE(kept.find(R"("sequenceNumber":"1")"), std::string::npos) << kept;
  EXPECT_NE(kept.find("ValidationException"), std::string::npos) << kept;
  // A second run must not append to the same file.
  auto again = testing::run_dynarep({"redrive", "--primary", primary, "--replica", replica, letters, "--dead-letter", still});
  EXPECT_EQ(again.exit_code, 2) << again.err;

  // Fix the item on the primary; the file of letters that still failed is redriven itself.
  ASSERT_TRUE(db_->put_item(primary_, parse(R"({"id":{"S":"bad"},"g":{"N":"1"}})")).ok());
  const std::string none = dir_ + "/none.jsonl";
  auto second = testing::run_dynarep({"redrive", "--primary", primary, "--replica", replica, still, "--dead-letter", none});
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, R"({"letters":1,"applied":1,"stillFailing":0,"skipped":0})" "\n") << second.err;
  EXPECT_FALSE(std::filesystem::exists(none));
  EXPECT_EQ(diff_tables(scan_all(*db_, primary_), scan_all(*db_, replica_)), "");
}

// Dead letters written to S3 (one object per letter) are read back from their prefix.
TEST_F(RedriveTest, LettersInS3AreRedriven) {
  const auto& stack = testing::local_stack();
  ASSERT_TRUE(db_->put_item(primary_, parse(R"({"id":{"S":"s3bad"},"g":{"S":"x"}})")).ok());
  const std::string event_file = dir_ + "/event.json";
  std::ofstream(event_file) << kinesis_event({{stream::make_keys_only_record(key("s3bad"), Event::kInsert, "us-east-1"), 5}});
  const std::string bucket = testing::unique_name("dlb");
  s3::Client s3c = s3::Client::connect("us-east-1", stack.s3);
  ASSERT_TRUE(s3c.create_bucket(bucket).ok());
  auto rep = testing::run_dynarep({"replicate", "--primary", "us-east-1/" + primary_, "--replica", "us-east-1/" + replica_,
                                   "--event", event_file, "--dead-letter", "s3://" + bucket + "/dead", "--s3-endpoint",
                                   stack.s3});
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  ASSERT_TRUE(db_->put_item(primary_, parse(R"({"id":{"S":"s3bad"},"g":{"N":"5"}})")).ok());
  auto r = testing::run_dynarep({"redrive", "--primary", "us-east-1/" + primary_, "--replica", "us-east-1/" + replica_,
                                 "s3://" + bucket + "/dead", "--dead-letter", dir_ + "/s3-still.jsonl", "--s3-endpoint",
                                 stack.s3});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, R"({"letters":1,"applied":1,"stillFailing":0,"skipped":0})" "\n") << r.err;
  EXPECT_EQ(diff_tables(scan_all(*db_, primary_), scan_all(*db_, replica_)), "");
}

}  // namespace
}  // namespace dynarep::repltest
