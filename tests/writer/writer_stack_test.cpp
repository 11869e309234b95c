// ReplicatedTable and BatchWriter against dynalite + kinesalite: exactly one record per
// confirmed write, in order per key, read back from every shard; reads from the read table;
// and the gap: a stream that fails PutRecords (fault proxy) or was deleted gives the
// unpublished-keys error, and republishing once it is back puts the records on the stream.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "model/item.h"
#include "stack_env.h"
#include "support/fault_proxy.h"
#include "writer/publisher.h"
#include "writer/replicated_table.h"

namespace dynarep::writer {
namespace {

using namespace testing;
using dynamodb::WriteRequest;
using model::KeySchema;
using model::Type;

constexpr std::string_view kPutRecords = "Kinesis_20131202.PutRecords";

class WriterStack : public ::testing::Test {
 protected:
  void SetUp() override {
    ddb_ = dynamo();
    kin_ = kinesis_client();
    table_ = dynarep::testing::unique_name("wr");
    ASSERT_TRUE(ddb_->create_table(table_, schema_).ok());
    ASSERT_TRUE(ddb_->wait_until_active(table_).ok());
  }
  void TearDown() override {
    for (const auto& t : tables_) ddb_->delete_table(t).ignore_error();  // best-effort cleanup
    ddb_->delete_table(table_).ignore_error();
    for (const auto& s : streams_) kin_->delete_stream(s).ignore_error();
  }
  std::string make_stream(int shards) {
    std::string s = dynarep::testing::unique_name("ws");
    auto st = kin_->create_stream(s, shards);
    EXPECT_TRUE(st.ok()) << st.error().describe();
    streams_.push_back(s);
    return s;
  }
  PublisherOptions fast_publisher(const std::string& stream, int attempts = 4) {
    PublisherOptions o;
    o.stream = stream;
    o.max_attempts = attempts;
    o.base_backoff = 1ms;
    o.max_backoff = 5ms;
    return o;
  }
  std::unique_ptr<ReplicatedTable> open(std::shared_ptr<StreamPublisher> publisher,
                                        std::optional<TableRef> read = std::nullopt) {
    ReplicatedTableConfig c;
    c.write = {ddb_, table_};
    c.read = std::move(read);
    c.publisher = std::move(publisher);
    auto t = ReplicatedTable::open(std::move(c));
    EXPECT_TRUE(t.ok()) << t.error().describe();
    return t.ok() ? std::move(t).value() : nullptr;
  }
  int64_t count_items(const std::string& table) {
    dynamodb::ScanRequest req;
    req.table = table;
    int64_t n = 0;
    while (true) {
      auto page = ddb_->scan(req);
      EXPECT_TRUE(page.ok()) << page.error().describe();
      if (!page.ok()) return -1;
      n += static_cast<int64_t>(page->items.size());
      if (!page->last_evaluated_key) return n;
      req.exclusive_start_key = page->last_evaluated_key;
    }
  }
  // Records on the stream per partition key: "EVENT eventID", in shard order.
  std::map<std::string, std::vector<std::string>> records_by_key(const std::string& stream) {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& r : read_stream(*kin_, stream)) {
      out[r.partition_key].push_back(std::string(stream::to_string(r.record.event)));
    }
    return out;
  }

