// DynamoDB through the fault proxy (in front of dynalite): each fault the proxy can inject is
// survived when it hits fewer times than the retry budget, with the data read back intact;
// fails with the right kind, naming table and operation, after exactly the configured attempts
// when it persists; and a non-retryable error is sent once.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "aws/errors.h"
#include "dynamodb/client.h"
#include "fault_env.h"
#include "model/codec.h"
#include "model/item.h"

namespace dynarep::faults {
namespace {

using dynamodb::Client;
using dynamodb::WriteRequest;
using model::Item;

constexpr std::string_view kPutItem = "DynamoDB_20120810.PutItem";
constexpr std::string_view kGetItem = "DynamoDB_20120810.GetItem";
constexpr std::string_view kBatchWrite = "DynamoDB_20120810.BatchWriteItem";
constexpr std::string_view kBatchGet = "DynamoDB_20120810.BatchGetItem";
constexpr std::string_view kScan = "DynamoDB_20120810.Scan";

Item parse(const std::string& json) {
  auto r = model::parse_item(json);
  if (!r.ok()) throw std::runtime_error("bad test item " + json + ": " + r.error().describe());
  return std::move(r).value();
}

// An item with one attribute of every type, so a mangled body cannot pass as the same item.
Item sample_item(const std::string& id, int n) {
  const std::string s = std::to_string(n);
  return parse(R"({"id":{"S":")" + id + R"("},"n":{"N":")" + s + R"(.25"},"s":{"S":"caf\u00e9 )" + s +
               R"( \"quoted\""},"b":{"B":"AAECAwT/"},"ss":{"SS":["a","b)" + s + R"("]},"ns":{"NS":["1","-2.5e3"]},)"
               R"("m":{"M":{"deep":{"L":[{"N":")" + s + R"("},{"BOOL":true},{"NULL":true}]}}},)"
               R"("pad":{"S":")" + std::string(200, static_cast<char>('a' + n % 26)) + R"("}})");
}

Item key_of(const std::string& id) { return parse(R"({"id":{"S":")" + id + R"("}})"); }

// SET v = 2 on item `id`, on condition that v = 1.
dynamodb::UpdateRequest set_two_if_one(const std::string& table, const std::string& id) {
  dynamodb::UpdateRequest req;
  req.table = table;
  req.key = key_of(id);
  req.update_expression = "SET #v = :two";
  req.condition_expression = "#v = :one";
  req.expression_attribute_names = {{"#v", "v"}};
  req.expression_attribute_values = parse(R"({":one":{"N":"1"},":two":{"N":"2"}})");
  return req;
}

class DynamoDBFaults : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto& stack = testing::local_stack();
    proxy_ = new testing::FaultProxy(stack.dynamodb);
  }
  static void TearDownTestSuite() {
    delete proxy_;
    proxy_ = nullptr;
  }

  void SetUp() override {
    const auto& stack = testing::local_stack();
    proxy_->clear_rules();
    direct_ = std::make_unique<Client>(make_aws(aws::Service::kDynamoDB, stack.dynamodb));
    table_ = testing::unique_name("faults");
    model::KeySchema key;
    key.hash_name = "id";
    key.hash_type = model::Type::kS;
    auto created = direct_->create_table(table_, key);
    ASSERT_TRUE(created.ok()) << created.error().describe();
    auto active = direct_->wait_until_active(table_, std::chrono::seconds(30));
    ASSERT_TRUE(active.ok()) << active.error().describe();
    aws_ = make_aws(aws::Service::kDynamoDB, proxy_->url());
    client_ = std::make_unique<Client>(aws_);
    proxy_->reset_stats();
  }
  void TearDown() override {
    proxy_->clear_rules();
    if (direct_) direct_->delete_table(table_).ignore_error();  // best-effort cleanup
  }

  // Every item of the table, read straight from dynalite (not through the proxy), by id.
  std::map<std::string, Item> table_contents() {
    std::map<std::string, Item> out;
    dynamodb::ScanRequest req;
    req.table = table_;
    for (int page = 0; page < 1000; ++page) {
      auto r = direct_->scan(req);
      EXPECT_TRUE(r.ok()) << r.error().describe();
      if (!r.ok()) break;
      for (auto& item : r->items) {
        const model::Value* id = item.find("id");
        EXPECT_NE(id, nullptr);
        if (id != nullptr) out.emplace(model::to_json(*id), std::move(item));
      }
      if (!r->last_evaluated_key) break;
      req.exclusive_start_key = r->last_evaluated_key;
    }
    return out;
  }

  void put_direct(const Item& item) {
    auto r = direct_->put_item(table_, item);
    ASSERT_TRUE(r.ok()) << r.error().describe();
  }

  // The item must be in the table exactly as written.
  void expect_stored(const Item& item, const std::string& id) {
    auto r = direct_->get_item(table_, key_of(id));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    ASSERT_TRUE(r->has_value()) << "item " << id << " missing";
    EXPECT_TRUE(**r == item) << "stored " << model::to_json(**r) << "\nwritten " << model::to_json(item);
  }

  // GetItem through the proxy; the result must be exactly `item`.
  void expect_get_through_proxy(const Item& item, const std::string& id) {
    auto r = client_->get_item(table_, key_of(id));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    ASSERT_TRUE(r->has_value()) << "item " << id << " not returned";
    EXPECT_TRUE(**r == item) << "got " << model::to_json(**r) << "\nwant " << model::to_json(item);
  }

  static testing::FaultProxy* proxy_;
  std::unique_ptr<Client> direct_;
  std::shared_ptr<aws::AwsClient> aws_;
  std::unique_ptr<Client> client_;
  std::string table_;
};

