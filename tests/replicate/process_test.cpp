// `dynarep replicate` as users run it (posix_spawn), against the local stack: SIGKILL and
// restart, several workers with one killed, resharding, SIGTERM, faults from the proxy,
// malformed records, replays, turnover.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "lease/sync_point.h"
#include "replicate/test_harness.h"
#include "http/client.h"
#include "support/fault_proxy.h"
#include "support/process.h"

namespace dynarep::repltest {
namespace {

using namespace std::chrono_literals;
using Event = stream::ChangeRecord::Event;

class ReplicateProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::local_stack();
    db_ = ddb();
    primary_ = res_.table(simple_schema(), "prim");
    replica_ = res_.table(simple_schema(), "repl");
    lease_table_ = testing::unique_name("leases");
    res_.adopt_table(lease_table_);
    dl_dir_ = std::filesystem::temp_directory_path() / testing::unique_name("dl");
  }
  void TearDown() override { std::filesystem::remove_all(dl_dir_); }

  std::vector<std::string> args(const std::string& stream, const std::string& worker,
                                std::vector<std::string> extra = {}, const std::string& lease_duration = "2s") {
    std::vector<std::string> a{"replicate",        "--primary",        "us-east-1/" + primary_,
                               "--replica",        "us-east-1/" + replica_,
                               "--stream",         stream,
                               "--lease-table",    lease_table_,
                               "--worker-id",      worker,
                               "--lease-duration", lease_duration,
                               "--idle-poll",      "100ms",
                               "--shard-sync-interval", "2s",
                               "--log-interval",   "2s",
                               "--metrics-port",   "0",
                               "--dead-letter",    dl_dir_};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  std::string equal_within(std::chrono::milliseconds t) { return wait_equal(*db_, primary_, replica_, t); }
  double metric(Proc& p, const std::string& name, const std::string& labels = "") {
    return Proc::metric(p.metrics(), name, labels);
  }
  double received(Proc& p) { return metric(p, "dynarep_replicate_records_total", "outcome=\"received\""); }
  int dead_letter_lines() {
    int n = 0;
    if (!std::filesystem::exists(dl_dir_)) return 0;
    for (const auto& f : std::filesystem::directory_iterator(dl_dir_)) {
      std::ifstream in(f.path());
      std::string line;
      while (std::getline(in, line)) ++n;
    }
    return n;
  }

  Resources res_;
  std::shared_ptr<dynamodb::Client> db_;
  std::string primary_, replica_, lease_table_, dl_dir_;
};

// Under load (2 cores, load average ~10) the steady writer puts far fewer than its 120 records
// a second, so nothing here waits a fixed time and then counts: every phase waits for what it
// needs (records received, records put), and every failure names its phase and the figures.
TEST_F(ReplicateProcessTest, KilledMidStreamAndRestartedEndsExactlyEqual) {
  auto stream = res_.stream(2);
  Writer w(primary_, stream);
  SteadyWriter writer(w, 150, 120);
  std::string phase = "worker w1 starting";
  double received_a = 0, received_b = 0;
  auto figures = [&] {
    std::ostringstream out;
    out << "\n[phase: " << phase << "; records put " << w.records_put() << "; received by w1 " << received_a
        << ", by w2 " << received_b << "; leases:";
    for (const auto& r : lease_rows(*db_, lease_table_)) {
      out << " " << r.key << "=" << (r.owner.empty() ? "unowned" : r.owner) << "@" << r.checkpoint << "#" << r.counter;
    }
    out << "]\n";
    return out.str();
  };
  {
    Proc a(args(stream, "w1"));
    auto received_by_a = [&] { return received_a = std::max(received_a, received(a)); };
    ASSERT_TRUE(eventually([&] { return received_by_a() > 50; }, 60s)) << figures() << a.log();
    phase = "w1 consuming, about to be killed";
    std::this_thread::sleep_for(1500ms);  // mid-stream: more batches applied and checkpointed
    received_by_a();
    a.signal(SIGKILL);
    EXPECT_EQ(a.wait(5s), 128 + SIGKILL) << figures();
  }
  // Another worker id: it must wait for the dead worker's leases to expire (2 s as it sees them).
  phase = "w2 taking over the dead worker's leases";
  Proc b(args(stream, "w2"));
  auto received_by_b = [&] { return received_b = std::max(received_b, received(b)); };
  // Records written after the takeover must reach the replica too: keep writing until w2 has
  // received a good share of them and the whole run has put more than 500.
  const int64_t put_at_takeover = w.records_put();
  ASSERT_TRUE(eventually([&] { return received_by_b() > 50 && w.records_put() > put_at_takeover + 50; }, 60s))
      << figures() << b.log();
  phase = "w2 consuming, writer going on to 500 records";
  EXPECT_TRUE(eventually([&] { return w.records_put() > 500; }, 120s)) << figures();
  writer.stop();
  phase = "writer stopped, waiting for the replica to equal the primary";
  EXPECT_EQ(equal_within(60s), "") << figures() << b.log();
  phase = "SIGTERM to w2";
  received_by_b();
  b.signal(SIGTERM);
  EXPECT_EQ(b.wait(20s), 0) << figures() << b.log();
  EXPECT_EQ(dead_letter_lines(), 0) << figures();
}

TEST_F(ReplicateProcessTest, KilledBetweenApplyAndCheckpointReappliesTheBatch) {
  if (!lease::sync::kEnabled) GTEST_SKIP() << "built without DYNAREP_TEST_HOOKS";
  auto stream = res_.stream(1);
  Writer w(primary_, stream);
  std::vector<model::Item> items;
  for (int i = 0; i < 40; ++i) items.push_back(item("k" + std::to_string(i), i));
  w.put_many(items);
  {
    // Dies right after the first batch reached the replica, before its checkpoint.
    Proc a(args(stream, "w1", {"--max-records", "10"}), {{"DYNAREP_SYNC_POINTS", "worker.process.after=kill@1"}});
    EXPECT_EQ(a.wait(30s), 128 + SIGKILL) << a.log();
    EXPECT_NE(a.log().find("sync point worker.process.after"), std::string::npos) << a.log();
  }
  auto rows = lease_rows(*db_, lease_table_);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].checkpoint, "TRIM_HORIZON") << "the batch was applied but not checkpointed";
  EXPECT_EQ(scan_all(*db_, replica_).size(), 10u);
  // The same worker id takes its lease back at once and applies that batch again.
  Proc b(args(stream, "w1", {"--max-records", "10"}));
  EXPECT_EQ(equal_within(30s), "") << b.log();
  ASSERT_TRUE(eventually([&] { return received(b) >= 40; }, 10s));
  EXPECT_EQ(received(b), 40) << "at least once: the uncheckpointed batch is read again";
  b.signal(SIGTERM);
  EXPECT_EQ(b.wait(20s), 0);
}

