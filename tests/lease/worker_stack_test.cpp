// The Worker in-process against kinesalite and dynalite, with a recording processor: delivery
// and order, checkpoints and restarts, failing batches, resharding, two workers, lost leases,
// expired iterators (through the fault proxy).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "lease/lease_store.h"
#include "lease/sync_point.h"
#include "lease/worker.h"
#include "replicate/test_harness.h"
#include "support/fault_proxy.h"

namespace dynarep::lease {
namespace {

using namespace std::chrono_literals;
using repltest::ddb;
using repltest::eventually;
using repltest::kin;

// Records every record of every successful batch; can fail the first N calls.
class Recorder final : public RecordProcessor {
 public:
  Status process(const ShardBatch& batch) override {
    std::lock_guard lock(mu_);
    ++calls_;
    if (fail_first_ > 0) {
      --fail_first_;
      return transient("injected failure");
    }
    for (const auto& r : batch.records) {
      seen_.push_back({batch.shard_id.str(), r.sequence_number.str(), r.data});
      events_.push_back("process " + batch.shard_id.str());
    }
    return {};
  }
  struct Seen {
    std::string shard, seq, data;
  };
  std::vector<Seen> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }
  size_t count() {
    std::lock_guard lock(mu_);
    return seen_.size();
  }
  void fail_first(int n) {
    std::lock_guard lock(mu_);
    fail_first_ = n;
  }
  void event(std::string e) {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(e));
  }
  std::vector<std::string> events() {
    std::lock_guard lock(mu_);
    return events_;
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::vector<Seen> seen_;
  std::vector<std::string> events_;
  int fail_first_ = 0;
  int calls_ = 0;
};

// A worker running on its own thread until stop().
class RunningWorker {
 public:
  RunningWorker(Config cfg, kinesis::Client& k, dynamodb::Client& db, RecordProcessor& p)
      : worker_(std::move(cfg), k, db, p, SystemClock::instance()) {
    thread_ = std::thread([this] { status_ = worker_.run(stop_); });
  }
  ~RunningWorker() { stop(); }
  void stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  Worker& worker() { return worker_; }
  Status status() const { return status_; }

 private:
  Worker worker_;
  std::atomic<bool> stop_{false};
  Status status_;
  std::thread thread_;
};

class WorkerStackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::local_stack();
    db_ = ddb();
    k_ = kin();
  }
  Config config(const std::string& stream, const std::string& id) {
    Config c;
    c.stream = stream;
    if (lease_table_.empty()) {
      lease_table_ = testing::unique_name("leases");
      res_.adopt_table(lease_table_);
    }
    c.lease_table = lease_table_;
    c.worker_id = id;
    c.lease_duration = 2s;
    c.idle_poll = 50ms;
    c.min_get_records_interval = 20ms;
    c.shard_sync_interval = 1s;
    c.retry_base = 10ms;
    c.retry_max = 200ms;
    return c;
  }
  // Puts `n` records over `keys` partition keys; data "<key>#<n per key>".
  void put(const std::string& stream, int n, int keys, std::map<std::string, int>& next, kinesis::Client* k = nullptr) {
    std::vector<kinesis::PutRecordsEntry> entries;
    for (int i = 0; i < n; ++i) {
      std::string key = "key" + std::to_string(i % keys);
      entries.push_back({key + "#" + std::to_string(next[key]++), key, {}});
    }
    for (size_t b = 0; b < entries.size(); b += 500) {
      std::vector<kinesis::PutRecordsEntry> part(entries.begin() + static_cast<std::ptrdiff_t>(b),
                                                 entries.begin() + static_cast<std::ptrdiff_t>(std::min(entries.size(), b + 500)));
      auto r = (k ? k : k_.get())->put_records(stream, part);
      ASSERT_TRUE(r.ok()) << r.error().describe();
      ASSERT_TRUE(r->all_ok());
    }
  }
  // Per key, the numbers seen must be increasing (with repeats allowed only for at-least-once).
  static void expect_per_key_order(const std::vector<Recorder::Seen>& seen, bool allow_repeats) {
    std::map<std::string, int> last;
    for (const auto& s : seen) {
      auto hash = s.data.find('#');
      std::string key = s.data.substr(0, hash);
      int n = std::stoi(s.data.substr(hash + 1));
      auto it = last.find(key);
      if (it != last.end()) {
        if (allow_repeats) {
          EXPECT_TRUE(n == it->second + 1 || n <= it->second) << s.data;
        } else {
          EXPECT_EQ(n, it->second + 1) << "out of order or missing: " << s.data;
        }
      } else if (!allow_repeats) {
        EXPECT_EQ(n, 0) << s.data;
      }
      last[key] = std::max(n, it == last.end() ? -1 : it->second);
    }
  }

  repltest::Resources res_;
  std::shared_ptr<dynamodb::Client> db_;
  std::shared_ptr<kinesis::Client> k_;
  std::string lease_table_;
};