testing::FaultProxy* DynamoDBFaults::proxy_ = nullptr;

// ---- classification -------------------------------------------------------------------------

// The answer the proxy's "throttle" fault sends, as the AWS layer classifies it: the root of
// every throttling test below. (Checked here, without the network, so that a failure points at
// aws::error_from_response rather than at the retry loop.)
TEST(DynamoDBFaultAnswers, ThrottleAnswersAreClassifiedThrottled) {
  for (const char* type : {"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                           "com.amazon.coral.availability#ThrottlingException"}) {
    http::Response resp;
    resp.status = 400;
    resp.headers = {{"content-type", "application/x-amz-json-1.0"}};
    resp.body = std::string(R"({"__type":")") + type + R"(","message":"Rate exceeded"})";
    Error e = aws::error_from_response(resp);
    EXPECT_EQ(e.kind, ErrorKind::kThrottled) << type << " -> " << to_string(e.kind) << ": " << e.describe();
    EXPECT_TRUE(e.retryable()) << e.describe();
  }
  http::Response cond;
  cond.status = 400;
  cond.body = R"({"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"x"})";
  EXPECT_EQ(aws::error_from_response(cond).kind, ErrorKind::kConditionFailed) << aws::error_from_response(cond).describe();
  http::Response slow;
  slow.status = 503;
  slow.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
  EXPECT_EQ(aws::error_from_response(slow).kind, ErrorKind::kThrottled) << aws::error_from_response(slow).describe();
}

// ---- throttling --------------------------------------------------------------------------

TEST_F(DynamoDBFaults, BatchWriteOf25SurvivesTwoThroughputExceeded) {
  proxy_->set_rules(target_rule(kBatchWrite, R"("fault":"throttle","code":"ProvisionedThroughputExceededException","count":2)"));
  std::vector<WriteRequest> writes;
  std::map<std::string, Item> want;
  for (int i = 0; i < 25; ++i) {
    Item item = sample_item("bw-" + std::to_string(i), i);
    want.emplace(model::to_json(model::Value::S("bw-" + std::to_string(i))), item);
    writes.push_back({WriteRequest::Kind::kPut, std::move(item)});
  }
  auto r = client_->batch_write_all(table_, writes);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_TRUE(r->unprocessed.empty());
  EXPECT_EQ(proxy_->requests(kBatchWrite), 3);
  EXPECT_EQ(proxy_->faults_injected(), 2);
  EXPECT_EQ(aws_->stats().throttles(), 2u);

  auto got = table_contents();
  ASSERT_EQ(got.size(), 25u);
  for (const auto& [id, item] : want) {
    auto it = got.find(id);
    ASSERT_NE(it, got.end()) << id << " missing";
    EXPECT_TRUE(it->second == item) << "stored " << model::to_json(it->second) << "\nwritten " << model::to_json(item);
  }
}

