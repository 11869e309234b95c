// lease::Worker over a DynamoDB stream (the in-process fake, which follows the API reference)
// and an in-memory lease store: what a DynamoDB stream does that a Kinesis stream does not.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "ddbstreams/client.h"
#include "lease/memory_lease_store.h"
#include "lease/shard_source.h"
#include "lease/worker.h"
#include "support/aws_clients.h"
#include "support/fake_ddb_streams.h"

namespace dynarep::lease {
namespace {

using namespace std::chrono_literals;

// One store shared by successive workers (a worker owns its store: this forwards to it).
class SharedStore final : public LeaseStore {
 public:
  explicit SharedStore(std::shared_ptr<InMemoryLeaseStore> s) : s_(std::move(s)) {}
  Status ensure_table() override { return s_->ensure_table(); }
  Result<std::vector<Lease>> list() override { return s_->list(); }
  Result<std::optional<Lease>> get(const std::string& key) override { return s_->get(key); }
  Result<bool> create(const Lease& lease) override { return s_->create(lease); }
  Result<bool> renew(Lease& lease) override { return s_->renew(lease); }
  Result<bool> take(Lease& lease, const std::string& owner, const std::string& token) override {
    return s_->take(lease, owner, token);
  }
  Result<bool> evict(Lease& lease) override { return s_->evict(lease); }
  Result<bool> checkpoint(Lease& lease, const std::string& value, std::optional<int64_t> ts) override {
    return s_->checkpoint(lease, value, ts);
  }

 private:
  std::shared_ptr<InMemoryLeaseStore> s_;
};

// Remembers every record processed, in processing order.
class Collect final : public RecordProcessor {
 public:
  Status process(const ShardBatch& b) override {
    std::lock_guard lock(mu_);
    for (const auto& r : b.records) seen_.push_back({b.shard_id.str(), r.sequence_number.str()});
    return {};
  }
  std::vector<std::pair<std::string, std::string>> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }
  size_t count() { return seen().size(); }