  KeySchema schema_{"id", Type::kS, "", Type::kS};
  std::shared_ptr<dynamodb::Client> ddb_;
  std::shared_ptr<kinesis::Client> kin_;
  std::string table_;
  std::vector<std::string> tables_, streams_;
};

std::string id_item(const std::string& id, int n) {
  return R"({"id":{"S":")" + id + R"("},"n":{"N":")" + std::to_string(n) + R"("}})";
}

// The load: 4 threads of single writes (put, update, delete; each thread owns its keys, so a
// key's order is its thread's program order) and 2 threads of batch writes, onto a 4-shard
// stream. Exactly one record per confirmed write, each key's records in write order.
TEST_F(WriterStack, LoadLeavesExactlyOneRecordPerConfirmedWriteInOrderPerKey) {
  const std::string stream = make_stream(4);
  auto publisher = std::make_shared<StreamPublisher>(kin_, fast_publisher(stream));
  auto table = open(publisher);
  ASSERT_TRUE(table);
  std::mutex mu;
  std::map<std::string, std::vector<std::string>> expected;  // partition key -> events
  std::atomic<int> failures{0};
  auto confirmed = [&](const std::string& id, std::string_view event) {
    std::lock_guard lock(mu);
    expected[R"({"id":{"S":")" + id + R"("}})"].push_back(std::string(event));
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 60; ++i) {
        std::string id = "t" + std::to_string(t) + "-k" + std::to_string(i % 8);
        switch ((i / 8 + i) % 3) {
          case 0: {
            auto st = table->put(item(id_item(id, i)));
            if (st.ok()) confirmed(id, "INSERT"); else ++failures;
            break;
          }
          case 1: {
            dynamodb::UpdateRequest u;
            u.key = item(R"({"id":{"S":")" + id + R"("}})");
            u.update_expression = "SET #n = :n";
            u.expression_attribute_names = {{"#n", "n"}};
            u.expression_attribute_values = item(R"({":n":{"N":")" + std::to_string(i) + R"("}})");
            auto r = table->update(u);
            if (r.ok()) confirmed(id, "MODIFY"); else ++failures;
            break;
          }
          default: {
            auto st = table->remove(item(R"({"id":{"S":")" + id + R"("}})"));
            if (st.ok()) confirmed(id, "REMOVE"); else ++failures;
          }
        }
      }
    });
  }
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        std::vector<WriteRequest> reqs;
        for (int i = 0; i < 70; ++i) {
          std::string id = "b" + std::to_string(t) + "-" + std::to_string(i);
          if (round == 1 && i % 2 == 0) {
            reqs.push_back({WriteRequest::Kind::kDelete, item(R"({"id":{"S":")" + id + R"("}})")});
          } else {
            reqs.push_back({WriteRequest::Kind::kPut, item(id_item(id, round))});
          }
        }
        auto r = table->write_batch(reqs);
        if (!r.ok()) {
          ++failures;
          continue;
        }
        EXPECT_EQ(r->written, 70);
        for (const auto& req : reqs) {
          confirmed(req.item.at("id").as_s(), req.kind == WriteRequest::Kind::kPut ? "INSERT" : "REMOVE");
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  publisher->flush();

  auto all = read_stream(*kin_, stream);
  size_t total = 0;
  for (const auto& [k, v] : expected) total += v.size();
  EXPECT_EQ(total, 4u * 60 + 2u * 3 * 70);
  EXPECT_EQ(all.size(), total);
  std::set<std::string> ids;
  std::set<std::string> shards;
  for (const auto& r : all) {
    ids.insert(r.record.event_id);
    shards.insert(r.shard);
    EXPECT_EQ(r.partition_key, stream::partition_key(r.record.keys));
    EXPECT_EQ(r.record.aws_region, "us-east-1");
    EXPECT_EQ(r.record.stream_view_type, "KEYS_ONLY");
  }
  EXPECT_EQ(ids.size(), all.size()) << "an event ID repeats: a record was sent twice";
  EXPECT_GT(shards.size(), 1u) << "keys should spread over the shards";
  EXPECT_EQ(records_by_key(stream), expected);
}