TEST_F(WorkerStackTest, DeliversEveryRecordInOrderAndResumesFromCheckpoints) {
  auto stream = res_.stream(2);
  std::map<std::string, int> next;
  put(stream, 300, 17, next);
  Recorder rec;
  {
    RunningWorker w(config(stream, "w1"), *k_, *db_, rec);
    ASSERT_TRUE(eventually([&] { return rec.count() >= 300; }, 30s)) << rec.count();
    std::this_thread::sleep_for(300ms);
    w.stop();
    EXPECT_TRUE(w.status().ok());
    EXPECT_EQ(w.worker().stats().leases_taken, 2);
  }
  EXPECT_EQ(rec.count(), 300u) << "each record exactly once";
  expect_per_key_order(rec.seen(), false);
  // Graceful stop: every lease released, checkpointed at its shard's last record.
  std::map<std::string, std::string> last_seq;
  for (const auto& s : rec.seen()) last_seq[s.shard] = s.seq;
  auto rows = repltest::lease_rows(*db_, lease_table_);
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& r : rows) {
    EXPECT_TRUE(r.owner.empty()) << r.key << " still owned by " << r.owner;
    EXPECT_EQ(r.checkpoint, last_seq[r.key]);
  }

  // A new worker (another id) continues after the checkpoints: nothing is delivered twice.
  put(stream, 50, 17, next);
  Recorder rec2;
  RunningWorker w2(config(stream, "w2"), *k_, *db_, rec2);
  ASSERT_TRUE(eventually([&] { return rec2.count() >= 50; }, 30s)) << rec2.count();
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(rec2.count(), 50u);
  auto all = rec.seen();
  for (const auto& s : rec2.seen()) all.push_back(s);
  expect_per_key_order(all, false);
}

TEST_F(WorkerStackTest, FailingBatchIsRetriedAndOnlyThenCheckpointed) {
  if (!sync::kEnabled) GTEST_SKIP() << "built without DYNAREP_TEST_HOOKS";
  auto stream = res_.stream(1);
  std::map<std::string, int> next;
  put(stream, 40, 5, next);
  Recorder rec;
  rec.fail_first(3);
  std::vector<std::string> checkpoints_at_calls;
  sync::ScopedHandler h(sync::kBeforeCheckpoint, [&](std::string_view) {
    checkpoints_at_calls.push_back(std::to_string(rec.calls()));
  });
  RunningWorker w(config(stream, "w1"), *k_, *db_, rec);
  ASSERT_TRUE(eventually([&] { return rec.count() >= 40; }, 30s));
  w.stop();
  EXPECT_EQ(rec.count(), 40u);
  EXPECT_GE(w.worker().stats().batch_failures, 3);
  ASSERT_FALSE(checkpoints_at_calls.empty());
  EXPECT_EQ(checkpoints_at_calls[0], "4") << "no checkpoint before the batch succeeded";
  expect_per_key_order(rec.seen(), false);
}

