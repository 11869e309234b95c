// The Replicator in-process against dynalite (and s3rver for dead letters), some through the
// fault proxy: the KEYS_ONLY rule, duplicates and reordering, images, dead letters, throttling
// and 5xx, rejected writes, Lambda events.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <sstream>

#include "crypto/encoding.h"
#include "http/client.h"
#include "http/test_server.h"
#include "replicate/lambda.h"
#include "replicate/replicator.h"
#include "replicate/test_harness.h"
#include "s3/client.h"
#include "support/fault_proxy.h"

namespace dynarep::replicate {
namespace {

using namespace std::chrono_literals;
using repltest::ddb;
using repltest::item;
using repltest::key;
using repltest::keys_only;
using Event = stream::ChangeRecord::Event;

ChangeInput raw(const std::string& data, int seq) {
  return ChangeInput{"shardId-000000000000", std::to_string(seq), "pk", std::chrono::system_clock::now(), data,
                     stream::parse_change_record(data)};
}

std::string streams_record(const std::string& event, const std::string& id, const std::string& new_image = "") {
  std::string r = R"({"eventID":"e","eventName":")" + event +
                  R"(","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1","dynamodb":{)"
                  R"("ApproximateCreationDateTime":1700000000,"Keys":{"id":{"S":")" + id + R"("}})";
  if (!new_image.empty()) r += R"(,"NewImage":)" + new_image;
  r += R"(,"SequenceNumber":"1","SizeBytes":1,"StreamViewType":"NEW_IMAGE"},)"
       R"("eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/p/stream/2020"})";
  return r;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class ReplicatorStackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::local_stack();
    db_ = ddb();
    primary_ = res_.table(repltest::simple_schema(), "prim");
    replica_ = res_.table(repltest::simple_schema(), "repl");
  }
  ReplicatorOptions options(std::shared_ptr<dynamodb::Client> through = nullptr) {
    ReplicatorOptions o;
    o.primary = through ? through : db_;
    o.primary_table = primary_;
    o.replica = through ? through : db_;
    o.replica_table = replica_;
    o.key_schema = repltest::simple_schema();
    return o;
  }
  // Applies like the worker does: retries the whole batch until it succeeds.
  ApplyResult apply_until_ok(Replicator& r, const std::vector<ChangeInput>& in, int* failures = nullptr) {
    for (int attempt = 0; attempt < 50; ++attempt) {
      auto res = r.apply(in);
      if (res.ok()) return *res;
      EXPECT_TRUE(res.error().retryable()) << res.error().describe();
      if (failures) ++*failures;
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "batch never succeeded";
    return {};
  }
  // Puts items k0..k(n-1) on the primary; returns a KEYS_ONLY INSERT record for each.
  std::vector<ChangeInput> put_on_primary_with_keys_only_records(int n) {
    std::vector<ChangeInput> batch;
    std::vector<dynamodb::WriteRequest> puts;
    for (int i = 0; i < n; ++i) {
      puts.push_back({dynamodb::WriteRequest::Kind::kPut, item("k" + std::to_string(i), i)});
      batch.push_back(keys_only(key("k" + std::to_string(i)), Event::kInsert, i));
    }
    auto st = db_->batch_write_all(primary_, puts);
    EXPECT_TRUE(st.ok()) << st.error().describe();
    return batch;
  }
  std::string diff() { return repltest::diff_tables(repltest::scan_all(*db_, primary_), repltest::scan_all(*db_, replica_)); }

  repltest::Resources res_;
  std::shared_ptr<dynamodb::Client> db_;
  std::string primary_, replica_;
};

TEST_F(ReplicatorStackTest, CheckTablesComparesKeys) {
  auto ks = check_tables(db_.get(), primary_, *db_, replica_);
  ASSERT_TRUE(ks.ok()) << ks.error().describe();
  EXPECT_EQ(ks->hash_name, "id");
  auto other = res_.table(repltest::composite_schema(), "other");
  auto bad = check_tables(db_.get(), primary_, *db_, other);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().describe().find("different keys"), std::string::npos) << bad.error().describe();
  EXPECT_EQ(check_tables(db_.get(), "no-such-table-x", *db_, replica_).error().kind, ErrorKind::kNotFound);
}

