// The Kinesis client against kinesalite (the local stack).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kinesis/client.h"
#include "support/process.h"
#include "support/stack.h"

namespace dynarep::kinesis {
namespace {

using namespace std::chrono_literals;

class KinesisStackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::local_stack();
    client_ = std::make_unique<Client>(Client::connect("us-east-1"));
  }
  void TearDown() override {
    for (const auto& s : created_) client_->delete_stream(s).ignore_error();  // best effort cleanup
  }

  std::string create(int shards) {
    std::string name = testing::unique_name("kin");
    auto s = client_->create_stream(name, shards);
    EXPECT_TRUE(s.ok()) << s.error().describe();
    created_.push_back(name);
    return name;
  }

  // Reads a shard from `position` until an empty page at the tip (open shard) or the shard's
  // end (closed shard). `ended` tells which.
  std::vector<Record> read_shard(const std::string& stream, const ShardId& shard, const StartingPosition& position,
                                 int limit = 0, bool* ended = nullptr) {
    std::vector<Record> out;
    auto it = client_->get_shard_iterator(stream, shard, position);
    EXPECT_TRUE(it.ok()) << it.error().describe();
    if (!it.ok()) return out;
    ShardIterator cur = *it;
    for (int page = 0; page < 10000; ++page) {
      auto r = client_->get_records(cur, limit);
      EXPECT_TRUE(r.ok()) << r.error().describe();
      if (!r.ok()) break;
      for (auto& rec : r->records) out.push_back(std::move(rec));
      if (r->shard_ended()) {
        if (ended) *ended = true;
        return out;
      }
      if (r->records.empty()) break;
      cur = *r->next_iterator;
    }
    if (ended) *ended = false;
    return out;
  }

  std::unique_ptr<Client> client_;
  std::vector<std::string> created_;
};

TEST_F(KinesisStackTest, ThousandRecordsEachReadOnceInPerKeyOrder) {
  std::string stream = create(2);
  auto shards = client_->list_shards(stream);
  ASSERT_TRUE(shards.ok()) << shards.error().describe();
  ASSERT_EQ(shards->size(), 2u);
  for (const auto& s : *shards) EXPECT_FALSE(s.closed());

  // 1,000 records over 37 partition keys; data "<key>#<n>" with n counting per key.
  constexpr int kRecords = 1000;
  constexpr int kKeys = 37;
  std::vector<PutRecordsEntry> entries;
  std::map<std::string, int> next_n;
  for (int i = 0; i < kRecords; ++i) {
    std::string key = "{\"id\":{\"S\":\"item-" + std::to_string((i * 7) % kKeys) + "\"}}";
    int n = next_n[key]++;
    entries.push_back({key + "#" + std::to_string(n), key, std::nullopt});
  }
  std::map<std::string, ShardId> shard_of_key;
  std::map<ShardId, SequenceNumber> last_seq_in_shard;
  for (std::size_t start = 0; start < entries.size(); start += kMaxPutRecordsEntries) {
    std::vector<PutRecordsEntry> batch(entries.begin() + static_cast<std::ptrdiff_t>(start),
                                       entries.begin() + static_cast<std::ptrdiff_t>(
                                                             std::min(entries.size(), start + kMaxPutRecordsEntries)));
    auto r = client_->put_records(stream, batch);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    ASSERT_TRUE(r->all_ok());
    ASSERT_EQ(r->entries.size(), batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto& e = r->entries[i];
      ASSERT_TRUE(e.ok()) << e.error_code;
      auto [it, fresh] = shard_of_key.emplace(batch[i].partition_key, e.shard_id);
      EXPECT_EQ(it->second, e.shard_id) << "one key, one shard";
      auto last = last_seq_in_shard.find(e.shard_id);
      if (last != last_seq_in_shard.end()) {
        EXPECT_LT(last->second, e.sequence_number);
      }
      last_seq_in_shard[e.shard_id] = e.sequence_number;
    }
  }
  EXPECT_EQ(last_seq_in_shard.size(), 2u) << "37 keys should land on both shards";

  std::map<std::string, int> seen_n;  // key -> next expected n
  std::set<std::string> seen_data;
  std::size_t total = 0;
  for (const auto& shard : *shards) {
    auto records = read_shard(stream, shard.id, StartingPosition::trim_horizon(), 97);
    SequenceNumber prev;
    for (const auto& rec : records) {
      ++total;
      EXPECT_TRUE(seen_data.insert(rec.data).second) << "duplicate " << rec.data;
      EXPECT_EQ(shard_of_key.at(rec.partition_key), shard.id);
      std::string key = rec.data.substr(0, rec.data.rfind('#'));
      EXPECT_EQ(key, rec.partition_key);
      int n = std::stoi(rec.data.substr(rec.data.rfind('#') + 1));
      EXPECT_EQ(n, seen_n[key]++) << "order of " << key;
      if (!prev.empty()) {
        EXPECT_LT(prev, rec.sequence_number);
      }
      prev = rec.sequence_number;
      EXPECT_TRUE(rec.approximate_arrival.has_value());
    }
  }
  EXPECT_EQ(total, static_cast<std::size_t>(kRecords));
  EXPECT_EQ(seen_n, next_n);
}

