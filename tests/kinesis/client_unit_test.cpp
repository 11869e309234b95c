// The Kinesis client over a fake transport: request bodies, response parsing, pagination,
// fallbacks, waits and validation, without a server.
#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "kinesis/client.h"
#include "kinesis/detail/json.h"

namespace dynarep::kinesis {
namespace {

using namespace std::chrono_literals;

// Answers calls in order from a script; records every call.
class FakeTransport {
 public:
  struct Call {
    std::string target;
    std::string body;
  };
  void answer(std::string body) { script_.emplace_back(std::move(body)); }
  void fail(Error e) { script_.emplace_back(std::move(e)); }

  Transport transport() {
    return [this](std::string_view target, const std::string& body) -> Result<std::string> {
      calls.push_back({std::string(target), body});
      if (script_.empty()) return Error(ErrorKind::kFatal, "NoScript", "unexpected call " + std::string(target));
      auto next = std::move(script_.front());
      script_.pop_front();
      return next;
    };
  }

  std::vector<Call> calls;

 private:
  std::deque<Result<std::string>> script_;
};

Error not_found_error(const std::string& stream) {
  return Error(ErrorKind::kNotFound, "ResourceNotFoundException",
               "Stream " + stream + " under account 000000000000 not found.");
}

TEST(SequenceNumberTest, ComparesAsBigIntegers) {
  EXPECT_LT(SequenceNumber("9"), SequenceNumber("10"));
  EXPECT_GT(SequenceNumber("100"), SequenceNumber("99"));
  EXPECT_EQ(SequenceNumber("0042"), SequenceNumber("42"));
  EXPECT_EQ(SequenceNumber("0"), SequenceNumber("000"));
  const std::string a = "49590338271490256608559692538361571095921575989136588801";
  const std::string b = "49590338271490256608559692538361571095921575989136588810";
  EXPECT_LT(SequenceNumber(a), SequenceNumber(b));
  EXPECT_LT(SequenceNumber("9" + std::string(54, '9')), SequenceNumber(a));  // 55 digits < 56 digits
  EXPECT_NE(SequenceNumber(a), SequenceNumber(b));
}

TEST(SequenceNumberTest, ParseAcceptsOnlyDigits) {
  EXPECT_TRUE(SequenceNumber::parse("123").has_value());
  EXPECT_FALSE(SequenceNumber::parse("").has_value());
  EXPECT_FALSE(SequenceNumber::parse("12a").has_value());
  EXPECT_FALSE(SequenceNumber::parse("-1").has_value());
  EXPECT_FALSE(SequenceNumber::parse(std::string(129, '1')).has_value());
}

TEST(ShardIdTest, EqualityAndOrder) {
  EXPECT_EQ(ShardId("shardId-000000000001"), ShardId("shardId-000000000001"));
  EXPECT_LT(ShardId("shardId-000000000001"), ShardId("shardId-000000000002"));
}

TEST(HashKeyMidpointTest, SplitsRanges) {
  auto full = hash_key_midpoint({"0", "340282366920938463463374607431768211455"});
  ASSERT_TRUE(full.ok()) << full.error().describe();
  EXPECT_EQ(*full, "170141183460469231731687303715884105728");  // 2^127
  auto low = hash_key_midpoint({"0", "170141183460469231731687303715884105727"});
  ASSERT_TRUE(low.ok());
  EXPECT_EQ(*low, "85070591730234615865843651857942052864");  // 2^126
  auto small = hash_key_midpoint({"10", "20"});
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(*small, "15");
}

TEST(HashKeyMidpointTest, RejectsBadRanges) {
  EXPECT_FALSE(hash_key_midpoint({"5", "6"}).ok());
  EXPECT_FALSE(hash_key_midpoint({"5", "7"}).ok());
  EXPECT_FALSE(hash_key_midpoint({"a", "7"}).ok());
  EXPECT_FALSE(hash_key_midpoint({"0", "340282366920938463463374607431768211456"}).ok());  // 2^128
  auto e = hash_key_midpoint({"", "7"});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().kind, ErrorKind::kInvalidInput);
}

TEST(ClientTest, PutRecordsBuildsTheRequestAndReportsEveryEntry) {
  FakeTransport fake;
  fake.answer(R"({"FailedRecordCount":1,"Records":[
      {"SequenceNumber":"49543463076548007577105092703039560359975228518395012098","ShardId":"shardId-000000000000"},
      {"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"Rate exceeded for shard shardId-000000000001"},
      {"SequenceNumber":"49543463076570308322303623326179887152428262250726293522","ShardId":"shardId-000000000001"}]})");
  Client client(fake.transport());
  std::vector<PutRecordsEntry> entries = {
      {std::string("\x00\xff", 2), R"({"id":{"S":"a"}})", std::nullopt},
      {"two", "k2", std::string("123")},
      {"three", "k3", std::nullopt},
  };
  auto r = client.put_records("orders-stream", entries);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_EQ(fake.calls.size(), 1u);
  EXPECT_EQ(fake.calls[0].target, "Kinesis_20131202.PutRecords");
  EXPECT_EQ(fake.calls[0].body,
            R"({"StreamName":"orders-stream","Records":[{"Data":"AP8=","PartitionKey":"{\"id\":{\"S\":\"a\"}}"},)"
            R"({"Data":"dHdv","PartitionKey":"k2","ExplicitHashKey":"123"},{"Data":"dGhyZWU=","PartitionKey":"k3"}]})");
  EXPECT_EQ(r->failed_record_count, 1);
  EXPECT_FALSE(r->all_ok());
  ASSERT_EQ(r->entries.size(), 3u);
  EXPECT_TRUE(r->entries[0].ok());
  EXPECT_EQ(r->entries[0].shard_id, ShardId("shardId-000000000000"));
  EXPECT_EQ(r->entries[0].sequence_number.str(), "49543463076548007577105092703039560359975228518395012098");
  EXPECT_FALSE(r->entries[1].ok());
  EXPECT_EQ(r->entries[1].error_code, "ProvisionedThroughputExceededException");
  EXPECT_EQ(r->entries[1].error_message, "Rate exceeded for shard shardId-000000000001");
  EXPECT_TRUE(r->entries[2].ok());
  EXPECT_EQ(r->entries[2].shard_id, ShardId("shardId-000000000001"));
}