TEST_F(WriterStack, ReadsGoToTheReadTableWritesToTheWriteTable) {
  std::string replica = dynarep::testing::unique_name("wr-read");
  tables_.push_back(replica);
  ASSERT_TRUE(ddb_->create_table(replica, schema_).ok());
  ASSERT_TRUE(ddb_->wait_until_active(replica).ok());
  ASSERT_TRUE(ddb_->put_item(replica, item(R"({"id":{"S":"a"},"where":{"S":"replica"}})")).ok());
  auto table = open(nullptr, TableRef{ddb_, replica});
  ASSERT_TRUE(table);
  ASSERT_TRUE(table->put(item(R"({"id":{"S":"a"},"where":{"S":"primary"}})")).ok());
  auto got = table->get(item(R"({"id":{"S":"a"}})"));
  ASSERT_TRUE(got.ok()) << got.error().describe();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((**got).at("where").as_s(), "replica");
  auto primary = ddb_->get_item(table_, item(R"({"id":{"S":"a"}})"));
  ASSERT_TRUE(primary.ok() && primary->has_value());
  EXPECT_EQ((**primary).at("where").as_s(), "primary");
  auto many = table->batch_get({item(R"({"id":{"S":"a"}})"), item(R"({"id":{"S":"zz"}})")});
  ASSERT_TRUE(many.ok()) << many.error().describe();
  ASSERT_EQ(many->size(), 1u);
  EXPECT_EQ(many->front().at("where").as_s(), "replica");
  auto page = table->scan({});
  ASSERT_TRUE(page.ok()) << page.error().describe();
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].at("where").as_s(), "replica");
  dynamodb::QueryRequest q;
  q.key_condition_expression = "#h = :h";
  q.expression_attribute_names = {{"#h", "id"}};
  q.expression_attribute_values = item(R"({":h":{"S":"a"}})");
  auto qr = table->query(q);
  ASSERT_TRUE(qr.ok()) << qr.error().describe();
  ASSERT_EQ(qr->items.size(), 1u);
  EXPECT_EQ(qr->items[0].at("where").as_s(), "replica");
}

TEST_F(WriterStack, BadKeysFailBeforeWritingAnything) {
  auto table = open(nullptr);
  ASSERT_TRUE(table);
  auto st = table->put(item(R"({"other":{"S":"x"}})"));
  ASSERT_FALSE(st.ok());
  ASSERT_TRUE(st.error().write_error.has_value());
  EXPECT_EQ(st.error().write_error->kind, ErrorKind::kInvalidInput);
  EXPECT_NE(st.error().describe().find("\"id\""), std::string::npos) << st.error().describe();
  auto rm = table->remove(item(R"({"id":{"S":"a"},"extra":{"S":"x"}})"));
  ASSERT_FALSE(rm.ok());
  EXPECT_NE(rm.error().describe().find("not part of"), std::string::npos) << rm.error().describe();
  auto b = table->write_batch({{WriteRequest::Kind::kPut, item(R"({"id":{"S":"ok"}})")},
                               {WriteRequest::Kind::kPut, item(R"({"id":{"N":"1"}})")}});
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().describe().find("request 1"), std::string::npos) << b.error().describe();
  EXPECT_EQ(count_items(table_), 0);
}