TEST_F(DynamoDBFaults, PutItemSurvivesTwoThrottlingExceptions) {
  proxy_->set_rules(target_rule(kPutItem, R"("fault":"throttle","code":"ThrottlingException","count":2)"));
  Item item = sample_item("put-throttled", 7);
  auto r = client_->put_item(table_, item);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(proxy_->requests(kPutItem), 3);
  expect_stored(item, "put-throttled");
}

TEST_F(DynamoDBFaults, PersistentThroughputExceededOnBatchWriteFailsThrottled) {
  proxy_->set_rules(target_rule(kBatchWrite, R"("fault":"throttle","code":"ProvisionedThroughputExceededException")"));
  std::vector<WriteRequest> writes;
  for (int i = 0; i < 25; ++i) writes.push_back({WriteRequest::Kind::kPut, sample_item("never-" + std::to_string(i), i)});
  auto r = client_->batch_write_all(table_, writes);
  ASSERT_FALSE(r.ok()) << "25 writes succeeded through a proxy that throttles every BatchWriteItem";
  expect_final_error(r.error(), ErrorKind::kThrottled, {table_, "BatchWriteItem", "ProvisionedThroughputExceededException"});
  EXPECT_EQ(proxy_->requests(kBatchWrite), kAttempts);
  EXPECT_EQ(aws_->stats().attempts(), static_cast<uint64_t>(kAttempts));
  EXPECT_TRUE(table_contents().empty());
}

TEST_F(DynamoDBFaults, PersistentThrottlingExceptionOnPutItemFailsThrottled) {
  proxy_->set_rules(target_rule(kPutItem, R"("fault":"throttle","code":"ThrottlingException")"));
  auto r = client_->put_item(table_, sample_item("put-never", 1));
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kThrottled, {table_, "PutItem", "ThrottlingException"});
  EXPECT_EQ(proxy_->requests(kPutItem), kAttempts);
}

// ---- 5xx ---------------------------------------------------------------------------------

TEST_F(DynamoDBFaults, GetItemSurvivesTwo500s) {
  Item item = sample_item("get-500", 3);
  put_direct(item);
  proxy_->set_rules(target_rule(kGetItem, R"("fault":"status","status":500,"count":2)"));
  expect_get_through_proxy(item, "get-500");
  EXPECT_EQ(proxy_->requests(kGetItem), 3);
  EXPECT_EQ(aws_->stats().transient_errors(), 2u);
}

TEST_F(DynamoDBFaults, Persistent500OnGetItemFailsTransient) {
  put_direct(sample_item("get-500-always", 3));
  proxy_->set_rules(target_rule(kGetItem, R"("fault":"status","status":500)"));
  auto r = client_->get_item(table_, key_of("get-500-always"));
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kTransient, {table_, "GetItem", "InternalServerError", "get-500-always"});
  EXPECT_EQ(r.error().http_status, 500);
  EXPECT_EQ(proxy_->requests(kGetItem), kAttempts);
}

TEST_F(DynamoDBFaults, PutItemSurvivesTwo503s) {
  proxy_->set_rules(target_rule(kPutItem, R"("fault":"status","status":503,"count":2)"));
  Item item = sample_item("put-503", 5);
  auto r = client_->put_item(table_, item);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(proxy_->requests(kPutItem), 3);
  expect_stored(item, "put-503");
}

TEST_F(DynamoDBFaults, Persistent503OnScanFailsTransient) {
  put_direct(sample_item("scan-503", 5));
  proxy_->set_rules(target_rule(kScan, R"("fault":"status","status":503)"));
  dynamodb::ScanRequest req;
  req.table = table_;
  auto r = client_->scan(req);
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kTransient, {table_, "Scan", "ServiceUnavailable"});
  EXPECT_EQ(r.error().http_status, 503);
  EXPECT_EQ(proxy_->requests(kScan), kAttempts);
}

// ---- connections dropped and reset ---------------------------------------------------------