TEST(ClientTest, PutRecordsRejectsBadInputBeforeSending) {
  FakeTransport fake;
  Client client(fake.transport());
  auto expect_invalid = [&](const std::vector<PutRecordsEntry>& entries, const std::string& fragment) {
    auto r = client.put_records("s", entries);
    ASSERT_FALSE(r.ok()) << fragment;
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
    EXPECT_NE(r.error().describe().find(fragment), std::string::npos) << r.error().describe();
  };
  expect_invalid({}, "no records");
  expect_invalid(std::vector<PutRecordsEntry>(501, PutRecordsEntry{"d", "k", std::nullopt}), "501 records");
  expect_invalid({{"d", "k", std::nullopt}, {"d", "", std::nullopt}}, "record 1: partition key is empty");
  expect_invalid({{"d", std::string(257, 'k'), std::nullopt}}, "257 characters");
  expect_invalid({{std::string(kMaxRecordBytes, 'x'), "k", std::nullopt}}, "record 0");
  std::vector<PutRecordsEntry> big(6, PutRecordsEntry{std::string(1000000, 'x'), "k", std::nullopt});
  expect_invalid(big, "over the 5242880 byte limit");
  // 256 two-byte characters are 256 characters, within the limit.
  fake.answer(R"({"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"shardId-000000000000"}]})");
  std::string key;
  for (int i = 0; i < 256; ++i) key += "\xc3\xa9";
  EXPECT_TRUE(client.put_records("s", {{"d", key, std::nullopt}}).ok());
  EXPECT_EQ(fake.calls.size(), 1u);
}

TEST(ClientTest, PutRecordsRejectsAnAnswerOfTheWrongSize) {
  FakeTransport fake;
  fake.answer(R"({"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"shardId-000000000000"}]})");
  Client client(fake.transport());
  auto r = client.put_records("s", {{"a", "k", std::nullopt}, {"b", "k", std::nullopt}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "MalformedResponse");
  EXPECT_NE(r.error().describe().find("stream s"), std::string::npos);
}