TEST_F(ReplicateProcessTest, ThreeWorkersFourShardsOneKilled) {
  auto stream = res_.stream(4);
  Writer w(primary_, stream);
  SteadyWriter writer(w, 200, 60);
  std::map<std::string, std::unique_ptr<Proc>> procs;
  for (const char* id : {"w1", "w2", "w3"}) procs[id] = std::make_unique<Proc>(args(stream, id));

  // Watch the lease table: every 100 ms, who owns what.
  struct Sample {
    std::chrono::steady_clock::time_point t;
    std::vector<LeaseRow> rows;
  };
  std::vector<Sample> samples;
  std::mutex mu;
  std::atomic<bool> stop_watch{false};
  std::thread watcher([&] {
    auto wdb = ddb();
    while (!stop_watch.load()) {
      auto rows = lease_rows(*wdb, lease_table_);
      {
        std::lock_guard lock(mu);
        samples.push_back({std::chrono::steady_clock::now(), rows});
      }
      std::this_thread::sleep_for(100ms);
    }
  });
  auto owners_now = [&] {
    std::map<std::string, std::string> out;
    std::lock_guard lock(mu);
    if (!samples.empty()) {
      for (const auto& r : samples.back().rows) out[r.key] = r.owner;
    }
    return out;
  };
  auto balanced = [&](std::set<std::string> live) {
    auto o = owners_now();
    if (o.size() != 4) return false;
    std::map<std::string, int> count;
    for (const auto& [k, owner] : o) {
      if (live.count(owner) == 0) return false;
      count[owner]++;
    }
    if (count.size() != live.size()) return false;
    for (const auto& [owner, n] : count) {
      if (n > 2) return false;
    }
    return true;
  };
  ASSERT_TRUE(eventually([&] { return balanced({"w1", "w2", "w3"}); }, 30s)) << procs["w1"]->log();

  // Kill a worker holding two leases if there is one.
  auto o = owners_now();
  std::map<std::string, int> count;
  for (const auto& [k, owner] : o) count[owner]++;
  std::string victim = "w1";
  for (const auto& [owner, n] : count) {
    if (n == 2) victim = owner;
  }
  std::set<std::string> victim_shards;
  for (const auto& [k, owner] : o) {
    if (owner == victim) victim_shards.insert(k);
  }
  auto killed_at = std::chrono::steady_clock::now();
  procs[victim]->signal(SIGKILL);
  procs[victim]->wait(5s);
  std::set<std::string> live{"w1", "w2", "w3"};
  live.erase(victim);
  ASSERT_TRUE(eventually([&] { return balanced(live); }, 30s));
  std::this_thread::sleep_for(2s);
  writer.stop();
  EXPECT_EQ(equal_within(60s), "");
  stop_watch.store(true);
  watcher.join();

  // Over time: every owner was a running worker; the dead worker's shards moved only after the
  // lease duration as the survivors saw it (2 s; its last renewal was at most ~0.7 s before).
  for (const auto& s : samples) {
    for (const auto& r : s.rows) {
      if (r.owner.empty()) continue;
      EXPECT_TRUE(r.owner == "w1" || r.owner == "w2" || r.owner == "w3") << r.owner;
      if (s.t > killed_at + 200ms && victim_shards.count(r.key) != 0 && r.owner != victim) {
        EXPECT_GE(s.t - killed_at, 1200ms) << r.key << " taken from the dead worker too early";
      }
    }
  }
  // At the end each shard is consumed by exactly one live worker (their own view, from metrics).
  std::map<std::string, int> consumers;
  for (const auto& id : live) {
    std::istringstream in(procs[id]->metrics());
    std::string line;
    std::regex re(R"re(dynarep_replicate_millis_behind_latest\{shard="([^"]+)"\})re");
    while (std::getline(in, line)) {
      std::smatch m;
      if (std::regex_search(line, m, re)) consumers[m[1]]++;
    }
  }
  EXPECT_EQ(consumers.size(), 4u);
  for (const auto& [shard, n] : consumers) EXPECT_EQ(n, 1) << shard << " consumed by " << n << " workers";
  for (const auto& id : live) {
    procs[id]->signal(SIGTERM);
    EXPECT_EQ(procs[id]->wait(20s), 0) << procs[id]->log();
  }
}

TEST_F(ReplicateProcessTest, SplitMidStreamLosesNothingAndChildrenFollowParents) {
  if (!lease::sync::kEnabled) GTEST_SKIP() << "built without DYNAREP_TEST_HOOKS";
  auto stream = res_.stream(1);
  Writer w(primary_, stream);
  SteadyWriter writer(w, 80, 80);
  Proc p(args(stream, "w1"), {{"DYNAREP_SYNC_POINTS", "worker.process.before=log,worker.shard_end=log"}});
  ASSERT_TRUE(eventually([&] { return received(p) > 50; }, 20s)) << p.log();
  auto k = kin();
  auto shards = k->list_shards(stream);
  ASSERT_TRUE(shards.ok());
  const std::string parent = (*shards)[0].id.str();
  ASSERT_TRUE(k->split_shard(stream, (*shards)[0].id).ok());
  std::this_thread::sleep_for(4s);
  writer.stop();
  EXPECT_EQ(equal_within(60s), "") << p.log();
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(20s), 0);

  // In the log: the parent's end comes before any batch of a child.
  std::istringstream log(p.log());
  std::string line;
  bool parent_ended = false;
  int child_batches = 0;
  std::regex re(R"(sync point (worker\.[a-z_.]+) \(shard ([^,]+),)");
  while (std::getline(log, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, re)) continue;
    if (m[1] == "worker.shard_end" && m[2] == parent) parent_ended = true;
    if (m[1] == "worker.process.before" && m[2] != parent) {
      EXPECT_TRUE(parent_ended) << "child " << m[2] << " processed before " << parent << " ended";
      ++child_batches;
    }
  }
  EXPECT_TRUE(parent_ended);
  EXPECT_GT(child_batches, 0);
  auto rows = lease_rows(*db_, lease_table_);
  ASSERT_EQ(rows.size(), 3u);
  for (const auto& r : rows) {
    if (r.key == parent) {
      EXPECT_EQ(r.checkpoint, "SHARD_END");
    }
  }
}