TEST_F(DynamoDBFaults, PutItemSurvivesTwoDroppedConnections) {
  proxy_->set_rules(target_rule(kPutItem, R"("fault":"drop","count":2)"));
  Item item = sample_item("put-drop", 11);
  auto r = client_->put_item(table_, item);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(proxy_->requests(kPutItem), 3);
  expect_stored(item, "put-drop");
}

TEST_F(DynamoDBFaults, PutItemWhoseResponseWasLostIsRetriedAndStoredOnce) {
  // The write reaches dynalite, only its answer is lost: PutItem of a whole item is idempotent,
  // so resending it is right and leaves one copy.
  proxy_->set_rules(target_rule(kPutItem, R"("fault":"drop","forward":true,"count":1)"));
  Item item = sample_item("put-lost-answer", 12);
  auto r = client_->put_item(table_, item);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(proxy_->requests(kPutItem), 2);
  auto all = table_contents();
  EXPECT_EQ(all.size(), 1u);
  expect_stored(item, "put-lost-answer");
}

TEST_F(DynamoDBFaults, PersistentDropOnPutItemFailsTransient) {
  proxy_->set_rules(target_rule(kPutItem, R"("fault":"drop")"));
  auto r = client_->put_item(table_, sample_item("put-drop-always", 1));
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kTransient, {table_, "PutItem"});
  EXPECT_EQ(proxy_->requests(kPutItem), kAttempts);
}

// Retries are the retry policy's alone: on a warm keep-alive connection too, a call that
// always loses its answer is sent exactly max_attempts times.
TEST_F(DynamoDBFaults, PersistentDropOnAWarmConnectionIsSentExactlyMaxAttemptsTimes) {
  Item item = sample_item("warm", 1);
  put_direct(item);
  expect_get_through_proxy(item, "warm");  // opens the keep-alive connection
  EXPECT_EQ(aws_->connections_opened(), 1u);
  proxy_->reset_stats();
  proxy_->set_rules(target_rule(kGetItem, R"("fault":"drop","forward":true)"));
  auto r = client_->get_item(table_, key_of("warm"));
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kTransient, {table_, "GetItem", "warm"});
  // libcurl itself re-sends once when a *reused* connection dies before any reply byte (it
  // cannot tell a stale keep-alive connection from a lost request). Harmless for an idempotent
  // read, so allowed here once; non-idempotent calls take a fresh connection to rule it out
  // (NonIdempotentCallIsRetriedAfterThrottlingOnly). Every later attempt is on a new connection.
  EXPECT_GE(proxy_->requests(kGetItem), kAttempts);
  EXPECT_LE(proxy_->requests(kGetItem), kAttempts + 1) << "requests were resent below the retry policy";
}

TEST_F(DynamoDBFaults, GetItemSurvivesTwoResetsMidBody) {
  Item item = sample_item("get-reset", 13);
  put_direct(item);
  proxy_->set_rules(target_rule(kGetItem, R"("fault":"reset_mid_body","bytes":40,"count":2)"));
  expect_get_through_proxy(item, "get-reset");
  EXPECT_EQ(proxy_->requests(kGetItem), 3);
}

TEST_F(DynamoDBFaults, PersistentResetMidBodyOnGetItemFailsTransient) {
  put_direct(sample_item("get-reset-always", 13));
  proxy_->set_rules(target_rule(kGetItem, R"("fault":"reset_mid_body")"));
  auto r = client_->get_item(table_, key_of("get-reset-always"));
  ASSERT_FALSE(r.ok()) << "a body cut by a reset was returned as an item: " << model::to_json(r->value_or(Item{}));
  expect_final_error(r.error(), ErrorKind::kTransient, {table_, "GetItem", "get-reset-always"});
  EXPECT_EQ(proxy_->requests(kGetItem), kAttempts);
}

// ---- truncated bodies ----------------------------------------------------------------------