TEST_F(ReplicatorStackTest, KeysOnlyRecordsCopyThePrimarysState) {
  ASSERT_TRUE(db_->put_item(primary_, item("a", 1)).ok());
  ASSERT_TRUE(db_->put_item(primary_, item("b", 2)).ok());
  ASSERT_TRUE(db_->put_item(replica_, item("gone", 1)).ok());  // deleted on the primary
  Replicator r(options());
  auto res = r.apply({keys_only(key("a"), Event::kInsert, 1), keys_only(key("b"), Event::kModify, 2),
                      keys_only(key("gone"), Event::kRemove, 3)});
  ASSERT_TRUE(res.ok()) << res.error().describe();
  EXPECT_EQ(res->puts, 2);
  EXPECT_EQ(res->deletes, 1);
  EXPECT_EQ(res->applied, 3);
  EXPECT_EQ(diff(), "");
}

// W1 reads v1 from the primary, then is paused (GC, VM freeze, SIGSTOP) past its lease; W2
// takes the shard, the primary moves to v2 and W2 writes v2 to the replica. When W1 resumes,
// its write of v1 must not go out: nothing would ever correct the replica again.
TEST_F(ReplicatorStackTest, AWorkerPausedPastItsLeaseDoesNotOverwriteTheNewOwner) {
  ASSERT_TRUE(db_->put_item(primary_, item("a", 1)).ok());
  std::atomic<bool> abandoned{false};
  std::atomic<int> asked{0};
  lease::ShardBatch batch;
  batch.shard_id = kinesis::ShardId("shardId-000000000000");
  batch.abandoned = &abandoned;
  batch.write_deadline = [&]() -> std::optional<std::chrono::steady_clock::time_point> {
    if (asked++ == 0) {
      // The pause: the lease runs out and the next owner does its work.
      EXPECT_TRUE(db_->put_item(primary_, item("a", 2)).ok());
      Replicator w2(options());
      EXPECT_TRUE(w2.apply({keys_only(key("a"), Event::kModify, 2)}).ok());
    }
    return std::chrono::steady_clock::now() - 1ms;  // the lease's write deadline has passed
  };
  Replicator w1(options());
  auto res = w1.apply({keys_only(key("a"), Event::kModify, 1)}, &batch);
  ASSERT_FALSE(res.ok()) << "a write past the lease's deadline must be refused";
  EXPECT_EQ(res.error().kind, ErrorKind::kCancelled) << res.error().describe();
  EXPECT_GE(asked.load(), 1);
  auto got = db_->get_item(replica_, key("a"), true);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((**got).find("v")->as_n().text(), "2") << "the replica went back to the paused worker's v1";
  EXPECT_EQ(diff(), "");
  // A lease already lost (no deadline at all) writes nothing either, and is not dead-lettered.
  batch.write_deadline = [] { return std::optional<std::chrono::steady_clock::time_point>(); };
  ASSERT_TRUE(db_->put_item(primary_, item("b", 1)).ok());
  auto lost = w1.apply({keys_only(key("b"), Event::kInsert, 3)}, &batch);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(w1.metrics().dead_lettered.load(), 0);
  EXPECT_FALSE(db_->get_item(replica_, key("b"), true)->has_value());
}

// A Kinesis Data Streams for DynamoDB record, with its creation time in microseconds.
std::string kds_record(const std::string& table, const std::string& event, const std::string& id, int version,
                       int64_t created_us) {
  std::string r = R"({"awsRegion":"us-east-1","eventID":"e","eventName":")" + event +
                  R"(","recordFormat":"application/json","tableName":")" + table +
                  R"(","dynamodb":{"ApproximateCreationDateTime":)" + std::to_string(created_us) +
                  R"(,"Keys":{"id":{"S":")" + id + R"("}})";
  if (event != "REMOVE") {
    r += R"(,"NewImage":{"id":{"S":")" + id + R"("},"v":{"N":")" + std::to_string(version) + R"("}})";
  }
  return r + R"(,"SizeBytes":10},"eventSource":"aws:dynamodb"})";
}