TEST_F(ReplicateProcessTest, SigtermCheckpointsReleasesAndTheRestartRepeatsNothing) {
  auto stream = res_.stream(2);
  Writer w(primary_, stream);
  std::vector<model::Item> items;
  for (int i = 0; i < 100; ++i) items.push_back(item("k" + std::to_string(i), i));
  w.put_many(items);
  {
    Proc a(args(stream, "w1"));
    ASSERT_TRUE(eventually([&] { return received(a) >= 100; }, 30s)) << a.log();
    EXPECT_EQ(received(a), 100);
    a.signal(SIGTERM);
    EXPECT_EQ(a.wait(20s), 0) << a.log();
  }
  EXPECT_EQ(equal_within(5s), "");
  for (const auto& r : lease_rows(*db_, lease_table_)) {
    EXPECT_EQ(r.owner, "") << r.key << ": released on SIGTERM";
    EXPECT_FALSE(r.checkpoint.empty() || r.checkpoint == "TRIM_HORIZON") << r.key << " " << r.checkpoint;
  }
  // Restarted (another worker id: released leases are free at once): nothing is read again.
  Proc b(args(stream, "w2"));
  ASSERT_TRUE(eventually([&] { return metric(b, "dynarep_replicate_get_records_calls_total") >= 6; }, 20s)) << b.log();
  EXPECT_EQ(received(b), 0) << "records already checkpointed were processed again";
  std::vector<model::Item> more;
  for (int i = 100; i < 120; ++i) more.push_back(item("k" + std::to_string(i), i));
  w.put_many(more);
  ASSERT_TRUE(eventually([&] { return received(b) >= 20; }, 20s));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(received(b), 20);
  EXPECT_EQ(metric(b, "dynarep_replicate_records_total", "outcome=\"applied\""), 20);
  b.signal(SIGTERM);
  EXPECT_EQ(b.wait(20s), 0);
  EXPECT_EQ(equal_within(5s), "");
}