TEST_F(DynamoDBFaults, ScanSurvivesTwoTruncatedBodies) {
  std::map<std::string, Item> want;
  for (int i = 0; i < 10; ++i) {
    Item item = sample_item("scan-trunc-" + std::to_string(i), i);
    put_direct(item);
    want.emplace(model::to_json(model::Value::S("scan-trunc-" + std::to_string(i))), std::move(item));
  }
  proxy_->set_rules(target_rule(kScan, R"("fault":"truncate","count":2)"));
  dynamodb::ScanRequest req;
  req.table = table_;
  req.consistent_read = true;
  auto r = client_->scan(req);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_FALSE(r->last_evaluated_key.has_value());
  ASSERT_EQ(r->items.size(), want.size());
  for (const auto& item : r->items) {
    auto it = want.find(model::to_json(item.at("id")));
    ASSERT_NE(it, want.end()) << model::to_json(item);
    EXPECT_TRUE(it->second == item) << "got " << model::to_json(item) << "\nwant " << model::to_json(it->second);
  }
  EXPECT_EQ(proxy_->requests(kScan), 3);
}

TEST_F(DynamoDBFaults, PersistentTruncationOnGetItemFailsTransientNeverAsData) {
  put_direct(sample_item("get-trunc-always", 2));
  proxy_->set_rules(target_rule(kGetItem, R"("fault":"truncate")"));
  auto r = client_->get_item(table_, key_of("get-trunc-always"));
  ASSERT_FALSE(r.ok()) << "a truncated body was returned as data: " << model::to_json(r->value_or(Item{}));
  expect_final_error(r.error(), ErrorKind::kTransient, {table_, "GetItem", "get-trunc-always"});
  EXPECT_EQ(proxy_->requests(kGetItem), kAttempts);
}

// A truncation at 0 bytes: the status line and headers arrive whole (with the body's full
// Content-Length), then nothing. Still not an answer.
TEST_F(DynamoDBFaults, TruncationBeforeAnyBodyByteIsRetried) {
  Item item = sample_item("get-trunc-0", 4);
  put_direct(item);
  proxy_->set_rules(target_rule(kGetItem, R"("fault":"truncate","bytes":0,"count":1)"));
  expect_get_through_proxy(item, "get-trunc-0");
  EXPECT_EQ(proxy_->requests(kGetItem), 2);
}

// ---- x-amz-crc32 ----------------------------------------------------------------------------

TEST_F(DynamoDBFaults, GetItemSurvivesTwoCorruptCrc32) {
  Item item = sample_item("get-crc", 17);
  put_direct(item);
  proxy_->set_rules(target_rule(kGetItem, R"("fault":"corrupt_crc32","count":2)"));
  expect_get_through_proxy(item, "get-crc");
  EXPECT_EQ(proxy_->requests(kGetItem), 3);
  EXPECT_EQ(aws_->stats().transient_errors(), 2u);
}

TEST_F(DynamoDBFaults, BatchGetSurvivesACorruptCrc32) {
  std::vector<Item> keys;
  std::map<std::string, Item> want;
  for (int i = 0; i < 5; ++i) {
    const std::string id = "bg-crc-" + std::to_string(i);
    Item item = sample_item(id, i);
    put_direct(item);
    keys.push_back(key_of(id));
    want.emplace(model::to_json(model::Value::S(id)), std::move(item));
  }
  proxy_->set_rules(target_rule(kBatchGet, R"("fault":"corrupt_crc32","count":1)"));
  auto r = client_->batch_get_all(table_, keys, true);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_EQ(r->items.size(), want.size());
  for (const auto& item : r->items) {
    auto it = want.find(model::to_json(item.at("id")));
    ASSERT_NE(it, want.end()) << model::to_json(item);
    EXPECT_TRUE(it->second == item);
  }
  EXPECT_EQ(proxy_->requests(kBatchGet), 2);
}

TEST_F(DynamoDBFaults, PersistentCorruptCrc32IsAnErrorNeverData) {
  put_direct(sample_item("get-crc-always", 17));
  proxy_->set_rules(target_rule(kGetItem, R"("fault":"corrupt_crc32")"));
  auto r = client_->get_item(table_, key_of("get-crc-always"));
  ASSERT_FALSE(r.ok()) << "a body with a wrong x-amz-crc32 was returned as data";
  expect_final_error(r.error(), ErrorKind::kTransient, {table_, "GetItem", "Crc32Mismatch"});
  EXPECT_EQ(proxy_->requests(kGetItem), kAttempts);
}

// ---- delays beyond the request timeout ------------------------------------------------------

