// The writer without servers: change lines, WriteError, and StreamPublisher over an in-memory
// Kinesis (fake_kinesis.h): batching limits, one record per key per call, per-entry retries
// that keep each key's order, giving up (and handing back) after max_attempts, errors no retry
// fixes, republishing the same records, and per-key order under many threads.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "fake_kinesis.h"
#include "model/codec.h"
#include "model/item.h"
#include "stream/record.h"
#include "writer/change.h"
#include "writer/publisher.h"
#include "writer/write_result.h"

namespace dynarep::writer {
namespace {

using namespace std::chrono_literals;
using testing::FakeKinesis;

model::Item key_s(const std::string& id) { return model::parse_item(R"({"id":{"S":")" + id + R"("}})").value(); }

Change change(const std::string& id, Event ev = Event::kInsert) { return make_change(key_s(id), ev, "us-east-1"); }

PublisherOptions fast(const std::string& stream = "s", Clock* clock = nullptr) {
  PublisherOptions o;
  o.stream = stream;
  o.base_backoff = 1ms;
  o.max_backoff = 4ms;
  o.clock = clock;
  return o;
}

// The records the fake stored, as (event name, key JSON) per partition key, in stored order.
std::map<std::string, std::vector<std::string>> by_key(const std::vector<FakeKinesis::Stored>& stored) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& s : stored) {
    auto rec = stream::parse_change_record(s.data);
    EXPECT_TRUE(rec.ok()) << s.data;
    if (!rec.ok()) continue;
    out[s.partition_key].push_back(std::string(stream::to_string(rec->event)) + " " + rec->event_id);
  }
  return out;
}

TEST(ChangeTest, LineRoundTripKeepsEventIdRegionAndKey) {
  Change c = make_change(model::parse_item(R"({"b":{"N":"1.50"},"a":{"S":"x"}})").value(), Event::kModify, "eu-west-1");
  EXPECT_EQ(c.event_id.size(), 32u);
  // Number key attributes are normalized, so one item always has one partition key.
  EXPECT_EQ(model::canonical_key_json(c.key), R"({"a":{"S":"x"},"b":{"N":"1.5"}})");
  EXPECT_EQ(record_partition_key(c), R"({"a":{"S":"x"},"b":{"N":"1.5"}})");
  EXPECT_EQ(describe(c), R"(MODIFY {"a":{"S":"x"},"b":{"N":"1.5"}})");
  std::string line = to_line(c);
  EXPECT_EQ(line, record_data(c));
  EXPECT_NE(line.find(R"("awsRegion":"eu-west-1")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("StreamViewType":"KEYS_ONLY")"), std::string::npos) << line;
  auto back = parse_change_line(line);
  ASSERT_TRUE(back.ok()) << back.error().describe();
  EXPECT_EQ(back->event, Event::kModify);
  EXPECT_EQ(back->event_id, c.event_id);
  EXPECT_EQ(back->aws_region, "eu-west-1");
  EXPECT_EQ(model::canonical_key_json(back->key), model::canonical_key_json(c.key));
  EXPECT_EQ(to_line(*back), line);  // republishing sends the very same bytes
}

TEST(ChangeTest, EachChangeGetsItsOwnEventId) {
  EXPECT_NE(change("a").event_id, change("a").event_id);
}

TEST(ChangeTest, BadLinesAreInvalidInput) {
  for (std::string bad : {"", "not json", "{}", R"({"eventName":"INSERT"})",
                          R"({"eventName":"UPSERT","dynamodb":{"Keys":{"id":{"S":"a"}}}})"}) {
    auto r = parse_change_line(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput) << bad;
  }
}

TEST(WriteErrorTest, DescribesBothHalves) {
  WriteError e;
  e.publish_error = Error(ErrorKind::kNotFound, "ResourceNotFoundException", "stream s not found");
  e.unpublished = {change("a"), change("b")};
  e.written = 2;
  EXPECT_TRUE(e.unpublished_only());
  EXPECT_EQ(e.error().code, "ResourceNotFoundException");
  EXPECT_NE(e.describe().find("2 written changes not published"), std::string::npos) << e.describe();
  e.write_error = Error(ErrorKind::kFatal, "X", "boom");
  EXPECT_FALSE(e.unpublished_only());
  EXPECT_EQ(e.error().code, "X");
  EXPECT_NE(e.describe().find("boom; 2 written"), std::string::npos) << e.describe();
}