TEST_F(WorkerStackTest, ChildShardsAreProcessedAfterTheirParentsEnd) {
  if (!sync::kEnabled) GTEST_SKIP() << "built without DYNAREP_TEST_HOOKS";
  auto stream = res_.stream(1);
  std::map<std::string, int> next;
  put(stream, 100, 11, next);
  auto shards = k_->list_shards(stream);
  ASSERT_TRUE(shards.ok());
  ASSERT_TRUE(k_->split_shard(stream, (*shards)[0].id).ok());
  put(stream, 100, 11, next);  // into the children
  Recorder rec;
  sync::ScopedHandler h(sync::kShardEndReached, [&](std::string_view shard) { rec.event("end " + std::string(shard)); });
  RunningWorker w(config(stream, "w1"), *k_, *db_, rec);
  ASSERT_TRUE(eventually([&] { return rec.count() >= 200; }, 40s)) << rec.count();
  std::this_thread::sleep_for(300ms);
  w.stop();
  EXPECT_EQ(rec.count(), 200u);
  expect_per_key_order(rec.seen(), false);
  const std::string parent = (*shards)[0].id.str();
  auto ev = rec.events();
  auto end_at = std::find(ev.begin(), ev.end(), "end " + parent);
  ASSERT_NE(end_at, ev.end());
  for (auto it = ev.begin(); it != end_at; ++it) EXPECT_EQ(*it, "process " + parent) << "a child ran before its parent ended";
  auto rows = repltest::lease_rows(*db_, lease_table_);
  ASSERT_EQ(rows.size(), 3u);
  for (const auto& r : rows) {
    if (r.key == parent) {
      EXPECT_EQ(r.checkpoint, "SHARD_END");
    } else {
      EXPECT_EQ(r.parents, std::vector<std::string>{parent});
    }
  }
}

TEST_F(WorkerStackTest, TwoWorkersShareAndAGracefulStopHandsOverAtOnce) {
  auto stream = res_.stream(4);
  std::map<std::string, int> next;
  Recorder rec;
  auto w1 = std::make_unique<RunningWorker>(config(stream, "w1"), *k_, *db_, rec);
  ASSERT_TRUE(eventually([&] { return w1->worker().coordinator().held_shards().size() == 4; }, 10s));
  RunningWorker w2(config(stream, "w2"), *k_, *db_, rec);
  ASSERT_TRUE(eventually(
      [&] {
        return w1->worker().coordinator().held_shards().size() == 2 &&
               w2.worker().coordinator().held_shards().size() == 2;
      },
      20s));
  put(stream, 200, 23, next);
  ASSERT_TRUE(eventually([&] { return rec.count() >= 200; }, 30s));
  // w1 leaves gracefully: it releases its leases, so w2 takes them at its next take cycle
  // (1 s), well before they would have expired (2 s + observation).
  auto t0 = std::chrono::steady_clock::now();
  w1->stop();
  ASSERT_TRUE(eventually([&] { return w2.worker().coordinator().held_shards().size() == 4; }, 10s, 20ms));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  put(stream, 100, 23, next);
  ASSERT_TRUE(eventually([&] { return rec.count() >= 300; }, 30s));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(rec.count(), 300u);
  expect_per_key_order(rec.seen(), false);
}

TEST_F(WorkerStackTest, LostLeaseStopsTheConsumerWithoutCheckpointing) {
  if (!sync::kEnabled) GTEST_SKIP() << "built without DYNAREP_TEST_HOOKS";
  auto stream = res_.stream(1);
  std::map<std::string, int> next;
  put(stream, 20, 3, next);
  Recorder rec;
  std::atomic<bool> stolen{false};
  auto cfg = config(stream, "w1");
  cfg.lease_duration = 60s;  // no expiry: w1 keeps believing until a write tells it otherwise
  DynamoLeaseStore intruder(*db_, cfg.lease_table);
  // Just before w1 checkpoints its first batch, someone else takes the lease.
  sync::ScopedHandler h(sync::kAfterProcess, [&](std::string_view shard) {
    if (stolen.exchange(true)) return;
    auto l = intruder.get(std::string(shard));
    ASSERT_TRUE(l.ok() && l->has_value());
    Lease lease = **l;
    ASSERT_TRUE(*intruder.take(lease, "intruder", "token-intruder"));
  });
  RunningWorker w(cfg, *k_, *db_, rec);
  ASSERT_TRUE(eventually([&] { return w.worker().stats().leases_lost == 1; }, 20s));
  ASSERT_TRUE(eventually([&] { return w.worker().coordinator().held_shards().empty(); }, 10s));
  std::this_thread::sleep_for(300ms);
  auto rows = repltest::lease_rows(*db_, cfg.lease_table);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].owner, "intruder");
  EXPECT_EQ(rows[0].checkpoint, "TRIM_HORIZON") << "the processed batch must not be checkpointed";
  EXPECT_EQ(rec.count(), 20u) << "the consumer stopped after the batch in hand";
  EXPECT_EQ(w.worker().stats().checkpoints, 0);
}

