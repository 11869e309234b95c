// Kinesis through the fault proxy (in front of kinesalite): throttles (LimitExceeded and
// ProvisionedThroughputExceeded), 5xx, drops, resets, truncations, bad x-amz-crc32 and delays
// are retried and the records arrive intact; persistent faults fail with the right kind naming
// stream (and shard) after the configured attempts; validation errors are sent once.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fault_env.h"
#include "kinesis/client.h"

namespace dynarep::faults {
namespace {

using kinesis::Client;
using kinesis::PutRecordsEntry;
using kinesis::Record;
using kinesis::ShardId;
using kinesis::ShardIterator;
using kinesis::StartingPosition;

constexpr std::string_view kPutRecords = "Kinesis_20131202.PutRecords";
constexpr std::string_view kPutRecord = "Kinesis_20131202.PutRecord";
constexpr std::string_view kGetRecords = "Kinesis_20131202.GetRecords";
constexpr std::string_view kGetShardIterator = "Kinesis_20131202.GetShardIterator";
constexpr std::string_view kListShards = "Kinesis_20131202.ListShards";

// Bytes that survive only an exact transfer: every byte value, and text.
std::string record_data(int i) {
  std::string d = "record-" + std::to_string(i) + ":";
  for (int b = 0; b < 256; ++b) d.push_back(static_cast<char>((b + i) & 0xff));
  return d;
}

class KinesisFaults : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { proxy_ = new testing::FaultProxy(testing::local_stack().kinesis); }
  static void TearDownTestSuite() {
    delete proxy_;
    proxy_ = nullptr;
  }

  void SetUp() override {
    proxy_->clear_rules();
    direct_ = std::make_unique<Client>(make_aws(aws::Service::kKinesis, testing::local_stack().kinesis));
    stream_ = testing::unique_name("faults");
    auto created = direct_->create_stream(stream_, 1);
    ASSERT_TRUE(created.ok()) << created.error().describe();
    auto shards = direct_->list_shards(stream_);
    ASSERT_TRUE(shards.ok()) << shards.error().describe();
    ASSERT_EQ(shards->size(), 1u);
    shard_ = shards->front().id;
    aws_ = make_aws(aws::Service::kKinesis, proxy_->url());
    client_ = std::make_unique<Client>(aws_);
    proxy_->reset_stats();
  }
  void TearDown() override {
    proxy_->clear_rules();
    if (direct_) direct_->delete_stream(stream_).ignore_error();  // best-effort cleanup
  }

  std::vector<PutRecordsEntry> entries(int n) {
    std::vector<PutRecordsEntry> out;
    for (int i = 0; i < n; ++i) out.push_back({record_data(i), "pk-" + std::to_string(i % 3), std::nullopt});
    return out;
  }

  void put_direct(int n) {
    auto r = direct_->put_records(stream_, entries(n));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    ASSERT_TRUE(r->all_ok());
  }

  ShardIterator iterator_direct() {
    auto it = direct_->get_shard_iterator(stream_, shard_, StartingPosition::trim_horizon());
    EXPECT_TRUE(it.ok()) << it.error().describe();
    return it.ok() ? *it : ShardIterator{};
  }

  // Everything in the shard, read straight from kinesalite.
  std::vector<Record> read_direct() {
    std::vector<Record> out;
    ShardIterator cur = iterator_direct();
    for (int page = 0; page < 100; ++page) {
      auto r = direct_->get_records(cur);
      EXPECT_TRUE(r.ok()) << r.error().describe();
      if (!r.ok() || r->records.empty() || r->shard_ended()) {
        if (r.ok()) for (auto& rec : r->records) out.push_back(std::move(rec));
        break;
      }
      for (auto& rec : r->records) out.push_back(std::move(rec));
      cur = *r->next_iterator;
    }
    return out;
  }

  // The records are exactly entries(n), in order, each once.
  static void expect_records(const std::vector<Record>& got, int n) {
    ASSERT_EQ(got.size(), static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(got[i].data, record_data(i)) << "record " << i;
      EXPECT_EQ(got[i].partition_key, "pk-" + std::to_string(i % 3)) << "record " << i;
    }
  }