TEST(PublisherTest, PublishesEveryRecordOnceWithItsPartitionKey) {
  FakeKinesis k;
  StreamPublisher p(k.client(), fast());
  std::vector<Change> cs{change("a"), change("b", Event::kModify), change("c", Event::kRemove)};
  auto out = p.publish(cs);
  EXPECT_TRUE(out.ok());
  auto stored = k.stored();
  ASSERT_EQ(stored.size(), 3u);
  std::set<std::string> seen;
  for (const auto& s : stored) {
    auto rec = stream::parse_change_record(s.data);
    ASSERT_TRUE(rec.ok());
    EXPECT_EQ(s.partition_key, stream::partition_key(rec->keys));
    seen.insert(s.data);
  }
  for (const auto& c : cs) EXPECT_TRUE(seen.contains(record_data(c))) << describe(c);
  EXPECT_EQ(p.stats().published, 3u);
  EXPECT_EQ(k.calls().size(), 1u);  // three keys fit one call
}

TEST(PublisherTest, CallsHoldAtMost500RecordsAnd5MiB) {
  FakeKinesis k;
  PublisherOptions o = fast();
  o.max_in_flight = 1;
  StreamPublisher p(k.client(), o);
  std::vector<Change> cs;
  for (int i = 0; i < 1201; ++i) cs.push_back(change("k" + std::to_string(i)));
  ASSERT_TRUE(p.publish(cs).ok());
  auto calls = k.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].partition_keys.size(), 500u);
  EXPECT_EQ(calls[1].partition_keys.size(), 500u);
  EXPECT_EQ(calls[2].partition_keys.size(), 201u);

  // Big keys (a 2,000-byte string key gives a ~2.3 KB record and a 64-character hashed
  // partition key): the 5 MiB limit splits before 500.
  FakeKinesis k2;
  PublisherOptions o2 = fast();
  o2.max_in_flight = 1;
  o2.max_batch_bytes = 100 * 1024;  // the same rule, at a size a test can reach
  StreamPublisher p2(k2.client(), o2);
  std::vector<Change> big;
  for (int i = 0; i < 200; ++i) big.push_back(change(std::string(2000, 'x') + std::to_string(i)));
  ASSERT_TRUE(p2.publish(big).ok());
  EXPECT_EQ(k2.stored().size(), 200u);
  for (const auto& c : k2.calls()) EXPECT_LE(c.bytes, 100u * 1024) << c.partition_keys.size();
  EXPECT_GT(k2.calls().size(), 4u);
}

TEST(PublisherTest, NeverTwoRecordsOfOneKeyInACall) {
  FakeKinesis k;
  StreamPublisher p(k.client(), fast());
  std::vector<Change> cs{change("a"), change("a", Event::kModify), change("b"), change("a", Event::kRemove)};
  ASSERT_TRUE(p.publish(cs).ok());
  for (const auto& c : k.calls()) {
    std::set<std::string> keys(c.partition_keys.begin(), c.partition_keys.end());
    EXPECT_EQ(keys.size(), c.partition_keys.size());
  }
  auto keyed = by_key(k.stored());
  ASSERT_EQ(keyed[R"({"id":{"S":"a"}})"].size(), 3u);
  EXPECT_EQ(keyed[R"({"id":{"S":"a"}})"][0], "INSERT " + cs[0].event_id);
  EXPECT_EQ(keyed[R"({"id":{"S":"a"}})"][1], "MODIFY " + cs[1].event_id);
  EXPECT_EQ(keyed[R"({"id":{"S":"a"}})"][2], "REMOVE " + cs[3].event_id);
}