TEST_F(WorkerStackTest, ExpiredIteratorIsRenewedAfterTheLastRecord) {
  testing::FaultProxy proxy(testing::local_stack().kinesis);
  auto k = kin(proxy.url());
  auto stream = res_.stream(1);
  std::map<std::string, int> next;
  put(stream, 30, 4, next);
  Recorder rec;
  RunningWorker w(config(stream, "w1"), *k, *db_, rec);
  ASSERT_TRUE(eventually([&] { return rec.count() >= 30; }, 20s));
  proxy.set_rules(R"({"rules":[{"match":{"target":"Kinesis_20131202.GetRecords"},"fault":"error","status":400,)"
                  R"("code":"ExpiredIteratorException","message":"Iterator expired","count":1}]})");
  put(stream, 30, 4, next);
  ASSERT_TRUE(eventually([&] { return rec.count() >= 60; }, 20s));
  std::this_thread::sleep_for(300ms);
  w.stop();
  EXPECT_EQ(rec.count(), 60u);
  EXPECT_EQ(w.worker().stats().iterators_expired, 1);
  expect_per_key_order(rec.seen(), false);
}

TEST_F(WorkerStackTest, LatestSkipsWhatCameBefore) {
  auto stream = res_.stream(1);
  std::map<std::string, int> next;
  put(stream, 10, 2, next);
  Recorder rec;
  auto cfg = config(stream, "w1");
  cfg.initial_position = StartPosition::latest();
  RunningWorker w(cfg, *k_, *db_, rec);
  ASSERT_TRUE(eventually([&] { return w.worker().stats().get_records_calls >= 2; }, 10s));
  put(stream, 10, 2, next);
  ASSERT_TRUE(eventually([&] { return rec.count() >= 10; }, 20s));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(rec.count(), 10u);
  for (const auto& s : rec.seen()) EXPECT_GE(std::stoi(s.data.substr(s.data.find('#') + 1)), 5) << s.data;
}

TEST_F(WorkerStackTest, AtTimestampStartsAtThatTime) {
  auto stream = res_.stream(1);
  std::map<std::string, int> next;
  put(stream, 10, 2, next);
  std::this_thread::sleep_for(1500ms);
  auto at = std::chrono::system_clock::now();
  std::this_thread::sleep_for(1500ms);
  put(stream, 10, 2, next);
  Recorder rec;
  auto cfg = config(stream, "w1");
  cfg.initial_position = StartPosition::at_timestamp(at);
  RunningWorker w(cfg, *k_, *db_, rec);
  ASSERT_TRUE(eventually([&] { return rec.count() >= 10; }, 20s));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(rec.count(), 10u);
  for (const auto& s : rec.seen()) EXPECT_GE(std::stoi(s.data.substr(s.data.find('#') + 1)), 5) << s.data;
  auto rows = repltest::lease_rows(*db_, lease_table_);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_NE(rows[0].checkpoint, "AT_TIMESTAMP") << "checkpointed after the first batch";
}