TEST_F(ReplicateProcessTest, ThrottlingAnd5xxSlowItDownButLoseNothing) {
  auto stream = res_.stream(2);
  testing::FaultProxy dproxy(testing::local_stack().dynamodb);
  testing::FaultProxy kproxy(testing::local_stack().kinesis);
  dproxy.set_rules(R"({"seed":11,"rules":[
    {"match":{"target":["DynamoDB_20120810.BatchGetItem","DynamoDB_20120810.BatchWriteItem"]},"fault":"throttle","probability":0.25},
    {"match":{"target":["DynamoDB_20120810.BatchGetItem","DynamoDB_20120810.BatchWriteItem"]},"fault":"status","status":500,"probability":0.15},
    {"match":{"target":"DynamoDB_20120810.UpdateItem"},"fault":"drop","forward":true,"probability":0.05},
    {"match":{"target":"DynamoDB_20120810.UpdateItem"},"fault":"status","status":503,"probability":0.1}]})");
  kproxy.set_rules(R"({"seed":12,"rules":[
    {"match":{"target":"Kinesis_20131202.GetRecords"},"fault":"throttle","probability":0.3},
    {"match":{"target":"Kinesis_20131202.GetRecords"},"fault":"status","status":500,"probability":0.1}]})");
  Writer w(primary_, stream);
  SteadyWriter writer(w, 100, 60);
  Proc p(args(stream, "w1", {"--endpoint", dproxy.url(), "--kinesis-endpoint", kproxy.url()}, "4s"));
  std::this_thread::sleep_for(8s);
  writer.stop();
  EXPECT_EQ(equal_within(90s), "") << p.log();
  std::string m = p.metrics();
  EXPECT_GT(Proc::metric(m, "dynarep_aws_throttles_total", "client=\"primary\""), 0) << m;
  EXPECT_GT(Proc::metric(m, "dynarep_aws_throttles_total", "client=\"kinesis\""), 0) << m;
  EXPECT_GT(dproxy.faults_injected(), 0);
  EXPECT_GT(kproxy.faults_injected(), 0);
  EXPECT_EQ(dead_letter_lines(), 0) << "transient failures must never be dead-lettered";
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(30s), 0) << p.log();
}