TEST(PublisherTest, RefusedEntryIsResentBeforeTheKeysLaterRecords) {
  FakeKinesis k;
  // The first two sends of key a are refused (throttled); b always goes through.
  std::atomic<int> refused{0};
  k.refuse_entry = [&](int, const std::string& pk) -> std::optional<std::string> {
    if (pk == R"({"id":{"S":"a"}})" && refused < 2) {
      ++refused;
      return "ProvisionedThroughputExceededException";
    }
    return std::nullopt;
  };
  ManualClock clock;
  StreamPublisher p(k.client(), fast("s", &clock));
  std::vector<Change> cs{change("a"), change("b"), change("a", Event::kModify), change("a", Event::kRemove)};
  ASSERT_TRUE(p.publish(cs).ok());
  auto keyed = by_key(k.stored());
  const auto& a = keyed[R"({"id":{"S":"a"}})"];
  ASSERT_EQ(a.size(), 3u);  // exactly once each
  EXPECT_EQ(a[0], "INSERT " + cs[0].event_id);
  EXPECT_EQ(a[1], "MODIFY " + cs[2].event_id);
  EXPECT_EQ(a[2], "REMOVE " + cs[3].event_id);
  EXPECT_EQ(keyed[R"({"id":{"S":"b"}})"].size(), 1u);
  EXPECT_EQ(p.stats().resent, 2u);
  EXPECT_GT(clock.total_slept(), 0ns);  // backed off before re-sending
}

TEST(PublisherTest, GivesUpAfterMaxAttemptsAndHandsTheChangesBack) {
  FakeKinesis k;
  k.refuse_entry = [](int, const std::string& pk) -> std::optional<std::string> {
    if (pk == R"({"id":{"S":"b"}})" || pk == R"({"id":{"S":"d"}})") return "ProvisionedThroughputExceededException";
    return std::nullopt;
  };
  ManualClock clock;
  PublisherOptions o = fast("s", &clock);
  o.max_attempts = 3;
  StreamPublisher p(k.client(), o);
  std::vector<Change> cs{change("a"), change("b"), change("c", Event::kModify), change("d", Event::kRemove)};
  auto out = p.publish(cs);
  ASSERT_FALSE(out.ok());
  ASSERT_EQ(out.unpublished.size(), 2u);
  EXPECT_EQ(out.unpublished[0], cs[1]);  // in submission order, event IDs kept
  EXPECT_EQ(out.unpublished[1], cs[3]);
  ASSERT_TRUE(out.error.has_value());
  EXPECT_EQ(out.error->code, "ProvisionedThroughputExceededException");
  EXPECT_EQ(out.error->kind, ErrorKind::kThrottled);
  EXPECT_NE(out.error->describe().find("stream s"), std::string::npos) << out.error->describe();
  EXPECT_NE(out.error->describe().find("3 attempts"), std::string::npos) << out.error->describe();
  EXPECT_EQ(k.stored().size(), 2u);
  EXPECT_EQ(p.stats().unpublished, 2u);
  EXPECT_EQ(p.unpublished_count(), 2u);

  // Once the stream takes them, republishing sends the same records (same event IDs).
  k.refuse_entry = nullptr;
  auto again = p.republish(out.unpublished);
  EXPECT_TRUE(again.ok());
  auto stored = k.stored();
  ASSERT_EQ(stored.size(), 4u);
  std::set<std::string> data;
  for (const auto& s : stored) data.insert(s.data);
  for (const auto& c : cs) EXPECT_TRUE(data.contains(record_data(c))) << describe(c);
}