// PutRecords answering 500 (through the fault proxy) after every retry: the write is on the
// table, the call says which keys have no record, and republishing once the stream answers
// again puts exactly those records (same event IDs) on the stream.
TEST_F(WriterStack, FailingPutRecordsGivesUnpublishedKeysAndRepublishHeals) {
  const std::string stream = make_stream(2);
  dynarep::testing::FaultProxy proxy(dynarep::testing::local_stack().kinesis);
  proxy.set_rules(R"({"rules":[{"match":{"target":"Kinesis_20131202.PutRecords"},"fault":"status","status":500}]})");
  auto publisher = std::make_shared<StreamPublisher>(kinesis_client(proxy.url()), fast_publisher(stream, 3));
  auto table = open(publisher);
  ASSERT_TRUE(table);

  auto st = table->put(item(R"({"id":{"S":"lost"},"n":{"N":"1"}})"));
  ASSERT_FALSE(st.ok());
  const WriteError& e = st.error();
  EXPECT_TRUE(e.unpublished_only());
  ASSERT_EQ(e.unpublished.size(), 1u);
  EXPECT_EQ(describe(e.unpublished[0]), R"(INSERT {"id":{"S":"lost"}})");
  ASSERT_TRUE(e.publish_error.has_value());
  EXPECT_NE(e.describe().find(stream), std::string::npos) << e.describe();
  EXPECT_EQ(e.written, 1);
  // 3 publisher attempts, each retried by the AWS layer (3 attempts).
  EXPECT_EQ(proxy.requests(kPutRecords), 9);
  auto on_primary = ddb_->get_item(table_, item(R"({"id":{"S":"lost"}})"));
  ASSERT_TRUE(on_primary.ok() && on_primary->has_value()) << "the write itself happened";

  std::vector<WriteRequest> reqs;
  for (int i = 0; i < 30; ++i) reqs.push_back({WriteRequest::Kind::kPut, item(id_item("b" + std::to_string(i), i))});
  auto b = table->write_batch(reqs);
  ASSERT_FALSE(b.ok());
  EXPECT_TRUE(b.error().unpublished_only());
  EXPECT_EQ(b.error().written, 30);
  ASSERT_EQ(b.error().unpublished.size(), 30u);
  EXPECT_EQ(count_items(table_), 31);
  EXPECT_TRUE(read_stream(*kin_, stream).empty());

  proxy.clear_rules();
  std::vector<Change> missing = e.unpublished;
  missing.insert(missing.end(), b.error().unpublished.begin(), b.error().unpublished.end());
  auto healed = publisher->republish(missing);
  EXPECT_TRUE(healed.ok()) << (healed.error ? healed.error->describe() : "");
  auto records = read_stream(*kin_, stream);
  ASSERT_EQ(records.size(), 31u);
  std::set<std::string> got_ids, want_ids;
  for (const auto& r : records) got_ids.insert(r.record.event_id);
  for (const auto& c : missing) want_ids.insert(c.event_id);
  EXPECT_EQ(got_ids, want_ids);
}

// The stream deleted under a running writer: ResourceNotFound is not retried; the error names
// the stream and the key. After the stream is created again, republishing delivers.
TEST_F(WriterStack, DeletedStreamGivesUnpublishedKeysAndRepublishHealsOnceBack) {
  const std::string stream = make_stream(1);
  auto publisher = std::make_shared<StreamPublisher>(kin_, fast_publisher(stream));
  auto table = open(publisher);
  ASSERT_TRUE(table);
  ASSERT_TRUE(table->put(item(R"({"id":{"S":"before"}})")).ok());
  ASSERT_TRUE(kin_->delete_stream(stream).ok());
  for (int i = 0; i < 100 && kin_->describe_stream_summary(stream).ok(); ++i) std::this_thread::sleep_for(20ms);

  auto st = table->remove(item(R"({"id":{"S":"before"}})"));
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.error().unpublished_only());
  ASSERT_EQ(st.error().unpublished.size(), 1u);
  EXPECT_EQ(describe(st.error().unpublished[0]), R"(REMOVE {"id":{"S":"before"}})");
  EXPECT_EQ(st.error().publish_error->kind, ErrorKind::kNotFound);
  EXPECT_NE(st.error().describe().find(stream), std::string::npos) << st.error().describe();
  auto gone = ddb_->get_item(table_, item(R"({"id":{"S":"before"}})"));
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value()) << "the delete itself happened";

  ASSERT_TRUE(kin_->create_stream(stream, 1).ok());
  auto healed = publisher->republish(st.error().unpublished);
  EXPECT_TRUE(healed.ok());
  auto records = read_stream(*kin_, stream);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].record.event, Event::kRemove);
  EXPECT_EQ(records[0].record.event_id, st.error().unpublished[0].event_id);
}