TEST_F(ReplicateProcessTest, MalformedRecordIsDeadLetteredAndTheShardGoesOn) {
  auto stream = res_.stream(1);
  Writer w(primary_, stream);
  w.put(item("a", 1));
  std::string bad_seq = w.put_raw("{\"eventName\":\"INSERT\",\"dynamodb\":", "junk");
  w.put(item("b", 1));
  Proc p(args(stream, "w1"));
  EXPECT_EQ(equal_within(30s), "") << p.log();
  ASSERT_TRUE(eventually([&] { return dead_letter_lines() == 1; }, 10s));
  std::ifstream f(dl_dir_ + "/" + (*kin()->list_shards(stream))[0].id.str() + ".jsonl");
  std::string line;
  std::getline(f, line);
  EXPECT_NE(line.find("\"sequenceNumber\":\"" + bad_seq + "\""), std::string::npos) << line;
  EXPECT_NE(p.log().find(bad_seq), std::string::npos) << "the log names the sequence number";
  w.put(item("c", 1));
  EXPECT_EQ(equal_within(30s), "");
  EXPECT_EQ(metric(p, "dynarep_replicate_records_total", "outcome=\"dead_lettered\""), 1);
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(20s), 0);
}

TEST_F(ReplicateProcessTest, DuplicatedAndReplayedRecordsLeaveTheReplicaRight) {
  auto stream = res_.stream(2);
  Writer w(primary_, stream);
  for (int i = 0; i < 30; ++i) w.put(item("k" + std::to_string(i), i));
  for (int i = 0; i < 30; i += 3) w.del(key("k" + std::to_string(i)));
  // Replays: every key again, with the "wrong" event names, twice.
  std::vector<model::Item> keys;
  for (int i = 0; i < 30; ++i) keys.push_back(key("k" + std::to_string(i)));
  w.records(keys, Event::kRemove);
  w.records(keys, Event::kInsert);
  Proc p(args(stream, "w1"));
  EXPECT_EQ(equal_within(30s), "") << p.log();
  ASSERT_TRUE(eventually([&] { return received(p) >= 100; }, 10s));
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(20s), 0);
}

TEST_F(ReplicateProcessTest, TurnoverSplitsChangesBetweenTwoReplicators) {
  auto stream = res_.stream(1);
  auto replica_after = res_.table(simple_schema(), "after");
  Writer w(primary_, stream);
  w.put(item("early", 1));
  std::this_thread::sleep_for(1500ms);
  auto at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::this_thread::sleep_for(1500ms);
  w.put(item("late", 1));
  auto before_args = args(stream, "w-before", {"--turnover-role", "BEFORE", "--turnover-at", std::to_string(at_ms)});
  Proc before(before_args);
  auto after_args = args(stream, "w-after", {"--turnover-role", "AFTER", "--turnover-at", std::to_string(at_ms)});
  after_args[4] = "us-east-1/" + replica_after;  // --replica
  after_args[8] = lease_table_ + "-after";        // its own lease table: a separate application
  res_.adopt_table(lease_table_ + "-after");
  Proc after(after_args);
  ASSERT_TRUE(eventually([&] { return received(before) >= 2 && received(after) >= 2; }, 30s)) << before.log();
  auto b = scan_all(*db_, replica_);
  auto a = scan_all(*db_, replica_after);
  EXPECT_EQ(b.size(), 1u);
  EXPECT_EQ(b.count(R"({"id":{"S":"early"}})"), 1u);
  EXPECT_EQ(a.size(), 1u);
  EXPECT_EQ(a.count(R"({"id":{"S":"late"}})"), 1u);
  EXPECT_EQ(metric(before, "dynarep_replicate_records_total", "outcome=\"skipped\""), 1);
  before.signal(SIGTERM);
  after.signal(SIGTERM);
  EXPECT_EQ(before.wait(20s), 0);
  EXPECT_EQ(after.wait(20s), 0);
}

TEST_F(ReplicateProcessTest, UsageErrors) {
  Proc p({"replicate", "--replica", "us-east-1/" + replica_});
  EXPECT_EQ(p.wait(10s), 2) << p.log();
  EXPECT_NE(p.log().find("--stream or --table-stream is required"), std::string::npos) << p.log();
  Proc q(args("s", "w", {}, "10"));
  EXPECT_EQ(q.wait(10s), 2) << q.log();
  Proc r({"replicate", "--primary", "us-east-1/" + primary_, "--replica", "us-east-1/" + replica_, "--stream",
          "no-such-stream-here"});
  EXPECT_EQ(r.wait(20s), 3) << r.log();
  EXPECT_FALSE(db_->describe_table("dynarep-leases-no-such-stream-here").ok()) << "no lease table for a missing stream";
}