// AWS: Kinesis Data Streams for DynamoDB records may arrive out of order and more than once.
// Applied in arrival order, an older image that arrives later overwrites the newer one, and a
// duplicated INSERT after the REMOVE resurrects a deleted item, in the same batch or a later
// one. With a primary to read, the replica ends at the primary's state whatever the order.
TEST_F(ReplicatorStackTest, LateAndDuplicatedKinesisForDynamoDbRecordsNeverRegressTheReplica) {
  ASSERT_TRUE(db_->put_item(primary_, item("a", 2)).ok());  // a: v1 then v2; b: inserted, then removed
  const int64_t t = 1'700'000'000'000'000;
  Replicator r(options());
  // Batch 1 (arrival order): a v2, b INSERT, b REMOVE.
  auto b1 = r.apply({raw(kds_record(primary_, "MODIFY", "a", 2, t + 2), 1), raw(kds_record(primary_, "INSERT", "b", 1, t + 1), 2),
                     raw(kds_record(primary_, "REMOVE", "b", 0, t + 3), 3)});
  ASSERT_TRUE(b1.ok()) << b1.error().describe();
  // Batch 2: late and duplicated: a's older v1 and b's INSERT again.
  auto b2 = r.apply({raw(kds_record(primary_, "MODIFY", "a", 1, t + 1), 4), raw(kds_record(primary_, "INSERT", "b", 1, t + 1), 5)});
  ASSERT_TRUE(b2.ok()) << b2.error().describe();
  EXPECT_EQ(r.metrics().dead_lettered.load(), 0);
  EXPECT_EQ(diff(), "") << "a late image or a duplicated INSERT changed the replica";
  auto a = db_->get_item(replica_, key("a"), true);
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ((**a).find("v")->as_n().text(), "2");
  EXPECT_FALSE(db_->get_item(replica_, key("b"), true)->has_value()) << "b came back from the dead";
}

// Without a primary to read, the newest image in a batch wins, not the last to arrive.
TEST_F(ReplicatorStackTest, WithoutAPrimaryTheNewestKinesisForDynamoDbImageInABatchWins) {
  auto o = options();
  o.primary = nullptr;
  Replicator r(o);
  const int64_t t = 1'700'000'000'000'000;
  auto res = r.apply({raw(kds_record(primary_, "MODIFY", "a", 2, t + 2), 1), raw(kds_record(primary_, "MODIFY", "a", 1, t + 1), 2)});
  ASSERT_TRUE(res.ok()) << res.error().describe();
  auto a = db_->get_item(replica_, key("a"), true);
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ((**a).find("v")->as_n().text(), "2");
}

TEST_F(ReplicatorStackTest, DuplicatesReorderingAndReplaysLeaveTheReplicaRight) {
  // Final primary state: a=v3, b absent, c=v1.
  ASSERT_TRUE(db_->put_item(primary_, item("a", 3)).ok());
  ASSERT_TRUE(db_->put_item(primary_, item("c", 1)).ok());
  ASSERT_TRUE(db_->put_item(replica_, item("b", 9)).ok());
  Replicator r(options());
  // Records in odd orders: a REMOVE last for a key that exists; duplicates; an INSERT for b, which
  // is gone. KEYS_ONLY means "look at the primary", so none of that matters.
  std::vector<ChangeInput> batch{keys_only(key("a"), Event::kInsert, 1), keys_only(key("b"), Event::kInsert, 2),
                                 keys_only(key("a"), Event::kModify, 3), keys_only(key("c"), Event::kInsert, 4),
                                 keys_only(key("a"), Event::kRemove, 5), keys_only(key("c"), Event::kInsert, 6)};
  auto res = r.apply(batch);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->superseded, 3);
  EXPECT_EQ(res->puts + res->deletes, 3) << "one write per distinct key";
  EXPECT_EQ(diff(), "");
  // The same batch again (a retry after a crash), and an older batch after a newer one.
  ASSERT_TRUE(r.apply(batch).ok());
  std::vector<ChangeInput> reversed(batch.rbegin(), batch.rend());
  ASSERT_TRUE(r.apply(reversed).ok());
  EXPECT_EQ(diff(), "");
}

TEST_F(ReplicatorStackTest, ImagesApplyWithoutAPrimary) {
  auto o = options();
  o.primary = nullptr;
  ASSERT_TRUE(db_->put_item(replica_, item("x", 1)).ok());
  Replicator r(o);
  auto res = r.apply({raw(streams_record("INSERT", "a", R"({"id":{"S":"a"},"n":{"N":"1"}})"), 1),
                      raw(streams_record("MODIFY", "a", R"({"id":{"S":"a"},"n":{"N":"2"}})"), 2),
                      raw(streams_record("REMOVE", "x"), 3)});
  ASSERT_TRUE(res.ok()) << res.error().describe();
  auto rep = repltest::scan_all(*db_, replica_);
  ASSERT_EQ(rep.size(), 1u);
  EXPECT_EQ(model::to_json(rep.begin()->second), R"({"id":{"S":"a"},"n":{"N":"2"}})");
}