TEST(ClientTest, PutRecordReturnsShardAndSequence) {
  FakeTransport fake;
  fake.answer(R"({"ShardId":"shardId-000000000003","SequenceNumber":"21269319989653637946712965403778482177"})");
  Client client(fake.transport());
  auto r = client.put_record("s", "hello", "pk");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(fake.calls[0].target, "Kinesis_20131202.PutRecord");
  EXPECT_EQ(fake.calls[0].body, R"({"StreamName":"s","Data":"aGVsbG8=","PartitionKey":"pk"})");
  EXPECT_EQ(r->shard_id, ShardId("shardId-000000000003"));
  EXPECT_EQ(r->sequence_number.str(), "21269319989653637946712965403778482177");
}

TEST(ClientTest, GetRecordsDecodesRecords) {
  FakeTransport fake;
  fake.answer(R"({"Records":[
      {"Data":"aGVsbG8=","PartitionKey":"p1","SequenceNumber":"100","ApproximateArrivalTimestamp":1.441215410867E9},
      {"Data":"","PartitionKey":"p2","SequenceNumber":"101","ApproximateArrivalTimestamp":1441215411}],
    "NextShardIterator":"AAAA-next","MillisBehindLatest":2100})");
  Client client(fake.transport());
  ShardIterator it{"s", ShardId("shardId-000000000000"), "AAAA-first"};
  auto r = client.get_records(it, 25);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(fake.calls[0].target, "Kinesis_20131202.GetRecords");
  EXPECT_EQ(fake.calls[0].body, R"({"ShardIterator":"AAAA-first","Limit":25})");
  ASSERT_EQ(r->records.size(), 2u);
  EXPECT_EQ(r->records[0].data, "hello");
  EXPECT_EQ(r->records[0].partition_key, "p1");
  EXPECT_EQ(r->records[0].sequence_number.str(), "100");
  ASSERT_TRUE(r->records[0].approximate_arrival.has_value());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(r->records[0].approximate_arrival->time_since_epoch())
                .count(),
            1441215410867);
  EXPECT_EQ(r->records[1].data, "");
  ASSERT_TRUE(r->next_iterator.has_value());
  EXPECT_EQ(r->next_iterator->value, "AAAA-next");
  EXPECT_EQ(r->next_iterator->stream, "s");
  EXPECT_EQ(r->next_iterator->shard, it.shard);
  EXPECT_FALSE(r->shard_ended());
  EXPECT_EQ(r->millis_behind_latest, 2100);
}