 private:
  std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> seen_;
};

class DdbStreamsWorkerTest : public ::testing::Test {
 protected:
  Config config(const std::string& arn, const std::string& id = "w1") {
    Config c;
    c.stream = arn;
    c.lease_table = default_stream_lease_table(arn);
    c.worker_id = id;
    c.lease_duration = 2s;
    c.shard_sync_interval = 200ms;
    c.idle_poll = 20ms;
    c.min_get_records_interval = 5ms;
    c.retry_base = 5ms;
    c.retry_max = 50ms;
    c.shutdown_timeout = 2s;
    return c;
  }
  // Runs a worker on `arn` until `done` holds (or 15 s), then stops it gracefully.
  Status run_until(const Config& cfg, const std::string& arn, const std::function<bool()>& done,
                   const std::function<void()>& meanwhile = {}, WorkerStats* stats = nullptr) {
    return run_until(cfg, dynamodb_streams_source(client_, arn), collect_, done, meanwhile, stats);
  }
  // The same over any source and processor.
  Status run_until(const Config& cfg, std::unique_ptr<ShardSource> source, RecordProcessor& processor,
                   const std::function<bool()>& done, const std::function<void()>& meanwhile = {},
                   WorkerStats* stats = nullptr) {
    Worker w(cfg, std::move(source), std::make_unique<SharedStore>(store_), processor, SystemClock::instance());
    std::atomic<bool> stop{false};
    Status st;
    std::thread t([&] { st = w.run(stop); });
    if (meanwhile) meanwhile();
    auto end = std::chrono::steady_clock::now() + 15s;
    while (!done() && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(10ms);
    stop.store(true);
    t.join();
    if (stats != nullptr) *stats = w.stats();
    return st;
  }
  bool seen_once_each(const std::vector<std::string>& seqs) {
    std::multiset<std::string> got;
    for (const auto& [shard, seq] : collect_.seen()) got.insert(seq);
    for (const auto& s : seqs) {
      if (got.count(s) != 1) return false;
    }
    return got.size() == seqs.size();
  }
  size_t position(const std::string& seq) {
    auto seen = collect_.seen();
    for (size_t i = 0; i < seen.size(); ++i) {
      if (seen[i].second == seq) return i;
    }
    return SIZE_MAX;
  }

  testing::FakeDynamoDbStreams fake_;
  ddbstreams::Client client_{testing::make_aws(aws::Service::kDynamoDBStreams, fake_.url(), testing::fast_policy(2))};
  std::shared_ptr<InMemoryLeaseStore> store_ = std::make_shared<InMemoryLeaseStore>();
  Collect collect_;
};

// Rollover: the grandparent is already trimmed from DescribeStream, the parent is closed, the
// child is open and rolls over again while the worker runs. Parents finish before children;
// every record exactly once.
TEST_F(DdbStreamsWorkerTest, RolloverWithClosedParentAndTrimmedGrandparent) {
  const std::string arn = fake_.add_stream("orders", "2026-12-03T10:00:00.000");
  fake_.add_shard(arn, "shardId-parent", "shardId-grandparent");  // grandparent: gone (24 h)
  std::vector<std::string> seqs;
  for (int i = 0; i < 5; ++i) seqs.push_back(fake_.put(arn, "shardId-parent", "MODIFY", "k", i));
  fake_.close_shard(arn, "shardId-parent");
  fake_.add_shard(arn, "shardId-child", "shardId-parent");
  for (int i = 5; i < 10; ++i) seqs.push_back(fake_.put(arn, "shardId-child", "MODIFY", "k", i));
  WorkerStats stats;
  Status st = run_until(
      config(arn), arn, [&] { return collect_.count() >= 15 && store_->peek("shardId-child").has_value() &&
                                     store_->peek("shardId-child")->finished(); },
      [&] {
        // The child rolls over too (about every 4 hours on AWS): closed, a grandchild opens.
        std::this_thread::sleep_for(300ms);
        for (int i = 10; i < 12; ++i) seqs.push_back(fake_.put(arn, "shardId-child", "MODIFY", "k", i));
        fake_.close_shard(arn, "shardId-child");
        fake_.add_shard(arn, "shardId-grandchild", "shardId-child");
        for (int i = 12; i < 15; ++i) seqs.push_back(fake_.put(arn, "shardId-grandchild", "MODIFY", "k", i));
      },
      &stats);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_TRUE(seen_once_each(seqs)) << collect_.count() << " records seen";
  // In order: every parent record before every child record, and so on down.
  for (size_t i = 1; i < seqs.size(); ++i) EXPECT_LT(position(seqs[i - 1]), position(seqs[i])) << i;
  EXPECT_TRUE(store_->peek("shardId-parent")->finished());
  EXPECT_EQ(store_->peek("shardId-child")->parent_shard_ids, std::vector<std::string>{"shardId-parent"});
  EXPECT_EQ(store_->peek("shardId-child")->stream, arn);
  EXPECT_GE(stats.shards_finished, 2);
}

// Iterators expire after 15 minutes: the worker gets a new one after the last record processed
// and goes on, with nothing lost and nothing twice.
TEST_F(DdbStreamsWorkerTest, ExpiredIteratorIsRenewedWithoutLossOrRepeat) {
  const std::string arn = fake_.add_stream("orders", "L1");
  fake_.add_shard(arn, "s1");
  std::vector<std::string> seqs;
  for (int i = 0; i < 3; ++i) seqs.push_back(fake_.put(arn, "s1", "INSERT", "k" + std::to_string(i), i));
  WorkerStats stats;
  Status st = run_until(
      config(arn), arn, [&] { return collect_.count() >= 6; },
      [&] {
        while (collect_.count() < 3) std::this_thread::sleep_for(5ms);
        fake_.expire_iterators();
        std::this_thread::sleep_for(100ms);
        for (int i = 3; i < 6; ++i) seqs.push_back(fake_.put(arn, "s1", "INSERT", "k" + std::to_string(i), i));
      },
      &stats);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_TRUE(seen_once_each(seqs));
  EXPECT_GE(stats.iterators_expired, 1);
  EXPECT_GE(fake_.errors("ExpiredIteratorException"), 1);
}

// A checkpoint older than the retention: TrimmedDataAccessException. Counted, and the shard
// goes on from TRIM_HORIZON (what was trimmed is lost: diff-tables --repair heals it).
TEST_F(DdbStreamsWorkerTest, TrimmedCheckpointGoesOnFromTrimHorizon) {
  const std::string arn = fake_.add_stream("orders", "L1");
  fake_.add_shard(arn, "s1");
  std::vector<std::string> seqs;
  for (int i = 0; i < 6; ++i) seqs.push_back(fake_.put(arn, "s1", "INSERT", "k" + std::to_string(i), i));
  Lease l;
  l.key = "s1";
  l.stream = arn;
  l.checkpoint = seqs[1];  // processed up to the second record, then nothing for > 24 h
  store_->put_raw(l);
  fake_.trim(arn, "s1", 4);  // records 0..3 are gone
  WorkerStats stats;
  Status st = run_until(config(arn), arn, [&] { return collect_.count() >= 2; }, {}, &stats);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_TRUE(seen_once_each({seqs[4], seqs[5]}));
  EXPECT_EQ(stats.trimmed_data, 1);
  EXPECT_EQ(store_->peek("s1")->checkpoint, seqs[5]);
}

// The same while reading: the iterator in hand points at records trimmed before it got to them.
TEST_F(DdbStreamsWorkerTest, TrimmedWhileReadingGoesOnFromTrimHorizon) {
  const std::string arn = fake_.add_stream("orders", "L1");
  fake_.add_shard(arn, "s1");
  const std::string first = fake_.put(arn, "s1", "INSERT", "a", 1);
  std::string later;
  WorkerStats stats;
  Status st = run_until(
      config(arn), arn, [&] { return !later.empty() && position(later) != SIZE_MAX; },
      [&] {
        while (collect_.count() < 1) std::this_thread::sleep_for(5ms);
        fake_.lose(arn, "s1", 3);
        std::this_thread::sleep_for(200ms);
        later = fake_.put(arn, "s1", "INSERT", "b", 1);
      },
      &stats);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(stats.trimmed_data, 1);
  EXPECT_EQ(collect_.count(), 2u);  // the first record and the one after the loss
  EXPECT_EQ(collect_.seen().front().second, first);
  EXPECT_GE(fake_.errors("TrimmedDataAccessException"), 1);
}

// A stream disabled and enabled again has a new ARN: its shards never mix with the old
// stream's leases. The default lease table differs; a shared one is refused, naming both.
TEST_F(DdbStreamsWorkerTest, ReEnabledStreamNeverMixesWithTheOldOnesLeases) {
  const std::string old_arn = fake_.add_stream("orders", "2026-12-01T00:00:00.000");
  fake_.add_shard(old_arn, "shardId-1");
  const std::string s = fake_.put(old_arn, "shardId-1", "INSERT", "a", 1);
  ASSERT_TRUE(run_until(config(old_arn), old_arn, [&] { return collect_.count() >= 1; }).ok());

  const std::string new_arn = fake_.add_stream("orders", "2026-12-03T00:00:00.000");
  fake_.add_shard(new_arn, "shardId-1");  // the same shard id, another stream
  fake_.put(new_arn, "shardId-1", "INSERT", "a", 2);
  EXPECT_NE(default_stream_lease_table(old_arn), default_stream_lease_table(new_arn));
  EXPECT_EQ(default_stream_lease_table(new_arn), "dynarep-leases-orders-2026-12-03T00-00-00.000");
  Worker w(config(new_arn), dynamodb_streams_source(client_, new_arn), std::make_unique<SharedStore>(store_),
           collect_, SystemClock::instance());
  std::atomic<bool> stop{false};
  Status st = w.run(stop);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "LeaseTableOfAnotherStream");
  EXPECT_NE(st.error().message.find(old_arn), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find(new_arn), std::string::npos);
  EXPECT_EQ(collect_.count(), 1u);  // nothing of the new stream read into the old one's leases
  EXPECT_EQ(store_->peek("shardId-1")->checkpoint, s);
}

// --start-at LATEST has no iterator type to pin it on this API (no AT_TIMESTAMP): the lease
// keeps its creation time, and every owner reads from TRIM_HORIZON skipping what was created
// before it. A handover before the first record must not skip what was written in between.
TEST_F(DdbStreamsWorkerTest, LatestIsPinnedAcrossAHandover) {
  const std::string arn = fake_.add_stream("orders", "L1");
  fake_.add_shard(arn, "s1");
  const auto before = std::chrono::system_clock::now() - 10s;
  fake_.put(arn, "s1", "INSERT", "old1", 1, before);
  fake_.put(arn, "s1", "INSERT", "old2", 1, before);
  Config cfg = config(arn);
  cfg.initial_position = StartPosition::latest();
  // The first owner creates the lease and stops before any new record.
  ASSERT_TRUE(run_until(cfg, arn, [&] { return store_->peek("s1").has_value(); }).ok());
  ASSERT_EQ(store_->peek("s1")->checkpoint, kAtTimestamp);
  // Written while no worker runs, then a new owner.
  const std::string wanted = fake_.put(arn, "s1", "INSERT", "new", 1, std::chrono::system_clock::now() + 1s);
  ASSERT_TRUE(run_until(cfg, arn, [&] { return collect_.count() >= 1; }).ok());
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(seen_once_each({wanted}));
}

// ---------------------------------------------------------------------------------------------
// Prefetch (Config::prefetch): the next GetRecords in flight while a batch is processed.

// What a source's GetRecords calls did: when each began, how many of one shard's were in flight
// at once, how many have returned. Shared, so it can be read after the worker (which owns the
// source) is gone.
struct Reads {
  std::mutex mu;
  std::vector<std::chrono::steady_clock::time_point> starts;
  int in_flight = 0;
  int max_in_flight = 0;
  int returned = 0;
  int started() {
    std::lock_guard lock(mu);
    return static_cast<int>(starts.size());
  }
};

// The fake's DynamoDB Streams source with its GetRecords calls recorded in Reads (one shard in
// these tests, so in_flight is per shard), and each call after the first taking `delay` longer.
class RecordedSource final : public ShardSource {
 public:
  RecordedSource(std::unique_ptr<ShardSource> inner, std::shared_ptr<Reads> reads,
                 std::chrono::milliseconds delay = 0ms)
      : inner_(std::move(inner)), reads_(std::move(reads)), delay_(delay) {}
  std::string describe() const override { return inner_->describe(); }
  Result<std::vector<kinesis::Shard>> list_shards() override { return inner_->list_shards(); }
  Result<kinesis::ShardIterator> shard_iterator(const kinesis::ShardId& shard,
                                                const kinesis::StartingPosition& position) override {
    return inner_->shard_iterator(shard, position);
  }
  Result<kinesis::GetRecordsResult> get_records(const kinesis::ShardIterator& it, int limit) override {
    bool first = false;
    {
      std::lock_guard lock(reads_->mu);
      first = reads_->starts.empty();
      reads_->starts.push_back(std::chrono::steady_clock::now());
      reads_->max_in_flight = std::max(reads_->max_in_flight, ++reads_->in_flight);
    }
    if (!first) std::this_thread::sleep_for(delay_);
    auto r = inner_->get_records(it, limit);
    std::lock_guard lock(reads_->mu);
    --reads_->in_flight;
    ++reads_->returned;
    return r;
  }
  int max_records() const override { return inner_->max_records(); }
  bool at_timestamp() const override { return inner_->at_timestamp(); }
  bool is_trimmed(const Error& e) const override { return inner_->is_trimmed(e); }
  std::string lease_stream() const override { return inner_->lease_stream(); }