TEST_F(ReplicatorStackTest, RereadTrustsThePrimaryOverImages) {
  ASSERT_TRUE(db_->put_item(primary_, item("a", 7)).ok());
  auto o = options();
  o.reread = true;
  Replicator r(o);
  ASSERT_TRUE(r.apply({raw(streams_record("INSERT", "a", R"({"id":{"S":"a"},"stale":{"BOOL":true}})"), 1)}).ok());
  EXPECT_EQ(diff(), "");
}

TEST_F(ReplicatorStackTest, BadRecordsAreDeadLetteredAndTheRestApplied) {
  std::string dir = std::filesystem::temp_directory_path() / testing::unique_name("dl");
  auto sink = FileDeadLetterSink::open(dir);
  ASSERT_TRUE(sink.ok());
  auto o = options();
  o.dead_letters = std::shared_ptr<DeadLetterSink>(std::move(sink).value());
  ASSERT_TRUE(db_->put_item(primary_, item("a", 1)).ok());
  ASSERT_TRUE(db_->put_item(primary_, item("b", 1)).ok());
  Replicator r(o);
  auto res = r.apply({keys_only(key("a"), Event::kInsert, 1), raw("{this is not json", 2),
                      raw(R"({"eventName":"INSERT","dynamodb":{"Keys":{"wrong":{"S":"x"}},"StreamViewType":"KEYS_ONLY"}})", 3),
                      keys_only(key("b"), Event::kInsert, 4)});
  ASSERT_TRUE(res.ok()) << res.error().describe();
  EXPECT_EQ(res->dead_lettered, 2);
  EXPECT_EQ(res->applied, 2);
  EXPECT_EQ(diff(), "");
  std::string text = slurp(dir + "/shardId-000000000000.jsonl");
  EXPECT_NE(text.find(R"("sequenceNumber":"2")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("data":"{this is not json")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("sequenceNumber":"3")"), std::string::npos) << text;
  EXPECT_NE(text.find("key schema mismatch"), std::string::npos) << text;
  EXPECT_EQ(r.metrics().dead_lettered.load(), 2);
  std::filesystem::remove_all(dir);
}

TEST_F(ReplicatorStackTest, ThrottlingAnd5xxAreRetriedNeverDeadLettered) {
  testing::FaultProxy proxy(testing::local_stack().dynamodb);
  auto through = ddb(proxy.url());
  auto batch = put_on_primary_with_keys_only_records(260);
  proxy.set_rules(R"({"seed":3,"rules":[
    {"match":{"target":"DynamoDB_20120810.BatchGetItem"},"fault":"throttle","probability":0.5},
    {"match":{"target":"DynamoDB_20120810.BatchWriteItem"},"fault":"status","status":500,"probability":0.3},
    {"match":{"target":"DynamoDB_20120810.BatchWriteItem"},"fault":"throttle","probability":0.3},
    {"match":{"target":"DynamoDB_20120810.BatchWriteItem"},"fault":"drop","forward":true,"probability":0.1}]})");
  auto o = options(through);
  std::string dir = std::filesystem::temp_directory_path() / testing::unique_name("dl");
  o.dead_letters = std::shared_ptr<DeadLetterSink>(std::move(FileDeadLetterSink::open(dir)).value());
  Replicator r(o);
  int failures = 0;
  auto res = apply_until_ok(r, batch, &failures);
  EXPECT_EQ(res.dead_lettered, 0);
  EXPECT_EQ(res.puts, 260);
  EXPECT_GT(proxy.faults_injected(), 0);
  EXPECT_GT(through->aws().stats().throttles(), 0u);
  EXPECT_EQ(diff(), "");
  EXPECT_FALSE(std::filesystem::exists(dir + "/shardId-000000000000.jsonl"));
  // A service that keeps failing: an error to retry, still no dead letter.
  proxy.set_rules(R"({"rules":[{"match":{"target":"DynamoDB_20120810.BatchGetItem"},"fault":"status","status":503}]})");
  auto failed = r.apply(batch);
  ASSERT_FALSE(failed.ok());
  EXPECT_TRUE(failed.error().retryable()) << failed.error().describe();
  EXPECT_FALSE(std::filesystem::exists(dir + "/shardId-000000000000.jsonl"));
  std::filesystem::remove_all(dir);
}