// dynamodb::Client has no per-call timeout, so the AWS call path is driven directly with the
// CallOptions a caller would pass.
TEST_F(DynamoDBFaults, CallSurvivesTwoDelaysBeyondTheAttemptTimeout) {
  Item item = sample_item("get-slow", 19);
  put_direct(item);
  proxy_->set_rules(target_rule(kGetItem, R"("fault":"delay","ms":3000,"count":2)"));
  aws::CallOptions options;
  options.attempt_timeout = 400ms;
  const std::string body = R"({"TableName":")" + table_ + R"(","Key":{"id":{"S":"get-slow"}},"ConsistentRead":true})";
  const auto start = std::chrono::steady_clock::now();
  auto r = aws_->call_json(kGetItem, "1.0", body, options);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_TRUE(contains(*r, "\"Item\"")) << *r;
  EXPECT_EQ(proxy_->requests(kGetItem), 3);
  EXPECT_LT(took, 2500ms) << "attempts were not cut at the 400 ms attempt timeout";
  // The answer is dynalite's, byte for byte the same as asked directly.
  auto direct_answer = direct_->aws().call_json(kGetItem, "1.0", body);
  ASSERT_TRUE(direct_answer.ok()) << direct_answer.error().describe();
  EXPECT_EQ(*r, *direct_answer);
}

TEST_F(DynamoDBFaults, PersistentDelayBeyondTheAttemptTimeoutFailsTransient) {
  proxy_->set_rules(target_rule(kGetItem, R"("fault":"delay","ms":3000)"));
  aws::CallOptions options;
  options.attempt_timeout = 300ms;
  const std::string body = R"({"TableName":")" + table_ + R"(","Key":{"id":{"S":"x"}}})";
  auto r = aws_->call_json(kGetItem, "1.0", body, options);
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kTransient, {"GetItem", "Timeout"});
  EXPECT_EQ(r.error().code, "Timeout");
  EXPECT_EQ(proxy_->requests(kGetItem), kAttempts);
}

// ---- idempotency and deadlines --------------------------------------------------------------

// A full PutItem may be retried, an UpdateItem ADD may not. The update reaches
// dynalite and only its answer is lost: resending it would add twice.
TEST_F(DynamoDBFaults, UpdateItemAddWhoseResponseWasLostIsNotAppliedTwice) {
  put_direct(parse(R"({"id":{"S":"counter"},"n":{"N":"0"}})"));
  proxy_->set_rules(target_rule("DynamoDB_20120810.UpdateItem", R"("fault":"drop","forward":true,"count":1)"));
  dynamodb::UpdateRequest req;
  req.table = table_;
  req.key = key_of("counter");
  req.update_expression = "ADD #n :one";
  req.expression_attribute_names = {{"#n", "n"}};
  req.expression_attribute_values = parse(R"({":one":{"N":"1"}})");
  auto r = client_->update_item(req);
  auto stored = direct_->get_item(table_, key_of("counter"));
  ASSERT_TRUE(stored.ok()) << stored.error().describe();
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ(model::to_json((*stored)->at("n")), R"({"N":"1"})")
      << "the ADD was applied " << model::to_json((*stored)->at("n")) << " times: a lost answer was resent";
  EXPECT_EQ(proxy_->requests("DynamoDB_20120810.UpdateItem"), 1);
  // The caller must learn that the outcome is unknown (it may have been applied), naming the key.
  ASSERT_FALSE(r.ok()) << "an UpdateItem whose answer was lost reported success";
  EXPECT_EQ(r.error().kind, ErrorKind::kUnknownOutcome) << r.error().describe();
  EXPECT_TRUE(contains(r.error().describe(), "counter")) << r.error().describe();
}