  // GetRecords through the proxy from TRIM_HORIZON: all `n` records, intact.
  void expect_get_records_through_proxy(int n) {
    auto r = client_->get_records(iterator_direct());
    ASSERT_TRUE(r.ok()) << r.error().describe();
    expect_records(r->records, n);
  }

  static testing::FaultProxy* proxy_;
  std::unique_ptr<Client> direct_;
  std::shared_ptr<aws::AwsClient> aws_;
  std::unique_ptr<Client> client_;
  std::string stream_;
  ShardId shard_;
};

testing::FaultProxy* KinesisFaults::proxy_ = nullptr;

// ---- throttling ----------------------------------------------------------------------------

TEST_F(KinesisFaults, PutRecordsSurvivesTwoThroughputExceeded) {
  proxy_->set_rules(target_rule(kPutRecords, R"("fault":"throttle","code":"ProvisionedThroughputExceededException","count":2)"));
  auto r = client_->put_records(stream_, entries(50));
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_TRUE(r->all_ok());
  EXPECT_EQ(proxy_->requests(kPutRecords), 3);
  EXPECT_EQ(aws_->stats().throttles(), 2u);
  expect_records(read_direct(), 50);  // written once: the throttled calls wrote nothing
}

TEST_F(KinesisFaults, GetShardIteratorSurvivesTwoLimitExceeded) {
  put_direct(5);
  proxy_->set_rules(target_rule(kGetShardIterator, R"("fault":"throttle","code":"LimitExceededException","count":2)"));
  auto it = client_->get_shard_iterator(stream_, shard_, StartingPosition::trim_horizon());
  ASSERT_TRUE(it.ok()) << it.error().describe();
  EXPECT_EQ(proxy_->requests(kGetShardIterator), 3);
  auto r = direct_->get_records(*it);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  expect_records(r->records, 5);
}

TEST_F(KinesisFaults, ListShardsSurvivesTwoLimitExceeded) {
  proxy_->set_rules(target_rule(kListShards, R"("fault":"throttle","code":"LimitExceededException","count":2)"));
  auto shards = client_->list_shards(stream_);
  ASSERT_TRUE(shards.ok()) << shards.error().describe();
  ASSERT_EQ(shards->size(), 1u);
  EXPECT_EQ(shards->front().id, shard_);
  EXPECT_EQ(proxy_->requests(kListShards), 3);
}

TEST_F(KinesisFaults, PersistentThroughputExceededOnPutRecordsFailsThrottled) {
  proxy_->set_rules(target_rule(kPutRecords, R"("fault":"throttle","code":"ProvisionedThroughputExceededException")"));
  auto r = client_->put_records(stream_, entries(10));
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kThrottled, {stream_, "PutRecords", "ProvisionedThroughputExceededException"});
  EXPECT_EQ(proxy_->requests(kPutRecords), kAttempts);
  EXPECT_TRUE(read_direct().empty());
}

TEST_F(KinesisFaults, PersistentLimitExceededOnGetShardIteratorFailsThrottled) {
  proxy_->set_rules(target_rule(kGetShardIterator, R"("fault":"throttle","code":"LimitExceededException")"));
  auto r = client_->get_shard_iterator(stream_, shard_, StartingPosition::trim_horizon());
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kThrottled, {stream_, shard_.str(), "GetShardIterator", "LimitExceededException"});
  EXPECT_EQ(proxy_->requests(kGetShardIterator), kAttempts);
}

TEST_F(KinesisFaults, PersistentThroughputExceededOnGetRecordsFailsThrottled) {
  put_direct(3);
  proxy_->set_rules(target_rule(kGetRecords, R"("fault":"throttle","code":"ProvisionedThroughputExceededException")"));
  auto r = client_->get_records(iterator_direct());
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kThrottled, {stream_, shard_.str(), "GetRecords"});
  EXPECT_EQ(proxy_->requests(kGetRecords), kAttempts);
}