TEST_F(KinesisStackTest, BinaryDataAndIteratorPositions) {
  std::string stream = create(1);
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  auto first = client_->put_record(stream, all_bytes, "k");
  ASSERT_TRUE(first.ok()) << first.error().describe();
  auto second = client_->put_record(stream, "second", "k");
  ASSERT_TRUE(second.ok());
  EXPECT_LT(first->sequence_number, second->sequence_number);
  EXPECT_EQ(first->shard_id, second->shard_id);
  const ShardId shard = first->shard_id;

  auto from_start = read_shard(stream, shard, StartingPosition::trim_horizon());
  ASSERT_EQ(from_start.size(), 2u);
  EXPECT_EQ(from_start[0].data, all_bytes);
  EXPECT_EQ(from_start[0].sequence_number, first->sequence_number);

  auto at = read_shard(stream, shard, StartingPosition::at_sequence_number(first->sequence_number));
  ASSERT_EQ(at.size(), 2u);
  EXPECT_EQ(at[0].sequence_number, first->sequence_number);
  auto after = read_shard(stream, shard, StartingPosition::after_sequence_number(first->sequence_number));
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].data, "second");

  // LATEST: only what comes after the iterator was taken.
  auto latest = client_->get_shard_iterator(stream, shard, StartingPosition::latest());
  ASSERT_TRUE(latest.ok()) << latest.error().describe();
  std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(client_->put_record(stream, "third", "k").ok());
  auto page = client_->get_records(*latest);
  ASSERT_TRUE(page.ok()) << page.error().describe();
  ASSERT_EQ(page->records.size(), 1u);
  EXPECT_EQ(page->records[0].data, "third");

  // AT_TIMESTAMP: from the third record's arrival on.
  ASSERT_TRUE(page->records[0].approximate_arrival.has_value());
  auto at_time = read_shard(stream, shard, StartingPosition::at_timestamp(*page->records[0].approximate_arrival));
  ASSERT_GE(at_time.size(), 1u);
  EXPECT_EQ(at_time.back().data, "third");
  EXPECT_LE(at_time.size(), 3u);
}

TEST_F(KinesisStackTest, PutRecordsEntryResultsMatchTheRequest) {
  std::string stream = create(3);
  std::vector<PutRecordsEntry> entries;
  for (int i = 0; i < 20; ++i) entries.push_back({"d" + std::to_string(i), "key-" + std::to_string(i), std::nullopt});
  // An explicit hash key of 0 always lands on the first shard.
  entries.push_back({"explicit", "whatever", std::string("0")});
  auto r = client_->put_records(stream, entries);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->failed_record_count, 0);
  ASSERT_EQ(r->entries.size(), entries.size());
  for (const auto& e : r->entries) {
    EXPECT_TRUE(e.ok());
    EXPECT_FALSE(e.sequence_number.empty());
    EXPECT_FALSE(e.shard_id.empty());
  }
  EXPECT_EQ(r->entries.back().shard_id, ShardId("shardId-000000000000"));
  // Each entry's (shard, sequence) finds that entry's data.
  for (std::size_t i = 0; i < entries.size(); i += 5) {
    auto recs = read_shard(stream, r->entries[i].shard_id,
                           StartingPosition::at_sequence_number(r->entries[i].sequence_number), 1);
    ASSERT_FALSE(recs.empty());
    EXPECT_EQ(recs[0].data, entries[i].data);
    EXPECT_EQ(recs[0].partition_key, entries[i].partition_key);
  }
  // The service's own validation comes back as an error naming the stream.
  auto bad = client_->put_records(stream, {{"x", "k", std::string("not-a-number")}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().describe().find(stream), std::string::npos) << bad.error().describe();
}

