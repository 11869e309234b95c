// ddbstreams::Client against the in-process fake DynamoDB Streams server.
#include <gtest/gtest.h>

#include "ddbstreams/client.h"
#include "stream/record.h"
#include "support/aws_clients.h"
#include "support/fake_ddb_streams.h"

namespace dynarep::ddbstreams {
namespace {

class DdbStreamsClientTest : public ::testing::Test {
 protected:
  testing::FakeDynamoDbStreams fake_;
  Client client_{testing::make_aws(aws::Service::kDynamoDBStreams, fake_.url(), testing::fast_policy(2))};
};

TEST_F(DdbStreamsClientTest, DescribeStreamPagesThroughEveryShard) {
  const std::string arn = fake_.add_stream("orders", "2026-12-03T10:00:00.000");
  fake_.add_shard(arn, "shardId-1", "shardId-0");  // parent trimmed away: not listed
  fake_.put(arn, "shardId-1", "INSERT", "a", 1);
  fake_.close_shard(arn, "shardId-1");
  for (int i = 2; i <= 5; ++i) fake_.add_shard(arn, "shardId-" + std::to_string(i), "shardId-1");
  auto d = client_.describe_stream(arn);
  ASSERT_TRUE(d.ok()) << d.error().describe();
  ASSERT_EQ(d->shards.size(), 5u);
  EXPECT_EQ(fake_.calls("DescribeStream"), 3);  // pages of 2
  EXPECT_EQ(d->view_type, "NEW_AND_OLD_IMAGES");
  EXPECT_EQ(d->table_name, "orders");
  EXPECT_EQ(d->label, "2026-12-03T10:00:00.000");
  EXPECT_EQ(d->shards[0].parent.value_or(""), "shardId-0");
  EXPECT_TRUE(d->shards[0].closed());
  EXPECT_FALSE(d->shards[4].closed());
  EXPECT_EQ(d->shards[4].parent.value_or(""), "shardId-1");
}

TEST_F(DdbStreamsClientTest, RecordsAreTheChangeRecordsAndAClosedShardEnds) {
  const std::string arn = fake_.add_stream("orders", "L1");
  fake_.add_shard(arn, "s1");
  const std::string s1 = fake_.put(arn, "s1", "INSERT", "a", 1);
  fake_.put(arn, "s1", "MODIFY", "a", 2);
  const std::string s3 = fake_.put(arn, "s1", "REMOVE", "a", 2);
  fake_.close_shard(arn, "s1");
  auto it = client_.get_shard_iterator(arn, "s1", kAfterSequenceNumber, s1);
  ASSERT_TRUE(it.ok()) << it.error().describe();
  auto page = client_.get_records(arn, "s1", *it, 1000);
  ASSERT_TRUE(page.ok()) << page.error().describe();
  ASSERT_EQ(page->records.size(), 2u);
  EXPECT_EQ(page->records[1].sequence, s3);
  EXPECT_TRUE(page->records[0].created.has_value());
  EXPECT_FALSE(page->next_iterator.has_value());  // closed and read to its end
  // The record is what the replicator parses (docs/formats.md §3 shape (b)): images applied.
  auto c = stream::parse_change_record(page->records[0].json);
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->source, stream::kSourceDynamoDbStreams);
  EXPECT_EQ(c->event, stream::ChangeRecord::Event::kModify);
  ASSERT_TRUE(c->new_image.has_value());
  EXPECT_EQ(c->sequence_number, page->records[0].sequence);
}

TEST_F(DdbStreamsClientTest, ErrorsNameStreamAndShardAndAreClassified) {
  const std::string arn = fake_.add_stream("orders", "L1");
  fake_.add_shard(arn, "s1");
  const std::string s1 = fake_.put(arn, "s1", "INSERT", "a", 1);
  fake_.put(arn, "s1", "INSERT", "b", 1);

  auto missing = client_.get_shard_iterator(arn, "s9", kTrimHorizon);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(missing.error().describe().find(arn), std::string::npos) << missing.error().describe();
  EXPECT_NE(missing.error().describe().find("s9"), std::string::npos);

  auto it = client_.get_shard_iterator(arn, "s1", kTrimHorizon);
  ASSERT_TRUE(it.ok());
  fake_.expire_iterators();
  auto expired = client_.get_records(arn, "s1", *it);
  ASSERT_FALSE(expired.ok());
  EXPECT_TRUE(is_expired_iterator(expired.error()));
  EXPECT_FALSE(expired.error().retryable());
  EXPECT_NE(expired.error().describe().find("shard s1"), std::string::npos);

  fake_.trim(arn, "s1", 2);
  auto trimmed = client_.get_shard_iterator(arn, "s1", kAfterSequenceNumber, s1);
  ASSERT_FALSE(trimmed.ok());
  EXPECT_TRUE(is_trimmed_data(trimmed.error()));
  EXPECT_NE(trimmed.error().describe().find(s1), std::string::npos);

  EXPECT_FALSE(client_.get_records(arn, "s1", "x", 1001).ok());  // over the API's limit
  auto at_time = client_.get_shard_iterator(arn, "s1", "AT_TIMESTAMP");
  ASSERT_FALSE(at_time.ok());
  EXPECT_EQ(at_time.error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(fake_.calls("GetShardIterator"), 3);  // refused before sending
  auto gone = client_.describe_stream(arn + "-old");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().kind, ErrorKind::kNotFound);
}

TEST_F(DdbStreamsClientTest, ListStreamsOfATable) {
  fake_.add_stream("orders", "L1");
  fake_.add_stream("orders", "L2");
  fake_.add_stream("other", "L1");
  auto s = client_.list_streams("orders");
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(s->size(), 2u);
}

TEST(DdbStreamsArn, Parts) {
  const std::string arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-12-03T13:55:00.123";
  EXPECT_TRUE(looks_like_stream_arn(arn));
  EXPECT_FALSE(looks_like_stream_arn("orders-changes"));
  EXPECT_FALSE(looks_like_stream_arn("arn:aws:kinesis:eu-west-1:1:stream/x"));
  EXPECT_EQ(stream_label(arn), "2026-12-03T13:55:00.123");
  EXPECT_EQ(stream_table(arn), "orders");
  EXPECT_EQ(arn_region(arn), "eu-west-1");
}

}  // namespace
}  // namespace dynarep::ddbstreams