TEST(ClientTest, GetRecordsAtTheEndOfAClosedShard) {
  FakeTransport fake;
  fake.answer(R"({"Records":[],"NextShardIterator":null,"MillisBehindLatest":0,
                  "ChildShards":[{"ShardId":"shardId-000000000002","ParentShards":["shardId-000000000000"],
                                  "HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"10"}}]})");
  fake.answer(R"({"Records":[],"MillisBehindLatest":0})");
  Client client(fake.transport());
  ShardIterator it{"s", ShardId("shardId-000000000000"), "AAAA"};
  auto r = client.get_records(it);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(fake.calls[0].body, R"({"ShardIterator":"AAAA"})");
  EXPECT_TRUE(r->shard_ended());
  ASSERT_EQ(r->child_shards.size(), 1u);
  EXPECT_EQ(r->child_shards[0], ShardId("shardId-000000000002"));
  auto absent = client.get_records(it);
  ASSERT_TRUE(absent.ok());
  EXPECT_TRUE(absent->shard_ended());
}

TEST(ClientTest, GetRecordsErrorsNameStreamAndShard) {
  FakeTransport fake;
  fake.fail(Error(ErrorKind::kInvalidInput, "ExpiredIteratorException", "Iterator expired."));
  fake.fail(Error(ErrorKind::kInvalidInput, "InvalidArgumentException", "Invalid ShardIterator."));
  fake.answer(R"({"Records":[{"Data":"@@@","PartitionKey":"p","SequenceNumber":"7"}],"NextShardIterator":"x"})");
  Client client(fake.transport());
  ShardIterator it{"orders", ShardId("shardId-000000000001"), "AAAA"};
  auto expired = client.get_records(it);
  ASSERT_FALSE(expired.ok());
  EXPECT_TRUE(is_expired_iterator(expired.error()));
  EXPECT_EQ(expired.error().describe(),
            "kinesis GetRecords on stream orders shard shardId-000000000001: ExpiredIteratorException: Iterator expired.");
  auto invalid = client.get_records(it);
  ASSERT_FALSE(invalid.ok());
  EXPECT_FALSE(is_expired_iterator(invalid.error()));
  EXPECT_EQ(invalid.error().kind, ErrorKind::kInvalidInput);
  auto bad_data = client.get_records(it);
  ASSERT_FALSE(bad_data.ok());
  EXPECT_EQ(bad_data.error().code, "MalformedResponse");
  EXPECT_NE(bad_data.error().describe().find("record 7: Data is not base64"), std::string::npos)
      << bad_data.error().describe();
  EXPECT_FALSE(client.get_records(it, 10001).ok());
  EXPECT_FALSE(client.get_records(it, -1).ok());
}

TEST(ClientTest, GetShardIteratorBodies) {
  FakeTransport fake;
  for (int i = 0; i < 5; ++i) fake.answer(R"({"ShardIterator":"it-)" + std::to_string(i) + R"("})");
  Client client(fake.transport());
  ShardId shard("shardId-000000000000");
  auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123));
  std::vector<StartingPosition> positions = {
      StartingPosition::trim_horizon(), StartingPosition::latest(),
      StartingPosition::at_sequence_number(SequenceNumber("123")),
      StartingPosition::after_sequence_number(SequenceNumber("456")), StartingPosition::at_timestamp(t)};
  for (const auto& p : positions) {
    auto r = client.get_shard_iterator("s", shard, p);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->stream, "s");
    EXPECT_EQ(r->shard, shard);
  }
  ASSERT_EQ(fake.calls.size(), 5u);
  EXPECT_EQ(fake.calls[0].body, R"({"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"})");
  EXPECT_EQ(fake.calls[1].body, R"({"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"LATEST"})");
  EXPECT_EQ(fake.calls[2].body,
            R"({"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"AT_SEQUENCE_NUMBER","StartingSequenceNumber":"123"})");
  EXPECT_EQ(fake.calls[3].body,
            R"({"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"AFTER_SEQUENCE_NUMBER","StartingSequenceNumber":"456"})");
  EXPECT_EQ(fake.calls[4].body,
            R"({"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"AT_TIMESTAMP","Timestamp":1700000000.123})");
  auto missing = client.get_shard_iterator("s", shard, {IteratorType::kAtSequenceNumber, {}, {}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(fake.calls.size(), 5u);
}

constexpr const char* kShardA =
    R"({"ShardId":"shardId-000000000000","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"340282366920938463463374607431768211455"},
        "SequenceNumberRange":{"StartingSequenceNumber":"100","EndingSequenceNumber":"200"}})";
constexpr const char* kShardB =
    R"({"ShardId":"shardId-000000000001","ParentShardId":"shardId-000000000000",
        "HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"170141183460469231731687303715884105727"},
        "SequenceNumberRange":{"StartingSequenceNumber":"300"}})";
constexpr const char* kShardC =
    R"({"ShardId":"shardId-000000000002","ParentShardId":"shardId-000000000000","AdjacentParentShardId":"shardId-000000000009",
        "HashKeyRange":{"StartingHashKey":"170141183460469231731687303715884105728","EndingHashKey":"340282366920938463463374607431768211455"},
        "SequenceNumberRange":{"StartingSequenceNumber":"301","EndingSequenceNumber":null}})";