// Issue 10: REMOVE of a list index removes whatever is at that index now, so a resent
// REMOVE #l[0] whose first answer was lost removes a second element. It must be sent once and
// the caller told that the outcome is unknown.
TEST_F(DynamoDBFaults, RemoveOfAListIndexWhoseAnswerWasLostIsSentOnce) {
  put_direct(parse(R"({"id":{"S":"list"},"l":{"L":[{"S":"a"},{"S":"b"},{"S":"c"}]}})"));
  constexpr std::string_view kUpdate = "DynamoDB_20120810.UpdateItem";
  proxy_->set_rules(target_rule(kUpdate, R"("fault":"drop","forward":true,"count":1)"));
  dynamodb::UpdateRequest req;
  req.table = table_;
  req.key = key_of("list");
  req.update_expression = "REMOVE #l[0]";
  req.expression_attribute_names = {{"#l", "l"}};
  auto r = client_->update_item(req);
  EXPECT_EQ(proxy_->requests(kUpdate), 1) << "a REMOVE of a list index was resent after its answer was lost";
  auto stored = direct_->get_item(table_, key_of("list"));
  ASSERT_TRUE(stored.ok()) << stored.error().describe();
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ(model::to_json((*stored)->at("l")), R"({"L":[{"S":"b"},{"S":"c"}]})");
  ASSERT_FALSE(r.ok()) << "an UpdateItem whose answer was lost reported success";
  EXPECT_EQ(r.error().kind, ErrorKind::kUnknownOutcome) << r.error().describe();
  EXPECT_TRUE(contains(r.error().describe(), "list")) << r.error().describe();
}

// Issue 10: a conditional update applied at the first attempt whose answer was lost fails its
// condition when resent (the item has already changed). Reporting that as a plain condition
// failure tells the caller the write did not happen when it did.
TEST_F(DynamoDBFaults, ConditionalUpdateWhoseAnswerWasLostIsUnknownOutcomeNotConditionFailed) {
  put_direct(parse(R"({"id":{"S":"cond"},"v":{"N":"1"}})"));
  constexpr std::string_view kUpdate = "DynamoDB_20120810.UpdateItem";
  proxy_->set_rules(target_rule(kUpdate, R"("fault":"drop","forward":true,"count":1)"));
  auto r = client_->update_item(set_two_if_one(table_, "cond"));
  ASSERT_FALSE(r.ok()) << "the retry cannot have passed the condition";
  EXPECT_NE(r.error().kind, ErrorKind::kConditionFailed) << r.error().describe();
  EXPECT_EQ(r.error().kind, ErrorKind::kUnknownOutcome) << r.error().describe();
  EXPECT_TRUE(contains(r.error().describe(), "cond")) << r.error().describe();
  auto stored = direct_->get_item(table_, key_of("cond"));
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ(model::to_json((*stored)->at("v")), R"({"N":"2"})");  // the first attempt did apply it
}

// A condition that fails at the first attempt (nothing was lost) is still a plain condition
// failure: only an earlier attempt that may have been applied makes the outcome unknown.
TEST_F(DynamoDBFaults, ConditionalUpdateThatFailsAtTheFirstAttemptIsConditionFailed) {
  put_direct(parse(R"({"id":{"S":"cond2"},"v":{"N":"5"}})"));
  auto r = client_->update_item(set_two_if_one(table_, "cond2"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kConditionFailed) << r.error().describe();
  EXPECT_EQ(proxy_->requests("DynamoDB_20120810.UpdateItem"), 1);
}

// The AWS layer itself, for a caller that marks a call non-idempotent: throttling is retried
// (the service did nothing), a lost answer is not. The lost answer comes on a keep-alive
// connection that the throttled call left open, as it would in a long run: nothing below the
// retry policy (libcurl resends a request whose reused connection closed without a byte of
// answer) may resend it either.
TEST_F(DynamoDBFaults, NonIdempotentCallIsRetriedAfterThrottlingOnly) {
  aws::CallOptions once;
  once.idempotent = false;
  const std::string body = R"({"TableName":")" + table_ +
                           R"(","Key":{"id":{"S":"c"}},"UpdateExpression":"ADD #n :one",)"
                           R"("ExpressionAttributeNames":{"#n":"n"},"ExpressionAttributeValues":{":one":{"N":"1"}}})";
  constexpr std::string_view kUpdate = "DynamoDB_20120810.UpdateItem";

  proxy_->set_rules(target_rule(kUpdate, R"("fault":"throttle","count":2)"));
  auto throttled = aws_->call_json(kUpdate, "1.0", body, once);
  ASSERT_TRUE(throttled.ok()) << throttled.error().describe();
  EXPECT_EQ(proxy_->requests(kUpdate), 3);

  proxy_->reset_stats();
  proxy_->set_rules(target_rule(kUpdate, R"("fault":"drop","forward":true,"count":1)"));
  auto lost = aws_->call_json(kUpdate, "1.0", body, once);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().kind, ErrorKind::kTransient) << lost.error().describe();
  EXPECT_EQ(proxy_->requests(kUpdate), 1);

  auto stored = direct_->get_item(table_, key_of("c"));
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ(model::to_json((*stored)->at("n")), R"({"N":"2"})");  // one ADD per call, no more
}

