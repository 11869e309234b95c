// Lambda event batches: Kinesis and DynamoDB Streams records, and one bad record never failing
// the others.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "crypto/encoding.h"
#include "model/value.h"
#include "stream/lambda_event.h"

namespace dynarep::stream {
namespace {

using model::Item;
using model::Value;
using Event = ChangeRecord::Event;

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(DYNAREP_STREAM_FIXTURES) + "/" + name, std::ios::binary);
  if (!in) throw std::runtime_error("missing fixture " + name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string kSeqPrefix = "495903382714902566085596925383615710959215759891365888";

TEST(LambdaEventTest, KinesisBatchWithBadRecordsInside) {
  auto r = parse_lambda_event(fixture("lambda_kinesis_mixed.json"));
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_EQ(r->size(), 7u);
  for (std::size_t i = 0; i < r->size(); ++i) {
    const auto& rec = (*r)[i];
    EXPECT_EQ(rec.sequence_number, kSeqPrefix + "0" + std::to_string(i + 1)) << i;
    EXPECT_EQ(rec.shard_or_source, "shardId-000000000006") << i;
    ASSERT_TRUE(rec.approximate_arrival.has_value());
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(rec.approximate_arrival->time_since_epoch()).count(),
              1545084650987 + 1000 * static_cast<std::int64_t>(i));
  }

  const auto& ours = (*r)[0];
  ASSERT_TRUE(ours.record.ok()) << ours.record.error().describe();
  EXPECT_EQ(ours.partition_key, R"({"id":{"S":"a"},"n":{"N":"7"}})");
  EXPECT_EQ(ours.record->event, Event::kModify);
  EXPECT_EQ(ours.record->source, kSourceKinesisKeysOnly);
  EXPECT_EQ(ours.record->keys.at("id"), Value::S("a"));

  const auto& kds = (*r)[1];
  ASSERT_TRUE(kds.record.ok()) << kds.record.error().describe();
  EXPECT_EQ(kds.record->source, kSourceKinesisForDynamoDb);
  EXPECT_EQ(kds.record->table_name, "Music");
  EXPECT_TRUE(kds.record->new_image.has_value());

  const auto& dyno = (*r)[2];
  ASSERT_TRUE(dyno.record.ok()) << dyno.record.error().describe();
  EXPECT_EQ(dyno.record->sequence_number, "300000000000000499659");

  const auto& not_json = (*r)[3];
  ASSERT_FALSE(not_json.record.ok());
  EXPECT_EQ(not_json.record.error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(not_json.record.error().describe().rfind("record 3 (seq " + kSeqPrefix + "04): data is not JSON: ", 0), 0u)
      << not_json.record.error().describe();

  const auto& not_b64 = (*r)[4];
  ASSERT_FALSE(not_b64.record.ok());
  EXPECT_EQ(not_b64.record.error().describe().rfind("record 4 (seq " + kSeqPrefix + "05): kinesis.data is not base64", 0),
            0u)
      << not_b64.record.error().describe();

  const auto& no_keys = (*r)[5];
  ASSERT_FALSE(no_keys.record.ok());
  EXPECT_EQ(no_keys.record.error().describe(), "record 5 (seq " + kSeqPrefix + "06): dynamodb.Keys missing");

  const auto& remove = (*r)[6];
  ASSERT_TRUE(remove.record.ok()) << remove.record.error().describe();
  EXPECT_EQ(remove.record->event, Event::kRemove);
}

TEST(LambdaEventTest, DynamoDbStreamsBatch) {
  auto r = parse_lambda_event(fixture("lambda_dynamodb_event.json"));
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_EQ(r->size(), 4u);
  const Event expected[] = {Event::kInsert, Event::kModify, Event::kRemove};
  const char* seqs[] = {"111000000000000000000001", "222000000000000000000002", "333000000000000000000003"};
  for (int i = 0; i < 3; ++i) {
    const auto& rec = (*r)[static_cast<std::size_t>(i)];
    ASSERT_TRUE(rec.record.ok()) << rec.record.error().describe();
    EXPECT_EQ(rec.record->event, expected[i]);
    EXPECT_EQ(rec.record->source, kSourceDynamoDbStreams);
    EXPECT_EQ(rec.record->table_name, "ExampleTableWithStream");
    EXPECT_EQ(rec.sequence_number, seqs[i]);
    EXPECT_EQ(rec.shard_or_source,
              "arn:aws:dynamodb:us-west-2:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899");
    EXPECT_EQ(rec.partition_key, "");
    EXPECT_FALSE(rec.approximate_arrival.has_value());
  }
  const auto& bad = (*r)[3];
  ASSERT_FALSE(bad.record.ok());
  EXPECT_EQ(bad.record.error().describe(),
            "record 3 (seq 444000000000000000000004): eventName 'UPSERT' is not INSERT, MODIFY or REMOVE");
}

TEST(LambdaEventTest, StreamsPreviewRecordsWithCapitalisedNames) {
  // The shape of dynamodb-replicator's dynostream test events.
  const std::string event = R"({"Records":[{"EventName":"INSERT","EventVersion":"1.0","EventSource":"aws:dynamodb",
      "Dynamodb":{"NewImage":{"id":{"S":"r1"}},"SizeBytes":20,"StreamViewType":"NEW_AND_OLD_IMAGES",
                  "Keys":{"id":{"S":"r1"}}},"EventID":"3","eventSourceARN":"localhost:4567","AwsRegion":"us-east-1"}]})";
  auto r = parse_lambda_event(event);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_EQ(r->size(), 1u);
  const auto& rec = (*r)[0];
  ASSERT_TRUE(rec.record.ok()) << rec.record.error().describe();
  EXPECT_EQ(rec.record->keys, (Item{{"id", Value::S("r1")}}));
  EXPECT_EQ(rec.record->new_image, (Item{{"id", Value::S("r1")}}));
  EXPECT_EQ(rec.record->event_id, "3");
  EXPECT_EQ(rec.shard_or_source, "localhost:4567");
  EXPECT_EQ(rec.record->table_name, "");  // not an ARN
}