void expect_three_shards(const std::vector<Shard>& shards) {
  ASSERT_EQ(shards.size(), 3u);
  EXPECT_EQ(shards[0].id, ShardId("shardId-000000000000"));
  EXPECT_TRUE(shards[0].closed());
  EXPECT_FALSE(shards[0].parent.has_value());
  EXPECT_EQ(shards[0].sequence_number_range.ending->str(), "200");
  EXPECT_EQ(shards[1].parent, ShardId("shardId-000000000000"));
  EXPECT_FALSE(shards[1].adjacent_parent.has_value());
  EXPECT_FALSE(shards[1].closed());
  EXPECT_EQ(shards[1].hash_key_range.ending_hash_key, "170141183460469231731687303715884105727");
  EXPECT_EQ(shards[2].adjacent_parent, ShardId("shardId-000000000009"));
  EXPECT_FALSE(shards[2].closed());
  EXPECT_EQ(shards[2].sequence_number_range.starting.str(), "301");
}

TEST(ClientTest, ListShardsFollowsNextToken) {
  FakeTransport fake;
  fake.answer(std::string(R"({"Shards":[)") + kShardA + "," + kShardB + R"(],"NextToken":"tok+/="})");
  fake.answer(std::string(R"({"Shards":[)") + kShardC + "]}");
  Client client(fake.transport());
  auto r = client.list_shards("s");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_EQ(fake.calls.size(), 2u);
  EXPECT_EQ(fake.calls[0].target, "Kinesis_20131202.ListShards");
  EXPECT_EQ(fake.calls[0].body, R"({"StreamName":"s"})");
  EXPECT_EQ(fake.calls[1].body, R"({"NextToken":"tok+/="})");
  expect_three_shards(*r);
}

TEST(ClientTest, ListShardsFallsBackToDescribeStream) {
  FakeTransport fake;
  fake.fail(Error(ErrorKind::kInvalidInput, "UnknownOperationException", ""));
  fake.answer(std::string(R"({"StreamDescription":{"StreamName":"s","StreamStatus":"ACTIVE","HasMoreShards":true,"Shards":[)") +
              kShardA + "," + kShardB + "]}}");
  fake.answer(std::string(R"({"StreamDescription":{"StreamName":"s","StreamStatus":"ACTIVE","HasMoreShards":false,"Shards":[)") +
              kShardC + "]}}");
  Client client(fake.transport());
  auto r = client.list_shards("s");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_EQ(fake.calls.size(), 3u);
  EXPECT_EQ(fake.calls[1].target, "Kinesis_20131202.DescribeStream");
  EXPECT_EQ(fake.calls[1].body, R"({"StreamName":"s"})");
  EXPECT_EQ(fake.calls[2].body, R"({"StreamName":"s","ExclusiveStartShardId":"shardId-000000000001"})");
  expect_three_shards(*r);

  // Remembered: the next listing goes straight to DescribeStream.
  fake.answer(std::string(R"({"StreamDescription":{"StreamName":"s","StreamStatus":"ACTIVE","HasMoreShards":false,"Shards":[)") +
              kShardA + "]}}");
  auto again = client.list_shards("s");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), 1u);
  EXPECT_EQ(fake.calls.back().target, "Kinesis_20131202.DescribeStream");
  EXPECT_EQ(fake.calls.size(), 4u);
}

TEST(ClientTest, ListShardsReportsMalformedShards) {
  FakeTransport fake;
  fake.answer(R"({"Shards":[{"ShardId":"shardId-000000000000","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"1"}}]})");
  Client client(fake.transport());
  auto r = client.list_shards("s");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "MalformedResponse");
  EXPECT_NE(r.error().describe().find("shard shardId-000000000000: SequenceNumberRange missing"), std::string::npos)
      << r.error().describe();
}

TEST(ClientTest, MissingStreamIsNotFoundAndNamed) {
  FakeTransport fake;
  fake.fail(not_found_error("nope"));
  fake.fail(not_found_error("nope"));
  Client client(fake.transport());
  auto d = client.describe_stream_summary("nope");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(d.error().describe().find("stream nope"), std::string::npos);
  auto l = client.list_shards("nope");
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(l.error().describe().find("kinesis ListShards on stream nope"), std::string::npos);
}