TEST(PublisherTest, ErrorsNoRetryFixesGiveUpAtOnce) {
  FakeKinesis k;
  k.fail_call = [](int) -> std::optional<Error> {
    return Error(ErrorKind::kNotFound, "ResourceNotFoundException", "Stream s under account 0 not found.");
  };
  StreamPublisher p(k.client(), fast());
  auto out = p.publish({change("a"), change("b")});
  ASSERT_EQ(out.unpublished.size(), 2u);
  EXPECT_EQ(out.error->kind, ErrorKind::kNotFound);
  EXPECT_EQ(k.calls().size(), 1u);  // not retried

  FakeKinesis k2;
  k2.refuse_entry = [](int, const std::string&) -> std::optional<std::string> { return "KMSAccessDeniedException"; };
  StreamPublisher p2(k2.client(), fast());
  auto out2 = p2.publish({change("a")});
  ASSERT_EQ(out2.unpublished.size(), 1u);
  EXPECT_EQ(out2.error->kind, ErrorKind::kAuth);
  EXPECT_EQ(k2.calls().size(), 1u);
}

TEST(PublisherTest, TransientCallFailuresAreRetriedThenSucceed) {
  FakeKinesis k;
  k.fail_call = [](int call) -> std::optional<Error> {
    if (call <= 2) return Error(ErrorKind::kTransient, "InternalFailure", "try again");
    return std::nullopt;
  };
  ManualClock clock;
  StreamPublisher p(k.client(), fast("s", &clock));
  auto out = p.publish({change("a"), change("b")});
  EXPECT_TRUE(out.ok());
  EXPECT_EQ(k.stored().size(), 2u);
  EXPECT_EQ(k.calls().size(), 3u);
}

TEST(PublisherTest, EmptyPublishIsDoneAtOnce) {
  FakeKinesis k;
  StreamPublisher p(k.client(), fast());
  auto t = p.submit({});
  EXPECT_TRUE(t->done());
  EXPECT_TRUE(t->wait().ok());
  p.flush();
  EXPECT_TRUE(k.calls().empty());
}

// Many threads, overlapping keys, random refusals: every record stored exactly once, and each
// thread's records of a key in the order it published them (keys are per thread, so "order"
// is well defined), with no call carrying one key twice.
TEST(PublisherTest, ManyThreadsKeepEveryKeysOrderUnderRandomRefusals) {
  FakeKinesis k;
  std::mutex rng_mu;
  std::mt19937 rng(7);
  k.refuse_entry = [&](int, const std::string&) -> std::optional<std::string> {
    std::lock_guard lock(rng_mu);
    if (std::uniform_int_distribution<int>(0, 9)(rng) == 0) return "ProvisionedThroughputExceededException";
    return std::nullopt;
  };
  PublisherOptions o = fast();
  o.max_attempts = 50;  // ten percent refusals: 50 attempts make giving up practically impossible
  o.max_pending = 300;  // small, so submitters block on the queue too
  StreamPublisher p(k.client(), o);
  constexpr int kThreads = 6, kPerThread = 400, kKeysPerThread = 7;
  std::vector<std::vector<Change>> sent(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::shared_ptr<StreamPublisher::Ticket>> tickets;
      for (int i = 0; i < kPerThread; ++i) {
        Change c = change("t" + std::to_string(t) + "-" + std::to_string(i % kKeysPerThread),
                          i % 3 == 0 ? Event::kInsert : Event::kModify);
        sent[t].push_back(c);
        if (i % 5 == 0) {
          ASSERT_TRUE(p.publish({c}).ok());
        } else {
          tickets.push_back(p.submit({c}));
        }
      }
      for (auto& tk : tickets) ASSERT_TRUE(tk->wait().ok());
    });
  }
  for (auto& th : threads) th.join();
  p.flush();
  auto stored = k.stored();
  EXPECT_EQ(stored.size(), static_cast<std::size_t>(kThreads * kPerThread));
  std::map<std::string, std::vector<std::string>> expected;
  for (const auto& per : sent) {
    for (const auto& c : per) expected[record_partition_key(c)].push_back(std::string(stream::to_string(c.event)) + " " + c.event_id);
  }
  EXPECT_EQ(by_key(stored), expected);
  for (const auto& c : k.calls()) {
    std::set<std::string> keys(c.partition_keys.begin(), c.partition_keys.end());
    EXPECT_EQ(keys.size(), c.partition_keys.size());
  }
  EXPECT_GT(p.stats().resent, 0u);
}

}  // namespace
}  // namespace dynarep::writer
