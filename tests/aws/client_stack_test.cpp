// AwsClient against the real local stack: dynalite (DynamoDB), kinesalite (Kinesis), s3rver (S3).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <thread>

#include "aws/client.h"
#include "aws/location.h"
#include "support/stack.h"

namespace dynarep::aws {
namespace {

class AwsStackTest : public ::testing::Test {
 protected:
  void SetUp() override { stack_ = &testing::local_stack(); }
  const testing::StackEndpoints* stack_ = nullptr;
};

std::shared_ptr<AwsClient> dynamodb_client(RetryPolicy policy = {}) {
  // Found the way a user's shell finds it: AWS_ENDPOINT_URL_DYNAMODB and the env credentials.
  return std::make_shared<AwsClient>(resolve_endpoint(Service::kDynamoDB, default_region()),
                                     default_credentials_chain(), policy);
}

// s3rver knows one account, S3RVER/S3RVER (and does not check SigV4 signatures).
std::shared_ptr<AwsClient> s3_client() {
  return std::make_shared<AwsClient>(resolve_endpoint(Service::kS3, default_region()),
                                     std::make_shared<StaticCredentialsProvider>(Credentials{"S3RVER", "S3RVER", "", std::nullopt}));
}

std::string create_table_body(const std::string& name) {
  return R"({"TableName":")" + name +
         R"(","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],)"
         R"("KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],)"
         R"("ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5}})";
}

TEST_F(AwsStackTest, DynamoDbCreateListDescribeDelete) {
  auto ddb = dynamodb_client();
  EXPECT_EQ(ddb->endpoint().url, stack_->dynamodb);
  const std::string table = testing::unique_name("awsclient");

  auto created = ddb->call_json("DynamoDB_20120810.CreateTable", "1.0", create_table_body(table));
  ASSERT_TRUE(created.ok()) << created.error().describe();
  EXPECT_NE(created->find("\"TableName\":\"" + table + "\""), std::string::npos) << *created;

  auto listed = ddb->call_json("DynamoDB_20120810.ListTables", "1.0", "{}");
  ASSERT_TRUE(listed.ok()) << listed.error().describe();
  EXPECT_NE(listed->find("\"" + table + "\""), std::string::npos) << *listed;

  auto described = ddb->call_json("DynamoDB_20120810.DescribeTable", "1.0", R"({"TableName":")" + table + "\"}");
  ASSERT_TRUE(described.ok()) << described.error().describe();
  simdjson::dom::parser parser;
  std::string_view status;
  ASSERT_EQ(parser.parse(*described)["Table"]["TableStatus"].get(status), simdjson::SUCCESS);
  EXPECT_EQ(status, "ACTIVE");

  // Items round-trip, and the x-amz-crc32 dynalite sends is checked on every answer.
  ASSERT_TRUE(ddb->call_json("DynamoDB_20120810.PutItem", "1.0",
                             R"({"TableName":")" + table + R"(","Item":{"id":{"S":"a"},"n":{"N":"1.50"}}})")
                  .ok());
  auto item = ddb->call_json("DynamoDB_20120810.GetItem", "1.0",
                             R"({"TableName":")" + table + R"(","Key":{"id":{"S":"a"}},"ConsistentRead":true})");
  ASSERT_TRUE(item.ok()) << item.error().describe();
  EXPECT_NE(item->find(R"("n":{"N":"1.5"})"), std::string::npos) << *item;  // normalised, as DynamoDB does

  auto again = ddb->call_json("DynamoDB_20120810.CreateTable", "1.0", create_table_body(table));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "ResourceInUseException");
  EXPECT_EQ(again.error().kind, ErrorKind::kConditionFailed);

  ASSERT_TRUE(ddb->call_json("DynamoDB_20120810.DeleteTable", "1.0", R"({"TableName":")" + table + "\"}").ok());
  EXPECT_EQ(ddb->stats().retries(), 0u);
}

TEST_F(AwsStackTest, DescribeMissingTableIsNotFoundWithRequestId) {
  auto ddb = dynamodb_client();
  const std::string table = testing::unique_name("missing");
  auto r = ddb->call_json("DynamoDB_20120810.DescribeTable", "1.0", R"({"TableName":")" + table + "\"}");
  ASSERT_FALSE(r.ok());
  const Error& e = r.error();
  EXPECT_EQ(e.kind, ErrorKind::kNotFound);
  EXPECT_EQ(e.code, "ResourceNotFoundException");
  EXPECT_EQ(e.http_status, 400);
  EXPECT_FALSE(e.request_id.empty());
  EXPECT_NE(e.describe().find(table), std::string::npos) << e.describe();
  EXPECT_NE(e.context.find("DescribeTable"), std::string::npos);
  EXPECT_EQ(ddb->stats().attempts(), 1u) << "not retried";
}