 private:
  std::unique_ptr<ShardSource> inner_;
  std::shared_ptr<Reads> reads_;
  std::chrono::milliseconds delay_;
};

// A slow processor: each batch takes `work`, then runs `after` (which may wait for something).
// Notes, at the end of each batch, how many GetRecords calls had begun.
class SlowProcessor final : public RecordProcessor {
 public:
  SlowProcessor(std::shared_ptr<Reads> reads, std::chrono::milliseconds work) : reads_(std::move(reads)), work_(work) {}
  std::function<void(int batch)> during;  // called at the start of each batch (0, 1, ...)
  Status process(const ShardBatch& b) override {
    int n = 0;
    {
      std::lock_guard lock(mu_);
      n = static_cast<int>(reads_at_end_.size());
    }
    if (during) during(n);
    std::this_thread::sleep_for(work_);
    std::lock_guard lock(mu_);
    reads_at_end_.push_back(reads_->started());
    for (const auto& r : b.records) seen_.push_back(r.sequence_number.str());
    return {};
  }
  std::vector<int> reads_at_end() {
    std::lock_guard lock(mu_);
    return reads_at_end_;
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  std::shared_ptr<Reads> reads_;
  std::chrono::milliseconds work_;
  std::mutex mu_;
  std::vector<int> reads_at_end_;
  std::vector<std::string> seen_;
};

// With prefetch, when a batch's processing ends the shard's next page has already been asked
// for; without it, not. 20 records in pages of 5, 150 ms of work per batch.
TEST_F(DdbStreamsWorkerTest, PrefetchReadsTheNextPageWhileABatchIsProcessed) {
  const std::string arn = fake_.add_stream("orders", "L1");
  fake_.add_shard(arn, "s1");
  std::vector<std::string> seqs;
  for (int i = 0; i < 20; ++i) seqs.push_back(fake_.put(arn, "s1", "INSERT", "k" + std::to_string(i), i));
  for (bool prefetch : {true, false}) {
    SCOPED_TRACE(prefetch ? "prefetch on" : "prefetch off");
    auto reads = std::make_shared<Reads>();
    SlowProcessor slow(reads, 150ms);
    Config cfg = config(arn, prefetch ? "w-on" : "w-off");
    cfg.max_records = 5;
    cfg.prefetch = prefetch;
    store_ = std::make_shared<InMemoryLeaseStore>();  // each run from TRIM_HORIZON
    ASSERT_TRUE(run_until(cfg, std::make_unique<RecordedSource>(dynamodb_streams_source(client_, arn), reads), slow,
                          [&] { return slow.seen().size() >= 20; })
                    .ok());
    EXPECT_EQ(slow.seen(), seqs);  // in order, once each
    auto at_end = slow.reads_at_end();
    ASSERT_EQ(at_end.size(), 4u);
    for (size_t i = 0; i < at_end.size(); ++i) {
      // Batch i came from call i+1; with prefetch call i+2 had begun before processing ended.
      if (prefetch) {
        EXPECT_GE(at_end[i], static_cast<int>(i) + 2) << "batch " << i;
      } else {
        EXPECT_EQ(at_end[i], static_cast<int>(i) + 1) << "batch " << i;
      }
    }
    EXPECT_EQ(reads->max_in_flight, 1) << "one GetRecords in flight per shard";
  }
}

// The lease is lost while a batch is processed and the next page is in flight (a slow read):
// the batch is not checkpointed, the page read ahead is never processed, and the read has
// returned (its thread joined) by the time the worker stops.
TEST_F(DdbStreamsWorkerTest, APageReadAheadAfterALostLeaseIsNeverProcessed) {
  const std::string arn = fake_.add_stream("orders", "L1");
  fake_.add_shard(arn, "s1");
  std::vector<std::string> seqs;
  for (int i = 0; i < 10; ++i) seqs.push_back(fake_.put(arn, "s1", "INSERT", "k" + std::to_string(i), i));
  auto reads = std::make_shared<Reads>();
  SlowProcessor slow(reads, 0ms);
  slow.during = [&](int batch) {
    if (batch != 0) return;
    // Another worker takes the lease (as after a steal or an expiry) ...
    auto l = store_->peek("s1");
    ASSERT_TRUE(l.has_value());
    auto taken = store_->take(*l, "thief", "thief-token");
    ASSERT_TRUE(taken.ok() && *taken);
    // ... while the next page is being read.
    auto end = std::chrono::steady_clock::now() + 5s;
    while (reads->started() < 2 && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(2ms);
  };
  Config cfg = config(arn);
  cfg.max_records = 5;
  cfg.lease_duration = 20s;  // the thief's lease does not expire during the test
  WorkerStats stats;
  Status st = run_until(
      cfg, std::make_unique<RecordedSource>(dynamodb_streams_source(client_, arn), reads, 300ms), slow,
      [] { return true; },
      [&] {
        // The first batch, then time for the read ahead to return and, were it wrongly used, be processed.
        auto end = std::chrono::steady_clock::now() + 5s;
        while (slow.seen().size() < 5 && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(5ms);
        std::this_thread::sleep_for(1s);
      },
      &stats);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(stats.leases_lost, 1);
  EXPECT_GE(reads->started(), 2) << "the next page was asked for while the batch was processed";
  EXPECT_EQ(slow.seen(), std::vector<std::string>(seqs.begin(), seqs.begin() + 5))
      << "only the first page: the page read ahead belongs to the lease's new owner";
  EXPECT_EQ(store_->peek("s1")->owner, "thief");
  EXPECT_EQ(store_->peek("s1")->checkpoint, kTrimHorizon) << "nothing checkpointed by the worker that lost it";
  std::lock_guard lock(reads->mu);
  EXPECT_EQ(reads->returned, static_cast<int>(reads->starts.size())) << "a read still in flight after the stop";
  EXPECT_EQ(reads->in_flight, 0);
}

// The prefetch keeps the per-shard call interval (Kinesis: 5 GetRecords a second a shard):
// consecutive calls of the shard begin at least min_get_records_interval apart, one at a time.
TEST_F(DdbStreamsWorkerTest, PrefetchKeepsTheShardsCallInterval) {
  const std::string arn = fake_.add_stream("orders", "L1");
  fake_.add_shard(arn, "s1");
  for (int i = 0; i < 24; ++i) fake_.put(arn, "s1", "INSERT", "k" + std::to_string(i), i);
  auto reads = std::make_shared<Reads>();
  SlowProcessor quick(reads, 10ms);  // much shorter than the interval: the read ahead must wait
  Config cfg = config(arn);
  cfg.max_records = 3;
  cfg.min_get_records_interval = 100ms;
  cfg.idle_poll = 100ms;
  ASSERT_TRUE(run_until(cfg, std::make_unique<RecordedSource>(dynamodb_streams_source(client_, arn), reads), quick,
                        [&] { return quick.seen().size() >= 24 && reads->started() >= 10; })
                  .ok());
  std::lock_guard lock(reads->mu);
  ASSERT_GE(reads->starts.size(), 9u);
  for (size_t i = 1; i < reads->starts.size(); ++i) {
    auto gap = std::chrono::duration_cast<std::chrono::microseconds>(reads->starts[i] - reads->starts[i - 1]);
    // 1 ms of slack: the source notes its time a little after the worker's own.
    EXPECT_GE(gap, 99ms) << "calls " << i - 1 << " and " << i;
  }
  EXPECT_EQ(reads->max_in_flight, 1);
}

}  // namespace
}  // namespace dynarep::lease