// `dynarep status` on a live run: two workers over four shards (healthy, exit 0), one killed
// (its shards shown without a live owner until the other takes them over), a dead letter
// counted, then every worker gone (exit 1, one line per shard).
TEST_F(ReplicateProcessTest, StatusFollowsALiveRunAsAHealthCheck) {
  auto stream = res_.stream(4);
  auto status = [&](std::vector<std::string> extra = {}) {
    std::vector<std::string> a{"status", "--lease-table", lease_table_, "--stream", stream, "--lease-duration", "2s",
                               "--dead-letter", dl_dir_};
    a.insert(a.end(), extra.begin(), extra.end());
    return testing::run_dynarep(a);
  };
  auto w1 = std::make_unique<Proc>(args(stream, "w1"));
  auto w2 = std::make_unique<Proc>(args(stream, "w2"));
  testing::ProcessResult r;
  ASSERT_TRUE(eventually(
      [&] {
        r = status();
        return r.exit_code == 0 && r.out.find("  w1: ") != std::string::npos && r.out.find("  w2: ") != std::string::npos;
      },
      30s, 300ms))
      << r.out << r.err;
  EXPECT_NE(r.out.find("healthy"), std::string::npos) << r.out;
  // The daemon's own endpoints next to /metrics: alive, and ready (it reads the lease table).
  {
    http::Client c;
    for (const char* path : {"/healthz", "/readyz"}) {
      http::Request req;
      req.url = "http://127.0.0.1:" + std::to_string(w2->metrics_port()) + path;
      auto got = c.send(req);
      ASSERT_TRUE(got.ok()) << got.error().describe();
      EXPECT_EQ(got->status, 200) << path << ": " << got->body;
    }
  }

  // w2 is paused (SIGSTOP) while w1 dies: otherwise w2 may take w1's shards over in the same
  // instant their leases age past the lease duration, and a status run (a process start under
  // load) can miss that window entirely. Paused, w2 cannot steal, so the unowned state lasts
  // until status has shown it.
  w2->signal(SIGSTOP);
  w1->signal(SIGKILL);
  ASSERT_TRUE(w1->wait(10s));
  ASSERT_TRUE(eventually(
      [&] {
        r = status({"--json"});
        return r.exit_code == 1 && r.out.find("has had no live owner") != std::string::npos &&
               r.out.find("last held by w1") != std::string::npos;
      },
      30s, 200ms))
      << "w1's shards were never shown without a live owner: " << r.out << r.err;
  w2->signal(SIGCONT);
  ASSERT_TRUE(eventually(
      [&] {
        r = status({"--json"});
        return r.exit_code == 0 && r.out.find("\"w1\"") == std::string::npos;  // all of w1's shards taken over
      },
      30s, 200ms))
      << r.out << r.err;
  EXPECT_NE(r.out.find("\"healthy\":true"), std::string::npos) << r.out;

  Writer w(primary_, stream);
  w.put_raw("{not json", "pk");
  ASSERT_TRUE(eventually([&] { return dead_letter_lines() == 1; }, 20s));
  r = status();
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("dead letters waiting: 1"), std::string::npos) << r.out;

  w2->signal(SIGKILL);
  ASSERT_TRUE(w2->wait(10s));
  auto unowned_lines = [](const std::string& out) {
    size_t lines = 0;
    for (size_t at = out.find("has had no live owner"); at != std::string::npos;
         at = out.find("has had no live owner", at + 1)) {
      ++lines;
    }
    return lines;
  };
  // Each of w2's leases shows up once its own last write is a lease duration old.
  ASSERT_TRUE(eventually(
      [&] {
        r = status();
        return r.exit_code == 1 && unowned_lines(r.out) == 4;
      },
      15s, 300ms))
      << r.out;
  // Usage errors are exit 2 and name the option.
  auto bad = testing::run_dynarep({"status", "--lease-table", lease_table_, "--max-lag", "soon"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--max-lag"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace dynarep::repltest