TEST(ClientTest, DescribeStreamSummaryAndItsFallback) {
  FakeTransport fake;
  fake.answer(R"({"StreamDescriptionSummary":{"StreamName":"s","StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s",
                  "StreamStatus":"UPDATING","RetentionPeriodHours":24,"OpenShardCount":3,"StreamCreationTimestamp":1.7E9}})");
  fake.fail(Error(ErrorKind::kInvalidInput, "UnknownOperationException", ""));
  fake.answer(R"({"StreamDescription":{"StreamName":"s","StreamARN":"arn","StreamStatus":"ACTIVE","RetentionPeriodHours":48,
                  "Shards":[],"HasMoreShards":false}})");
  Client client(fake.transport());
  auto a = client.describe_stream_summary("s");
  ASSERT_TRUE(a.ok()) << a.error().describe();
  EXPECT_EQ(a->name, "s");
  EXPECT_EQ(a->arn, "arn:aws:kinesis:us-east-1:000000000000:stream/s");
  EXPECT_EQ(a->status, StreamStatus::kUpdating);
  EXPECT_EQ(a->open_shard_count, 3);
  EXPECT_EQ(a->retention_period_hours, 24);
  auto b = client.describe_stream_summary("s");
  ASSERT_TRUE(b.ok()) << b.error().describe();
  EXPECT_EQ(b->status, StreamStatus::kActive);
  EXPECT_FALSE(b->open_shard_count.has_value());
  EXPECT_EQ(b->retention_period_hours, 48);
  EXPECT_EQ(fake.calls[2].body, R"({"StreamName":"s","Limit":1})");
}

TEST(ClientTest, CreateStreamWaitsUntilActive) {
  FakeTransport fake;
  ManualClock clock;
  fake.answer("");
  fake.answer(R"({"StreamDescriptionSummary":{"StreamName":"s","StreamStatus":"CREATING"}})");
  fake.answer(R"({"StreamDescriptionSummary":{"StreamName":"s","StreamStatus":"CREATING"}})");
  fake.answer(R"({"StreamDescriptionSummary":{"StreamName":"s","StreamStatus":"ACTIVE","OpenShardCount":2}})");
  Client client(fake.transport(), clock);
  auto s = client.create_stream("s", 2);
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(fake.calls[0].target, "Kinesis_20131202.CreateStream");
  EXPECT_EQ(fake.calls[0].body, R"({"StreamName":"s","ShardCount":2})");
  EXPECT_EQ(fake.calls.size(), 4u);
  EXPECT_EQ(clock.total_slept(), 150ms);  // 50 ms, then 100 ms
  EXPECT_FALSE(client.create_stream("s", 0).ok());
}

TEST(ClientTest, CreateStreamToleratesAStreamNotYetVisible) {
  FakeTransport fake;
  ManualClock clock;
  fake.answer("");
  fake.fail(not_found_error("s"));
  fake.answer(R"({"StreamDescriptionSummary":{"StreamName":"s","StreamStatus":"ACTIVE"}})");
  Client client(fake.transport(), clock);
  auto s = client.create_stream("s", 1);
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(clock.total_slept(), 50ms);
  // A plain wait does not: a missing stream is an answer.
  fake.fail(not_found_error("s"));
  auto w = client.wait_for_active("s");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().kind, ErrorKind::kNotFound);
}

TEST(ClientTest, WaitForActiveTimesOut) {
  FakeTransport fake;
  ManualClock clock;
  for (int i = 0; i < 100; ++i) fake.answer(R"({"StreamDescriptionSummary":{"StreamName":"s","StreamStatus":"UPDATING"}})");
  Client client(fake.transport(), clock);
  WaitOptions wait;
  wait.timeout = 1s;
  wait.first_poll = 100ms;
  wait.max_poll = 200ms;
  auto s = client.wait_for_active("s", wait);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::kTransient);
  EXPECT_NE(s.error().describe().find("kinesis stream s still UPDATING after 1000 ms"), std::string::npos)
      << s.error().describe();
  EXPECT_LE(clock.total_slept(), 1s);
  EXPECT_GE(clock.total_slept(), 800ms);
}