TEST_F(WorkerStackTest, LatestIsPinnedWhenTheLeaseIsCreatedSoAHandoverSkipsNothing) {
  auto stream = res_.stream(1);
  std::map<std::string, int> next;
  put(stream, 10, 2, next);  // before the first worker: skipped (LATEST)
  Recorder rec;
  auto cfg = config(stream, "w1");
  cfg.initial_position = StartPosition::latest();
  {
    RunningWorker w1(cfg, *k_, *db_, rec);
    ASSERT_TRUE(eventually([&] { return w1.worker().stats().get_records_calls >= 2; }, 10s));
  }  // w1 stops having processed nothing: its lease is released with the start position in it
  put(stream, 10, 2, next);  // written between two owners: must not be skipped
  auto cfg2 = config(stream, "w2");
  cfg2.initial_position = StartPosition::latest();
  RunningWorker w2(cfg2, *k_, *db_, rec);
  ASSERT_TRUE(eventually([&] { return rec.count() >= 10; }, 20s)) << rec.count() << " of the 10 records written "
                                                                   << "between the owners were read";
  std::this_thread::sleep_for(300ms);
  w2.stop();
  EXPECT_EQ(rec.count(), 10u);
  for (const auto& s : rec.seen()) EXPECT_GE(std::stoi(s.data.substr(s.data.find('#') + 1)), 5) << s.data;
}

TEST_F(WorkerStackTest, GrandchildrenOfTwoReshardsBetweenSyncsAreReadFromTheirStart) {
  auto stream = res_.stream(1);
  std::map<std::string, int> next;
  Recorder rec;
  auto cfg = config(stream, "w1");
  cfg.initial_position = StartPosition::latest();  // for shards with no consumed ancestor only
  {
    RunningWorker w1(cfg, *k_, *db_, rec);
    ASSERT_TRUE(eventually([&] { return w1.worker().stats().get_records_calls >= 2; }, 10s));
  }
  // Two reshards while no worker runs: the shard splits, then one of its children splits.
  auto shards = k_->list_shards(stream);
  ASSERT_TRUE(shards.ok());
  const kinesis::ShardId root = (*shards)[0].id;
  ASSERT_TRUE(k_->split_shard(stream, root).ok());
  shards = k_->list_shards(stream);
  ASSERT_TRUE(shards.ok());
  std::optional<kinesis::ShardId> child;
  for (const auto& sh : *shards) {
    if (!sh.closed()) child = sh.id;
  }
  ASSERT_TRUE(child);
  ASSERT_TRUE(k_->split_shard(stream, *child).ok());
  put(stream, 100, 11, next);  // into the two grandchildren and the other child
  RunningWorker w(cfg, *k_, *db_, rec);
  ASSERT_TRUE(eventually([&] { return rec.count() >= 100; }, 40s)) << rec.count() << " of 100";
  std::this_thread::sleep_for(300ms);
  w.stop();
  EXPECT_EQ(rec.count(), 100u);
  expect_per_key_order(rec.seen(), false);
  auto rows = repltest::lease_rows(*db_, lease_table_);
  EXPECT_EQ(rows.size(), 5u);
}

TEST_F(WorkerStackTest, TwoLiveProcessesWithOneWorkerIdLeaveOneConsuming) {
  auto stream = res_.stream(2);
  std::map<std::string, int> next;
  Recorder rec1, rec2;
  auto first = std::make_unique<RunningWorker>(config(stream, "same"), *k_, *db_, rec1);
  ASSERT_TRUE(eventually([&] { return first->worker().coordinator().held_shards().size() == 2; }, 10s));
  auto second = std::make_unique<RunningWorker>(config(stream, "same"), *k_, *db_, rec2);
  // The newcomer sees leases of its own id renewed by someone else and stands down.
  ASSERT_TRUE(eventually([&] { return second->worker().coordinator().id_conflict().has_value(); }, 15s));
  second->stop();
  EXPECT_FALSE(second->status().ok());
  EXPECT_EQ(second->status().error().code, "WorkerIdInUse") << second->status().error().describe();
  put(stream, 50, 7, next);
  ASSERT_TRUE(eventually([&] { return rec1.count() >= 50; }, 20s));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(rec1.count(), 50u);
  EXPECT_EQ(rec2.count(), 0u) << "only one process consumes";
  EXPECT_FALSE(first->worker().coordinator().id_conflict());
}

TEST_F(WorkerStackTest, MissingStreamFailsAtStart) {
  Recorder rec;
  Worker w(config("no-such-stream-" + testing::unique_name("x"), "w1"), *k_, *db_, rec, SystemClock::instance());
  std::atomic<bool> stop{false};
  auto st = w.run(stop);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kNotFound) << st.error().describe();
}

}  // namespace
}  // namespace dynarep::lease