// A batch goes out in segments (one BatchGetItem of up to 100 keys, then that segment's
// writes), `parallel` at a time, so one slow read holds back only its own segment's writes.
// When every read of a batch had to finish before its first write, the replica stayed empty
// until the slowest read came back, and the servers saw bursts and lulls instead of a steady
// flow (catch-up ran at 77-91% of a plain read-then-write loop's rate).
TEST_F(ReplicatorStackTest, OneSlowReadHoldsBackOnlyItsOwnSegmentsWrites) {
  testing::FaultProxy proxy(testing::local_stack().dynamodb);
  auto through = ddb(proxy.url());
  auto batch = put_on_primary_with_keys_only_records(400);
  proxy.set_rules(
      R"({"rules":[{"match":{"target":"DynamoDB_20120810.BatchGetItem"},"fault":"delay","ms":6000,"count":1}]})");
  auto o = options(through);
  o.parallel = 2;
  Replicator r(o);
  const auto held_until = std::chrono::steady_clock::now() + 5s;  // the held read answers after 6 s
  auto pending = std::async(std::launch::async, [&] { return r.apply(batch); });
  size_t written_while_held = 0;
  while (std::chrono::steady_clock::now() < held_until && pending.wait_for(50ms) != std::future_status::ready) {
    written_while_held = repltest::scan_all(*db_, replica_).size();
    if (written_while_held == 300) break;
  }
  EXPECT_EQ(written_while_held, 300u) << "the three segments whose reads were not held should be on the replica "
                                         "while the fourth's read is";
  auto res = pending.get();
  ASSERT_TRUE(res.ok()) << res.error().describe();
  EXPECT_EQ(res->puts, 400);
  EXPECT_EQ(proxy.requests("DynamoDB_20120810.BatchGetItem"), 4);
  EXPECT_EQ(diff(), "");
}

TEST_F(ReplicatorStackTest, AWriteTheReplicaRejectsIsDeadLetteredAlone) {
  testing::FaultProxy proxy(testing::local_stack().dynamodb);
  auto through = ddb(proxy.url());
  std::vector<ChangeInput> batch;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(db_->put_item(primary_, item("k" + std::to_string(i), i)).ok());
    batch.push_back(keys_only(key("k" + std::to_string(i)), Event::kInsert, i));
  }
  // The batch call is refused as a whole; of the single writes, the third is refused.
  proxy.set_rules(R"({"rules":[
    {"match":{"target":"DynamoDB_20120810.BatchWriteItem"},"fault":"error","status":400,"code":"ValidationException","message":"Item size has exceeded the maximum allowed size"},
    {"match":{"target":"DynamoDB_20120810.PutItem"},"fault":"error","status":400,"code":"ValidationException","message":"Item size has exceeded the maximum allowed size","after":2,"count":1}]})");
  auto o = options(through);
  Replicator r(o);
  auto res = r.apply(batch);
  ASSERT_TRUE(res.ok()) << res.error().describe();
  EXPECT_EQ(res->dead_lettered, 1);
  EXPECT_EQ(res->puts, 4);
  EXPECT_EQ(repltest::scan_all(*db_, replica_).size(), 4u);
}