// BatchWriteItem failing part-way (after 3 calls) under 4 parallel workers: the error says
// exactly how many items were written, the table holds exactly that many, and each of them
// has its record on the stream.
TEST_F(WriterStack, FailedBatchWriteReportsExactlyWhatWasWrittenAndPublishesIt) {
  const std::string stream = make_stream(2);
  dynarep::testing::FaultProxy proxy(dynarep::testing::local_stack().dynamodb);
  proxy.set_rules(R"({"rules":[{"match":{"target":"DynamoDB_20120810.BatchWriteItem"},"fault":"error",)"
                  R"("status":400,"code":"ValidationException","message":"injected","after":3}]})");
  auto publisher = std::make_shared<StreamPublisher>(kin_, fast_publisher(stream));
  ReplicatedTableConfig c;
  c.write = {dynamo(proxy.url()), table_};
  c.publisher = publisher;
  c.key_schema = schema_;
  c.batch_parallel = 4;
  ReplicatedTable table(std::move(c), schema_);
  std::vector<WriteRequest> reqs;
  for (int i = 0; i < 400; ++i) reqs.push_back({WriteRequest::Kind::kPut, item(id_item("p" + std::to_string(i), i))});
  auto r = table.write_batch(reqs);
  ASSERT_FALSE(r.ok());
  ASSERT_TRUE(r.error().write_error.has_value());
  EXPECT_EQ(r.error().write_error->code, "ValidationException");
  EXPECT_NE(r.error().describe().find("BatchWriteItem of"), std::string::npos) << r.error().describe();
  EXPECT_TRUE(r.error().unpublished.empty());
  const int64_t written = r.error().written;
  EXPECT_GT(written, 0);
  EXPECT_LT(written, 400);
  EXPECT_EQ(count_items(table_), written);
  EXPECT_EQ(static_cast<int64_t>(read_stream(*kin_, stream).size()), written);
}

// Issue 10: a conditional update applied on the primary whose answer was lost. Its retry fails
// the condition; the write happened all the same, so the replica must hear of the key: the
// client reports the outcome as unknown (not as a failed condition) and publishes the key (a
// KEYS_ONLY record for a key that did not change is harmless: the replicator re-reads it).
TEST_F(WriterStack, ConditionalUpdateWhoseAnswerWasLostPublishesTheKey) {
  const std::string stream = make_stream(1);
  ASSERT_TRUE(ddb_->put_item(table_, item(id_item("c1", 1))).ok());
  dynarep::testing::FaultProxy proxy(dynarep::testing::local_stack().dynamodb);
  proxy.set_rules(R"({"rules":[{"match":{"target":"DynamoDB_20120810.UpdateItem"},"fault":"drop",)"
                  R"("forward":true,"count":1}]})");
  auto publisher = std::make_shared<StreamPublisher>(kin_, fast_publisher(stream));
  ReplicatedTableConfig c;
  c.write = {dynamo(proxy.url()), table_};
  c.publisher = publisher;
  c.key_schema = schema_;
  ReplicatedTable table(std::move(c), schema_);
  dynamodb::UpdateRequest req;
  req.key = item(R"({"id":{"S":"c1"}})");
  req.update_expression = "SET #n = :two";
  req.condition_expression = "#n = :one";
  req.expression_attribute_names = {{"#n", "n"}};
  req.expression_attribute_values = item(R"({":one":{"N":"1"},":two":{"N":"2"}})");
  auto r = table.update(req);
  ASSERT_FALSE(r.ok()) << "the retry cannot have passed the condition";
  ASSERT_TRUE(r.error().write_error.has_value()) << r.error().describe();
  EXPECT_EQ(r.error().write_error->kind, ErrorKind::kUnknownOutcome) << r.error().describe();
  EXPECT_TRUE(r.error().unpublished.empty()) << r.error().describe();
  auto stored = ddb_->get_item(table_, item(R"({"id":{"S":"c1"}})"));
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ(model::to_json((*stored)->at("n")), R"({"N":"2"})");  // the update did happen
  const auto records = read_stream(*kin_, stream);
  ASSERT_EQ(records.size(), 1u) << "the key of a write that happened was not published";
  EXPECT_EQ(records[0].record.event, stream::ChangeRecord::Event::kModify);
}

}  // namespace
}  // namespace dynarep::writer