// ---- 5xx -----------------------------------------------------------------------------------

TEST_F(KinesisFaults, GetRecordsSurvivesTwo500s) {
  put_direct(20);
  proxy_->set_rules(target_rule(kGetRecords, R"("fault":"status","status":500,"count":2)"));
  expect_get_records_through_proxy(20);
  EXPECT_EQ(proxy_->requests(kGetRecords), 3);
}

TEST_F(KinesisFaults, Persistent500OnGetRecordsFailsTransient) {
  put_direct(2);
  proxy_->set_rules(target_rule(kGetRecords, R"("fault":"status","status":500)"));
  auto r = client_->get_records(iterator_direct());
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kTransient, {stream_, shard_.str(), "GetRecords", "InternalFailure"});
  EXPECT_EQ(proxy_->requests(kGetRecords), kAttempts);
}

TEST_F(KinesisFaults, PutRecordSurvivesTwo503s) {
  proxy_->set_rules(target_rule(kPutRecord, R"("fault":"status","status":503,"count":2)"));
  auto r = client_->put_record(stream_, record_data(0), "pk-0");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->shard_id, shard_);
  EXPECT_EQ(proxy_->requests(kPutRecord), 3);
  expect_records(read_direct(), 1);
}

TEST_F(KinesisFaults, Persistent503OnPutRecordFailsTransient) {
  proxy_->set_rules(target_rule(kPutRecord, R"("fault":"status","status":503)"));
  auto r = client_->put_record(stream_, record_data(0), "pk-0");
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kTransient, {stream_, "PutRecord", "ServiceUnavailable"});
  EXPECT_EQ(proxy_->requests(kPutRecord), kAttempts);
}

// ---- connections dropped and reset, bodies truncated -----------------------------------------

TEST_F(KinesisFaults, GetRecordsSurvivesADropAResetAndATruncation) {
  put_direct(30);
  proxy_->set_rules(R"({"rules":[
    {"match":{"target":"Kinesis_20131202.GetRecords"},"fault":"drop","count":1},
    {"match":{"target":"Kinesis_20131202.GetRecords"},"fault":"reset_mid_body","bytes":100,"count":1},
    {"match":{"target":"Kinesis_20131202.GetRecords"},"fault":"truncate","count":1}]})");
  expect_get_records_through_proxy(30);
  EXPECT_EQ(proxy_->requests(kGetRecords), 4);
  EXPECT_EQ(proxy_->faults_injected(), 3);
}

TEST_F(KinesisFaults, PersistentResetMidBodyOnGetRecordsFailsTransient) {
  put_direct(5);
  proxy_->set_rules(target_rule(kGetRecords, R"("fault":"reset_mid_body")"));
  auto r = client_->get_records(iterator_direct());
  ASSERT_FALSE(r.ok()) << "a reset body was returned as " << r->records.size() << " records";
  expect_final_error(r.error(), ErrorKind::kTransient, {stream_, shard_.str(), "GetRecords"});
  EXPECT_EQ(proxy_->requests(kGetRecords), kAttempts);
}

TEST_F(KinesisFaults, PersistentTruncationOnGetRecordsFailsTransientNeverAsData) {
  put_direct(5);
  proxy_->set_rules(target_rule(kGetRecords, R"("fault":"truncate")"));
  auto r = client_->get_records(iterator_direct());
  ASSERT_FALSE(r.ok()) << "a truncated body was returned as " << r->records.size() << " records";
  expect_final_error(r.error(), ErrorKind::kTransient, {stream_, shard_.str(), "GetRecords"});
  EXPECT_EQ(proxy_->requests(kGetRecords), kAttempts);
}

TEST_F(KinesisFaults, PersistentDropOnPutRecordsFailsTransient) {
  proxy_->set_rules(target_rule(kPutRecords, R"("fault":"drop")"));
  auto r = client_->put_records(stream_, entries(3));
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kTransient, {stream_, "PutRecords"});
  EXPECT_EQ(proxy_->requests(kPutRecords), kAttempts);
  EXPECT_TRUE(read_direct().empty());
}