// A fault that never ends, under a policy that would retry nearly for ever: the deadline ends it.
TEST_F(DynamoDBFaults, PersistentThrottlingStopsAtTheDeadline) {
  aws::RetryPolicy patient = fast_policy(1000);
  patient.throttle_base = 50ms;
  patient.max_backoff = 100ms;
  auto aws = make_aws(aws::Service::kDynamoDB, proxy_->url(), patient);
  proxy_->set_rules(target_rule(kGetItem, R"("fault":"throttle")"));
  aws::CallOptions options;
  options.deadline = std::chrono::steady_clock::now() + 800ms;
  const std::string body = R"({"TableName":")" + table_ + R"(","Key":{"id":{"S":"x"}}})";
  const auto start = std::chrono::steady_clock::now();
  auto r = aws->call_json(kGetItem, "1.0", body, options);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kCancelled) << r.error().describe();
  EXPECT_EQ(r.error().code, "DeadlineExceeded") << r.error().describe();
  EXPECT_TRUE(contains(r.error().describe(), "GetItem")) << r.error().describe();
  EXPECT_LT(took, 2s);
  EXPECT_GT(proxy_->requests(kGetItem), 1);
  EXPECT_LT(proxy_->requests(kGetItem), 100);
}

// ---- non-retryable errors ------------------------------------------------------------------

TEST_F(DynamoDBFaults, ValidationExceptionOnPutItemIsSentOnce) {
  proxy_->set_rules(target_rule(kPutItem, R"("fault":"error","status":400,"code":"ValidationException","message":"One or more parameter values were invalid")"));
  auto r = client_->put_item(table_, sample_item("put-invalid", 1));
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kInvalidInput, {table_, "PutItem", "ValidationException"}, 1);
  EXPECT_EQ(r.error().http_status, 400);
  EXPECT_EQ(proxy_->requests(kPutItem), 1);
  EXPECT_EQ(aws_->stats().retries(), 0u);
}

TEST_F(DynamoDBFaults, ValidationExceptionOnBatchWriteIsSentOnce) {
  proxy_->set_rules(target_rule(kBatchWrite, R"("fault":"error","status":400,"code":"ValidationException")"));
  std::vector<WriteRequest> writes;
  for (int i = 0; i < 25; ++i) writes.push_back({WriteRequest::Kind::kPut, sample_item("bw-invalid-" + std::to_string(i), i)});
  auto r = client_->batch_write_all(table_, writes);
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kInvalidInput, {table_, "BatchWriteItem", "ValidationException"}, 1);
  EXPECT_EQ(proxy_->requests(kBatchWrite), 1);
}

// dynamodb/client.h: "Errors carry the table (and key, for item operations) they concern."
// GetItem's do; PutItem's must too (the key is in the item).
TEST_F(DynamoDBFaults, PutItemErrorNamesTheKey) {
  proxy_->set_rules(target_rule(kPutItem, R"("fault":"status","status":500)"));
  auto r = client_->put_item(table_, sample_item("put-named-key", 1));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error().describe(), table_)) << r.error().describe();
  EXPECT_TRUE(contains(r.error().describe(), "put-named-key")) << r.error().describe();
}

TEST_F(DynamoDBFaults, ConditionalCheckFailedIsSentOnce) {
  proxy_->set_rules(target_rule(kPutItem, R"("fault":"error","status":400,"code":"ConditionalCheckFailedException")"));
  auto r = client_->put_item(table_, sample_item("put-cond", 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kConditionFailed) << r.error().describe();
  EXPECT_EQ(proxy_->requests(kPutItem), 1);
}

}  // namespace
}  // namespace dynarep::faults