// Issue 10: a 4xx that does not come from DynamoDB's own validation (a proxy or load balancer
// in front of the replica: 413 or 431 with an HTML page, a 400 with no AWS error code) says
// nothing about the record. The batch must fail as retryable, with no dead letter, and the
// record must be applied once the intermediary behaves again. The replica is reached through
// a TestHttpServer that answers with the fault while `fault` is set and forwards to dynalite
// otherwise.
TEST_F(ReplicatorStackTest, IntermediaryFourHundredsAreRetriedNeverDeadLettered) {
  const std::string upstream = testing::local_stack().dynamodb;
  std::mutex mu;
  std::optional<testing::CannedResponse> fault;
  testing::TestHttpServer front([&](const testing::RecordedRequest& req) {
    {
      std::lock_guard lock(mu);
      if (fault) return *fault;
    }
    return testing::forward(upstream, req);
  });
  ASSERT_TRUE(db_->put_item(primary_, item("via-proxy", 7)).ok());
  std::string dir = std::filesystem::temp_directory_path() / testing::unique_name("dl");
  auto o = options();
  o.replica = ddb(front.url());
  o.dead_letters = std::shared_ptr<DeadLetterSink>(std::move(FileDeadLetterSink::open(dir)).value());
  Replicator r(o);
  const std::vector<ChangeInput> batch = {keys_only(key("via-proxy"), Event::kInsert, 1)};
  const std::string html = "<html><head><title>Error</title></head><body>proxy says no</body></html>";
  for (int status : {413, 431, 400}) {
    SCOPED_TRACE(status);
    {
      std::lock_guard lock(mu);
      fault = testing::CannedResponse{status, {{"Content-Type", "text/html"}}, html};
    }
    auto res = r.apply(batch);
    ASSERT_FALSE(res.ok()) << "a batch whose replica write was refused by an intermediary succeeded";
    EXPECT_TRUE(res.error().retryable()) << res.error().describe();
    EXPECT_FALSE(std::filesystem::exists(dir + "/shardId-000000000000.jsonl")) << "dead-lettered on HTTP " << status;
    EXPECT_EQ(r.metrics().dead_lettered.load(), 0);
  }
  {
    std::lock_guard lock(mu);
    fault.reset();
  }
  auto res = r.apply(batch);
  ASSERT_TRUE(res.ok()) << res.error().describe();
  EXPECT_EQ(res->puts, 1);
  EXPECT_EQ(res->dead_lettered, 0);
  EXPECT_EQ(diff(), "");
  std::filesystem::remove_all(dir);
}

TEST_F(ReplicatorStackTest, DeadLettersToS3) {
  const auto& stack = testing::local_stack();
  auto s3c = std::make_shared<s3::Client>(s3::Client::connect("us-east-1", stack.s3));
  std::string bucket = testing::unique_name("dl");
  ASSERT_TRUE(s3c->create_bucket(bucket).ok());
  auto o = options();
  o.dead_letters = std::make_shared<S3DeadLetterSink>(s3c, bucket, "replica/dead");
  Replicator r(o);
  auto res = r.apply({raw("garbage", 42)});
  ASSERT_TRUE(res.ok()) << res.error().describe();
  EXPECT_EQ(res->dead_lettered, 1);
  s3::ListObjectsRequest lr;
  lr.prefix = "replica/dead/shardId-000000000000/42-";
  auto page = s3c->list_objects(bucket, lr);
  ASSERT_TRUE(page.ok()) << page.error().describe();
  ASSERT_EQ(page->objects.size(), 1u);
  auto body = s3c->get_object(bucket, page->objects[0].key);
  ASSERT_TRUE(body.ok());
  EXPECT_NE(body->body.find(R"("data":"garbage")"), std::string::npos) << body->body;
}

TEST_F(ReplicatorStackTest, LambdaKinesisEvent) {
  ASSERT_TRUE(db_->put_item(primary_, item("a", 1)).ok());
  auto rec = [](const std::string& data, int seq) {
    return R"({"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"pk","sequenceNumber":")" + std::to_string(seq) +
           R"(","data":")" + crypto::base64_encode(data) +
           R"(","approximateArrivalTimestamp":1700000000.5},"eventSource":"aws:kinesis","eventVersion":"1.0",)"
           R"("eventID":"shardId-000000000003:)" + std::to_string(seq) +
           R"(","eventName":"aws:kinesis:record","awsRegion":"us-east-1","eventSourceARN":"arn:aws:kinesis:us-east-1:1:stream/s"})";
  };
  std::string event = R"({"Records":[)" + rec(stream::make_keys_only_record(key("a"), Event::kInsert, "us-east-1"), 1) +
                      "," + rec("not json at all", 2) + "]}";
  Replicator r(options());
  auto res = apply_lambda_event(r, event, SystemClock::instance());
  ASSERT_TRUE(res.ok()) << res.error().describe();
  EXPECT_EQ(res->applied, 1);
  EXPECT_EQ(res->dead_lettered, 1);
  EXPECT_EQ(diff(), "");
  EXPECT_EQ(apply_result_json(*res),
            R"({"received":2,"applied":1,"superseded":0,"skipped":0,"deadLettered":1,"puts":1,"deletes":0})");
  EXPECT_FALSE(apply_lambda_event(r, R"({"NotRecords":[]})", SystemClock::instance()).ok());
}

}  // namespace
}  // namespace dynarep::replicate