TEST(ClientTest, WaitForActiveOnADeletingStream) {
  FakeTransport fake;
  fake.answer(R"({"StreamDescriptionSummary":{"StreamName":"s","StreamStatus":"DELETING"}})");
  ManualClock clock;
  Client client(fake.transport(), clock);
  auto s = client.wait_for_active("s");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::kNotFound);
}

TEST(ClientTest, SplitShardAtTheMiddleAndMerge) {
  FakeTransport fake;
  ManualClock clock;
  fake.answer(std::string(R"({"Shards":[)") + kShardB + "]}");
  fake.answer("");
  fake.answer(R"({"StreamDescriptionSummary":{"StreamName":"s","StreamStatus":"ACTIVE"}})");
  fake.answer("");
  fake.answer(R"({"StreamDescriptionSummary":{"StreamName":"s","StreamStatus":"ACTIVE"}})");
  Client client(fake.transport(), clock);
  auto split = client.split_shard("s", ShardId("shardId-000000000001"));
  ASSERT_TRUE(split.ok()) << split.error().describe();
  EXPECT_EQ(fake.calls[1].target, "Kinesis_20131202.SplitShard");
  EXPECT_EQ(fake.calls[1].body,
            R"({"StreamName":"s","ShardToSplit":"shardId-000000000001","NewStartingHashKey":"85070591730234615865843651857942052864"})");
  auto merge = client.merge_shards("s", ShardId("shardId-000000000003"), ShardId("shardId-000000000004"));
  ASSERT_TRUE(merge.ok()) << merge.error().describe();
  EXPECT_EQ(fake.calls[3].target, "Kinesis_20131202.MergeShards");
  EXPECT_EQ(fake.calls[3].body,
            R"({"StreamName":"s","ShardToMerge":"shardId-000000000003","AdjacentShardToMerge":"shardId-000000000004"})");
}

TEST(ClientTest, SplitOfAnUnknownShard) {
  FakeTransport fake;
  fake.answer(std::string(R"({"Shards":[)") + kShardB + "]}");
  Client client(fake.transport());
  auto split = client.split_shard("s", ShardId("shardId-000000000042"));
  ASSERT_FALSE(split.ok());
  EXPECT_EQ(split.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(split.error().describe().find("shardId-000000000042"), std::string::npos);
}

TEST(ClientTest, ListStreamsPages) {
  FakeTransport fake;
  fake.answer(R"({"StreamNames":["a","b"],"HasMoreStreams":true})");
  fake.answer(R"({"StreamNames":["c"],"HasMoreStreams":true,"NextToken":"t1"})");
  fake.answer(R"({"StreamNames":["d"],"HasMoreStreams":false})");
  Client client(fake.transport());
  auto r = client.list_streams();
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(*r, (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(fake.calls[0].body, "{}");
  EXPECT_EQ(fake.calls[1].body, R"({"ExclusiveStartStreamName":"b"})");
  EXPECT_EQ(fake.calls[2].body, R"({"NextToken":"t1"})");
}

TEST(ClientTest, DeleteStream) {
  FakeTransport fake;
  fake.answer("");
  fake.fail(not_found_error("gone"));
  Client client(fake.transport());
  EXPECT_TRUE(client.delete_stream("s").ok());
  EXPECT_EQ(fake.calls[0].target, "Kinesis_20131202.DeleteStream");
  EXPECT_EQ(fake.calls[0].body, R"({"StreamName":"s"})");
  auto gone = client.delete_stream("gone");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(gone.error().describe().find("stream gone"), std::string::npos);
}

TEST(ClientTest, NonJsonAnswersAreMalformed) {
  FakeTransport fake;
  fake.answer("<html>");
  fake.answer("[]");
  Client client(fake.transport());
  auto a = client.describe_stream_summary("s");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, "MalformedResponse");
  EXPECT_NE(a.error().describe().find("not JSON"), std::string::npos);
  auto b = client.list_shards("s");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().describe().find("not a JSON object"), std::string::npos);
}

}  // namespace
}  // namespace dynarep::kinesis