// ---- x-amz-crc32 ---------------------------------------------------------------------------

TEST_F(KinesisFaults, GetRecordsSurvivesTwoCorruptCrc32) {
  put_direct(10);
  proxy_->set_rules(target_rule(kGetRecords, R"("fault":"corrupt_crc32","count":2)"));
  expect_get_records_through_proxy(10);
  EXPECT_EQ(proxy_->requests(kGetRecords), 3);
}

TEST_F(KinesisFaults, PersistentCorruptCrc32OnGetRecordsIsAnErrorNeverData) {
  put_direct(3);
  proxy_->set_rules(target_rule(kGetRecords, R"("fault":"corrupt_crc32")"));
  auto r = client_->get_records(iterator_direct());
  ASSERT_FALSE(r.ok()) << "records with a wrong x-amz-crc32 were returned as data";
  expect_final_error(r.error(), ErrorKind::kTransient, {stream_, "GetRecords", "Crc32Mismatch"});
  EXPECT_EQ(proxy_->requests(kGetRecords), kAttempts);
}

// ---- delays beyond the attempt timeout -------------------------------------------------------

// A Kinesis client over a transport that passes a short attempt timeout (kinesis::Client's own
// AWS transport uses the default of 60 s).
Client client_with_timeout(std::shared_ptr<aws::AwsClient> aws, std::chrono::milliseconds timeout) {
  return Client([aws = std::move(aws), timeout](std::string_view target, const std::string& body) {
    aws::CallOptions options;
    options.attempt_timeout = timeout;
    return aws->call_json(target, kinesis::kJsonVersion, body, options);
  });
}

TEST_F(KinesisFaults, GetRecordsSurvivesTwoDelaysBeyondTheAttemptTimeout) {
  put_direct(8);
  proxy_->set_rules(target_rule(kGetRecords, R"("fault":"delay","ms":3000,"count":2)"));
  Client slow = client_with_timeout(aws_, 400ms);
  auto r = slow.get_records(iterator_direct());
  ASSERT_TRUE(r.ok()) << r.error().describe();
  expect_records(r->records, 8);
  EXPECT_EQ(proxy_->requests(kGetRecords), 3);
}

TEST_F(KinesisFaults, PersistentDelayOnPutRecordsFailsTransient) {
  proxy_->set_rules(target_rule(kPutRecords, R"("fault":"delay","ms":3000)"));
  Client slow = client_with_timeout(aws_, 300ms);
  auto r = slow.put_records(stream_, entries(2));
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kTransient, {stream_, "PutRecords", "Timeout"});
  EXPECT_EQ(proxy_->requests(kPutRecords), kAttempts);
}

// ---- non-retryable errors ------------------------------------------------------------------

TEST_F(KinesisFaults, ValidationExceptionOnGetRecordsIsSentOnce) {
  put_direct(1);
  proxy_->set_rules(target_rule(kGetRecords, R"("fault":"error","status":400,"code":"ValidationException","message":"bad iterator")"));
  auto r = client_->get_records(iterator_direct());
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kInvalidInput, {stream_, shard_.str(), "GetRecords", "ValidationException"}, 1);
  EXPECT_EQ(proxy_->requests(kGetRecords), 1);
  EXPECT_EQ(aws_->stats().retries(), 0u);
}

TEST_F(KinesisFaults, InvalidArgumentOnPutRecordsIsSentOnce) {
  proxy_->set_rules(target_rule(kPutRecords, R"("fault":"error","status":400,"code":"InvalidArgumentException")"));
  auto r = client_->put_records(stream_, entries(2));
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kInvalidInput, {stream_, "PutRecords", "InvalidArgumentException"}, 1);
  EXPECT_EQ(proxy_->requests(kPutRecords), 1);
}

}  // namespace
}  // namespace dynarep::faults