TEST_F(KinesisStackTest, BadAndExpiredIterators) {
  std::string stream = create(1);
  auto shards = client_->list_shards(stream);
  ASSERT_TRUE(shards.ok());
  const Shard& shard = shards->front();

  auto bad = client_->get_records(ShardIterator{stream, shard.id, "AAAAAAAAAAAnotAnIterator"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(bad.error().code, "InvalidArgumentException");
  EXPECT_FALSE(is_expired_iterator(bad.error()));
  EXPECT_NE(bad.error().describe().find("stream " + stream + " shard " + shard.id.str()), std::string::npos)
      << bad.error().describe();

  // An iterator kinesalite made ten minutes ago (it expires after five): kinesalite's own
  // iterator maker with a clock set back.
  const std::string script =
      "const db = require(process.argv[1] + '/node_modules/kinesalite/db');"
      "const now = Date.now; Date.now = () => now() - 600000;"
      "process.stdout.write(db.createShardIterator(process.argv[2], process.argv[3], process.argv[4]));";
  auto made = testing::run_process({"/usr/bin/env", "node", "-e", script, testing::source_dir(), stream,
                                    shard.id.str(), shard.sequence_number_range.starting.str()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  ASSERT_FALSE(made.out.empty());
  auto expired = client_->get_records(ShardIterator{stream, shard.id, made.out});
  ASSERT_FALSE(expired.ok());
  EXPECT_TRUE(is_expired_iterator(expired.error())) << expired.error().describe();
  EXPECT_NE(expired.error().describe().find(stream), std::string::npos);
}

TEST_F(KinesisStackTest, SplitAndMergeShowParentLinks) {
  std::string stream = create(1);
  ASSERT_TRUE(client_->put_record(stream, "before-split", "k").ok());
  auto before = client_->list_shards(stream);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 1u);
  const ShardId parent = before->front().id;

  auto split = client_->split_shard(stream, parent);
  ASSERT_TRUE(split.ok()) << split.error().describe();
  auto after_split = client_->list_shards(stream);
  ASSERT_TRUE(after_split.ok()) << after_split.error().describe();
  ASSERT_EQ(after_split->size(), 3u);
  const Shard& old = after_split->at(0);
  EXPECT_EQ(old.id, parent);
  EXPECT_TRUE(old.closed());
  std::vector<ShardId> children;
  for (std::size_t i = 1; i < 3; ++i) {
    const Shard& c = after_split->at(i);
    EXPECT_EQ(c.parent, parent);
    EXPECT_FALSE(c.adjacent_parent.has_value());
    EXPECT_FALSE(c.closed());
    children.push_back(c.id);
  }
  // The children split the parent's range exactly at the midpoint.
  EXPECT_EQ(after_split->at(1).hash_key_range.ending_hash_key, "170141183460469231731687303715884105727");
  EXPECT_EQ(after_split->at(2).hash_key_range.starting_hash_key, "170141183460469231731687303715884105728");

  // The closed parent reads to its end: the record, then no next iterator.
  bool ended = false;
  auto recs = read_shard(stream, parent, StartingPosition::trim_horizon(), 0, &ended);
  EXPECT_TRUE(ended);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].data, "before-split");

  auto merge = client_->merge_shards(stream, children[0], children[1]);
  ASSERT_TRUE(merge.ok()) << merge.error().describe();
  auto after_merge = client_->list_shards(stream);
  ASSERT_TRUE(after_merge.ok());
  ASSERT_EQ(after_merge->size(), 4u);
  const Shard& merged = after_merge->at(3);
  EXPECT_EQ(merged.parent, children[0]);
  EXPECT_EQ(merged.adjacent_parent, children[1]);
  EXPECT_FALSE(merged.closed());
  EXPECT_TRUE(after_merge->at(1).closed());
  EXPECT_TRUE(after_merge->at(2).closed());
  EXPECT_EQ(merged.hash_key_range.starting_hash_key, "0");
  EXPECT_EQ(merged.hash_key_range.ending_hash_key, "340282366920938463463374607431768211455");

  auto summary = client_->describe_stream_summary(stream);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->status, StreamStatus::kActive);
  EXPECT_EQ(summary->open_shard_count, 1);
}

TEST_F(KinesisStackTest, MissingStreamIsNotFoundAndNamed) {
  const std::string name = testing::unique_name("missing");
  auto expect_not_found = [&](const Error& e, const char* what) {
    EXPECT_EQ(e.kind, ErrorKind::kNotFound) << what << ": " << e.describe();
    EXPECT_NE(e.describe().find(name), std::string::npos) << what << ": " << e.describe();
  };
  auto d = client_->describe_stream_summary(name);
  ASSERT_FALSE(d.ok());
  expect_not_found(d.error(), "DescribeStreamSummary");
  auto l = client_->list_shards(name);
  ASSERT_FALSE(l.ok());
  expect_not_found(l.error(), "ListShards");
  auto p = client_->put_records(name, {{"d", "k", std::nullopt}});
  ASSERT_FALSE(p.ok());
  expect_not_found(p.error(), "PutRecords");
  auto i = client_->get_shard_iterator(name, ShardId("shardId-000000000000"), StartingPosition::trim_horizon());
  ASSERT_FALSE(i.ok());
  expect_not_found(i.error(), "GetShardIterator");
  auto del = client_->delete_stream(name);
  ASSERT_FALSE(del.ok());
  expect_not_found(del.error(), "DeleteStream");
}

TEST_F(KinesisStackTest, ListCreateTwiceAndDelete) {
  std::string stream = create(1);
  auto names = client_->list_streams();
  ASSERT_TRUE(names.ok()) << names.error().describe();
  EXPECT_NE(std::find(names->begin(), names->end(), stream), names->end());

  auto again = client_->create_stream(stream, 1);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "ResourceInUseException");
  EXPECT_NE(again.error().describe().find(stream), std::string::npos);

  ASSERT_TRUE(client_->delete_stream(stream).ok());
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    auto d = client_->describe_stream_summary(stream);
    if (!d.ok()) {
      EXPECT_EQ(d.error().kind, ErrorKind::kNotFound) << d.error().describe();
      gone = true;
    } else {
      std::this_thread::sleep_for(20ms);
    }
  }
  EXPECT_TRUE(gone);
  created_.clear();
}

}  // namespace
}  // namespace dynarep::kinesis