TEST(LambdaEventTest, KinesisRecordWithoutAShardInItsEventId) {
  const std::string data = crypto::base64_encode(
      R"({"eventName":"REMOVE","dynamodb":{"Keys":{"id":{"S":"x"}},"StreamViewType":"KEYS_ONLY"}})");
  const std::string event = R"({"Records":[{"eventSource":"aws:kinesis","eventID":"abc",
      "eventSourceARN":"arn:aws:kinesis:us-east-1:1:stream/s","kinesis":{"data":")" +
                            data + R"(","sequenceNumber":"5","partitionKey":"p"}}]})";
  auto r = parse_lambda_event(event);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].shard_or_source, "arn:aws:kinesis:us-east-1:1:stream/s");
  EXPECT_EQ((*r)[0].partition_key, "p");
  EXPECT_FALSE((*r)[0].approximate_arrival.has_value());
  ASSERT_TRUE((*r)[0].record.ok());
  EXPECT_EQ((*r)[0].record->event, Event::kRemove);
}

TEST(LambdaEventTest, PerRecordEnvelopeErrors) {
  const std::string event = R"({"Records":[
      7,
      {"eventName":"INSERT"},
      {"eventSource":"aws:sqs","body":"x"},
      {"eventSource":"aws:kinesis","kinesis":{"sequenceNumber":"9","partitionKey":"p"}},
      {"eventSource":"aws:kinesis","kinesis":"x"},
      {"eventSource":"aws:kinesis"},
      {"eventSource":"aws:kinesis","kinesis":{"sequenceNumber":"10","data":5}},
      {"kinesis":{"sequenceNumber":"11","data":"e30="}},
      {"dynamodb":{"SequenceNumber":"12","Keys":{"id":{"S":"a"}}}}
    ]})";
  auto r = parse_lambda_event(event);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_EQ(r->size(), 9u);
  const std::string expected[] = {
      "record 0: not a JSON object",
      "record 1: eventSource missing",
      "record 2: eventSource 'aws:sqs' is neither aws:kinesis nor aws:dynamodb",
      "record 3 (seq 9): kinesis.data missing",
      "record 4: kinesis is not an object",
      "record 5: kinesis missing",
      "record 6 (seq 10): kinesis.data is not a string",
      "record 7 (seq 11): eventName missing",  // no eventSource, but a kinesis member: Kinesis
      "record 8 (seq 12): eventName missing",  // no eventSource, but a dynamodb member: Streams
  };
  for (std::size_t i = 0; i < r->size(); ++i) {
    ASSERT_FALSE((*r)[i].record.ok()) << i;
    EXPECT_EQ((*r)[i].record.error().describe(), expected[i]);
    EXPECT_EQ((*r)[i].record.error().kind, ErrorKind::kInvalidInput);
  }
}

TEST(LambdaEventTest, WholeEventErrors) {
  struct Case {
    std::string json;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "Lambda event is not JSON: "},
      {"{\"Records\":[", "Lambda event is not JSON: "},
      {"[]", "Lambda event is not a JSON object"},
      {"{}", "Lambda event has no Records array"},
      {R"({"Records":{}})", "Lambda event has no Records array"},
      {R"({"Records":null})", "Lambda event has no Records array"},
  };
  for (const auto& c : cases) {
    auto r = parse_lambda_event(c.json);
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(r.error().describe().rfind(c.message, 0), 0u) << r.error().describe();
  }
  auto empty = parse_lambda_event(R"({"Records":[]})");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

}  // namespace
}  // namespace dynarep::stream