TEST_F(AwsStackTest, ValidationErrorIsInvalidInput) {
  auto ddb = dynamodb_client();
  auto r = ddb->call_json("DynamoDB_20120810.DescribeTable", "1.0", R"({"TableName":"x"})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(r.error().code, "ValidationException");
}

TEST_F(AwsStackTest, ConnectionsAreReused) {
  auto ddb = dynamodb_client();
  for (int i = 0; i < 40; ++i) {
    auto r = ddb->call_json("DynamoDB_20120810.ListTables", "1.0", R"({"Limit":1})");
    ASSERT_TRUE(r.ok()) << r.error().describe();
  }
  EXPECT_EQ(ddb->connections_opened(), 1u);
  // Parallel callers: at most one connection each.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        if (!ddb->call_json("DynamoDB_20120810.ListTables", "1.0", R"({"Limit":1})").ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(ddb->connections_opened(), 4u);
}

TEST_F(AwsStackTest, KinesisListStreams) {
  AwsClient kinesis(resolve_endpoint(Service::kKinesis, default_region()), default_credentials_chain());
  EXPECT_EQ(kinesis.endpoint().url, stack_->kinesis);
  auto r = kinesis.call_json("Kinesis_20131202.ListStreams", "1.1", "{}");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_NE(r->find("\"StreamNames\""), std::string::npos) << *r;
  auto missing = kinesis.call_json("Kinesis_20131202.DescribeStream", "1.1",
                                   R"({"StreamName":")" + testing::unique_name("nostream") + "\"}");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(missing.error().code, "ResourceNotFoundException");
}

TEST_F(AwsStackTest, S3BucketPutGetStreaming) {
  auto s3 = s3_client();
  EXPECT_EQ(s3->endpoint().url, stack_->s3);
  const std::string bucket = testing::unique_name("bkt");
  auto created = s3->call_rest({.method = "PUT", .url = "/" + bucket});
  ASSERT_TRUE(created.ok()) << created.error().describe();
  EXPECT_EQ(created->status, 200);

  std::string data(3 * 1024 * 1024 + 11, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 7) % 256);
  http::Request put;
  put.method = "PUT";
  put.url = "/" + bucket + "/dir/obj%20one.bin";
  put.headers = {{"Content-Type", "application/octet-stream"}};
  put.body = data;
  auto stored = s3->call_rest(put);
  ASSERT_TRUE(stored.ok()) << stored.error().describe();
  EXPECT_TRUE(stored->header("etag").has_value());

  std::string got;
  int chunks = 0;
  auto fetched = s3->call_rest_streaming({.method = "GET", .url = "/" + bucket + "/dir/obj%20one.bin"},
                                         [&](std::string_view c) {
                                           got.append(c);
                                           ++chunks;
                                           return true;
                                         });
  ASSERT_TRUE(fetched.ok()) << fetched.error().describe();
  EXPECT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data);
  EXPECT_GT(chunks, 1);

  auto head = s3->call_rest({.method = "HEAD", .url = "/" + bucket + "/dir/obj%20one.bin"});
  ASSERT_TRUE(head.ok()) << head.error().describe();
  EXPECT_EQ(head->header("content-length"), std::to_string(data.size()));

  auto missing = s3->call_rest({.method = "GET", .url = "/" + bucket + "/nope"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(missing.error().code, "NoSuchKey");
  EXPECT_EQ(missing.error().http_status, 404);

  auto no_bucket = s3->call_rest({.method = "GET", .url = "/" + testing::unique_name("nobkt") + "/k"});
  ASSERT_FALSE(no_bucket.ok());
  EXPECT_EQ(no_bucket.error().code, "NoSuchBucket");
  EXPECT_EQ(no_bucket.error().kind, ErrorKind::kNotFound);

  ASSERT_TRUE(s3->call_rest({.method = "DELETE", .url = "/" + bucket + "/dir/obj%20one.bin"}).ok());
  ASSERT_TRUE(s3->call_rest({.method = "DELETE", .url = "/" + bucket}).ok());
}

TEST_F(AwsStackTest, S3RejectsUnknownAccessKeysAsAuthErrors) {
  AwsClient s3(resolve_endpoint(Service::kS3, default_region()),
               std::make_shared<StaticCredentialsProvider>(Credentials{"AKIDUNKNOWN", "x", "", std::nullopt}));
  auto r = s3.call_rest({.method = "PUT", .url = "/" + testing::unique_name("bkt")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kAuth);
  EXPECT_EQ(r.error().code, "InvalidAccessKeyId");
  EXPECT_EQ(r.error().http_status, 403);
  EXPECT_EQ(s3.stats().attempts(), 1u);
}

TEST_F(AwsStackTest, TableLocationFindsTheLocalServer) {
  // host:port/table, as a user types it.
  const std::string hostport = stack_->dynamodb.substr(std::string("http://").size());
  auto loc = parse_table_location(hostport + "/" + testing::unique_name("loc"));
  ASSERT_TRUE(loc.ok()) << loc.error().describe();
  AwsClient ddb(loc->endpoint, default_credentials_chain());
  auto r = ddb.call_json("DynamoDB_20120810.ListTables", "1.0", "{}");
  ASSERT_TRUE(r.ok()) << r.error().describe();
}

}  // namespace
}  // namespace dynarep::aws
