// LeaseCoordinator with a ManualClock and an in-memory store: expiry as the observer sees it,
// balancing between workers, stealing, lost leases, ambiguous writes, releases.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <type_traits>

#include "core/clock.h"
#include "lease/coordinator.h"
#include "lease/memory_lease_store.h"
#include "lease/sync_point.h"

namespace dynarep::lease {
namespace {

using namespace std::chrono_literals;
using Op = InMemoryLeaseStore::Op;

kinesis::ShardId sid(const char* id) { return kinesis::ShardId(id); }

// Shards are typed at the coordinator: a shard id and a checkpoint value (both text before)
// cannot be swapped, nor a bare string passed for a shard.
template <class Shard>
concept CheckpointsWith = requires(LeaseCoordinator& c, const Shard& shard, const std::string& value) {
  c.checkpoint(shard, value);
};
static_assert(CheckpointsWith<kinesis::ShardId>);
static_assert(!CheckpointsWith<std::string>);
static_assert(!std::is_invocable_v<decltype(&LeaseCoordinator::holds), const LeaseCoordinator&, std::string>);

class CoordinatorTest : public ::testing::Test {
 protected:
  void add_shards(int n) {
    for (int i = 0; i < n; ++i) {
      Lease l;
      l.key = "shard-" + std::to_string(i);
      ASSERT_TRUE(*store_.create(l));
    }
  }
  LeaseCoordinator& worker(const std::string& id) {
    auto& w = workers_[id];
    if (!w) {
      CoordinatorOptions o;
      o.worker_id = id;
      o.lease_duration = 10s;
      o.seed = 42;
      w = std::make_unique<LeaseCoordinator>(store_, clock_, o);
    }
    return *w;
  }
  std::vector<std::string> take(const std::string& id) {
    auto r = worker(id).take_leases();
    EXPECT_TRUE(r.ok()) << r.error().describe();
    std::vector<std::string> keys;
    if (r.ok()) {
      for (const auto& t : *r) keys.push_back(t.lease.key);
    }
    return keys;
  }
  // A second process given the same --worker-id as `id` (its own owner token).
  std::unique_ptr<LeaseCoordinator> twin_of(const std::string& id) {
    CoordinatorOptions o;
    o.worker_id = id;
    o.lease_duration = 10s;
    return std::make_unique<LeaseCoordinator>(store_, clock_, o);
  }
  std::map<std::string, int> owners() {
    std::map<std::string, int> out;
    auto leases = store_.list();  // named: a range-for over *temporary would dangle
    for (const auto& l : *leases) {
      if (l.owned()) out[l.owner]++;
    }
    return out;
  }

  ManualClock clock_;
  InMemoryLeaseStore store_;
  std::map<std::string, std::unique_ptr<LeaseCoordinator>> workers_;
};

TEST_F(CoordinatorTest, UnownedLeasesAreTakenAtOnce) {
  add_shards(3);
  EXPECT_EQ(take("a").size(), 3u);
  EXPECT_EQ(worker("a").held_shards().size(), 3u);
  auto leases = store_.list();
  ASSERT_TRUE(leases.ok());
  for (const auto& l : *leases) {
    EXPECT_EQ(l.owner, "a");
    EXPECT_EQ(l.counter, 1);
    EXPECT_EQ(l.owner_switches_since_checkpoint, 1);
  }
}

TEST_F(CoordinatorTest, OwnedLeaseExpiresOnlyAfterItsCounterStoodStillForTheDurationHere) {
  add_shards(1);
  ASSERT_EQ(take("a").size(), 1u);
  // b sees the lease owned for the first time: not expired, whatever the table says.
  EXPECT_TRUE(take("b").empty());
  clock_.advance(9s);
  EXPECT_TRUE(take("b").empty());
  // a renews: the counter moves. b notices at its next look and starts counting from there.
  EXPECT_TRUE(worker("a").renew_leases().empty());
  clock_.advance(2s);
  EXPECT_TRUE(take("b").empty()) << "11 s since b first saw it, but the counter moved";
  clock_.advance(9s);
  EXPECT_TRUE(take("b").empty()) << "b must judge from when IT saw the counter change";
  clock_.advance(1s);
  // 10 s since b saw the counter change: expired.
  EXPECT_EQ(take("b").size(), 1u);
  EXPECT_EQ(store_.peek("shard-0")->owner, "b");
  EXPECT_EQ(store_.peek("shard-0")->owner_switches_since_checkpoint, 2);
  // a finds out at its next renewal: lost, an outcome, not an exception.
  auto lost = worker("a").renew_leases();
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_FALSE(worker("a").holds(sid("shard-0")));
}

TEST_F(CoordinatorTest, TwoWorkersSplitFourLeasesEvenly) {
  add_shards(4);
  EXPECT_EQ(take("a").size(), 4u);  // alone at first
  // b joins; nothing is free, a holds 4, b 0: b steals one per cycle until 2/2.
  for (int cycle = 0; cycle < 5; ++cycle) {
    auto stolen = take("b");
    EXPECT_LE(stolen.size(), 1u) << "at most one lease stolen per cycle";
    worker("a").renew_leases();
    clock_.advance(1s);
  }
  auto o = owners();
  EXPECT_EQ(o["a"], 2);
  EXPECT_EQ(o["b"], 2);
  EXPECT_EQ(worker("a").held_shards().size(), 2u);
  EXPECT_EQ(worker("b").held_shards().size(), 2u);
}

TEST_F(CoordinatorTest, ThreeWorkersFourLeasesConvergeWithoutPingPong) {
  add_shards(4);
  std::map<std::string, int64_t> counters_before;
  for (int cycle = 0; cycle < 20; ++cycle) {
    for (const char* w : {"a", "b", "c"}) {
      take(w);
      worker(w).renew_leases();
    }
    clock_.advance(2s);
  }
  auto o = owners();
  std::vector<int> counts{o["a"], o["b"], o["c"]};
  std::sort(counts.begin(), counts.end());
  EXPECT_EQ(counts, (std::vector<int>{1, 1, 2}));
  // Stable: more cycles move nothing.
  auto before = *store_.list();
  for (int cycle = 0; cycle < 10; ++cycle) {
    for (const char* w : {"a", "b", "c"}) {
      EXPECT_TRUE(take(w).empty());
      EXPECT_TRUE(worker(w).renew_leases().empty());
    }
    clock_.advance(2s);
  }
  auto after = *store_.list();
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(before[i].owner, after[i].owner);
}

TEST_F(CoordinatorTest, DeadWorkersLeasesMoveAfterTheLeaseDuration) {
  add_shards(4);
  take("a");
  for (int i = 0; i < 3; ++i) {
    take("b");
    worker("a").renew_leases();
    clock_.advance(1s);
  }
  ASSERT_EQ(owners()["b"], 2);
  // a dies (no more renewals). b keeps renewing and looking.
  int taken_at = -1;
  for (int s = 0; s < 15; ++s) {
    worker("b").renew_leases();
    if (!take("b").empty() && taken_at < 0) taken_at = s;
    clock_.advance(1s);
  }
  EXPECT_GE(taken_at, 9) << "taken before the lease duration passed";
  EXPECT_EQ(owners()["b"], 4);
}

TEST_F(CoordinatorTest, CheckpointAfterAStealIsRefused) {
  add_shards(1);
  take("a");
  ASSERT_TRUE(*worker("a").checkpoint(sid("shard-0"), "100"));
  // b takes the lease (expired in b's eyes).
  take("b");
  clock_.advance(11s);
  ASSERT_EQ(take("b").size(), 1u);
  auto flag = worker("a").lost_flag(sid("shard-0"));
  ASSERT_TRUE(flag);
  auto r = worker("a").checkpoint(sid("shard-0"), "200");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r) << "a lost the lease: its checkpoint must not be written";
  EXPECT_TRUE(flag->load());
  EXPECT_EQ(store_.peek("shard-0")->checkpoint, "100");
  EXPECT_FALSE(worker("a").holds(sid("shard-0")));
  // The new owner checkpoints normally and resets the owner-switch count.
  ASSERT_TRUE(*worker("b").checkpoint(sid("shard-0"), "300"));
  EXPECT_EQ(store_.peek("shard-0")->owner_switches_since_checkpoint, 0);
}

TEST_F(CoordinatorTest, RenewalsFailingForTheLeaseDurationDropTheLease) {
  add_shards(1);
  take("a");
  store_.fail_next(Op::kRenew, 100, transient("network down"));
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(worker("a").renew_leases().empty()) << "not yet: only " << i * 3 << " s";
    clock_.advance(3s);
  }
  clock_.advance(1s);  // 10 s since the take
  auto lost = worker("a").renew_leases();
  EXPECT_EQ(lost.size(), 1u);
  EXPECT_FALSE(worker("a").holds(sid("shard-0")));
}

TEST_F(CoordinatorTest, CheckpointErrorIsRetryableNotALoss) {
  add_shards(1);
  take("a");
  store_.fail_next(Op::kCheckpoint, 1, transient("throttled"));
  auto r = worker("a").checkpoint(sid("shard-0"), "5");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().retryable());
  EXPECT_TRUE(worker("a").holds(sid("shard-0")));
  EXPECT_TRUE(*worker("a").checkpoint(sid("shard-0"), "5"));
}

TEST_F(CoordinatorTest, OwnWriteAppliedButAnsweredAsConflictIsRecognised) {
  add_shards(1);
  take("a");
  // The answer was lost and the retry failed its condition: the write is there all the same.
  store_.ambiguous_next(Op::kCheckpoint, 1);
  auto r = worker("a").checkpoint(sid("shard-0"), "77");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  EXPECT_TRUE(worker("a").holds(sid("shard-0")));
  store_.ambiguous_next(Op::kRenew, 1);
  EXPECT_TRUE(worker("a").renew_leases().empty());
  // The coordinator's counter caught up: the next write works.
  EXPECT_TRUE(*worker("a").checkpoint(sid("shard-0"), "78"));
  EXPECT_EQ(store_.peek("shard-0")->checkpoint, "78");
}

TEST_F(CoordinatorTest, ReleasedLeaseIsFreeAtOnce) {
  add_shards(2);
  take("a");
  take("b");  // nothing free, a holds 2, b 0: steals one
  clock_.advance(1s);
  worker("a").renew_leases();
  ASSERT_EQ(worker("a").held_shards().size(), 1u);
  auto mine = worker("a").held_shards()[0];
  ASSERT_TRUE(*worker("a").release(mine));
  EXPECT_FALSE(store_.peek(mine.str())->owned());
  auto got = take("b");  // no waiting for expiry
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], mine.str());
}

TEST_F(CoordinatorTest, ChildIsTakenOnlyAfterItsParentsFinish) {
  Lease p;
  p.key = "parent";
  ASSERT_TRUE(*store_.create(p));
  Lease c;
  c.key = "child";
  c.parent_shard_ids = {"parent"};
  ASSERT_TRUE(*store_.create(c));
  auto first = take("a");
  ASSERT_EQ(first, std::vector<std::string>{"parent"});
  EXPECT_TRUE(take("a").empty());
  ASSERT_TRUE(*worker("a").checkpoint(sid("parent"), "SHARD_END"));
  ASSERT_TRUE(*worker("a").release(sid("parent")));
  EXPECT_EQ(take("a"), std::vector<std::string>{"child"});
}

TEST_F(CoordinatorTest, LeasesOfAnEarlierProcessWithOurIdAreTakenOnceExpired) {
  add_shards(2);
  take("a");
  workers_.erase("a");  // the process restarts (after a crash) with the same worker id
  // A new process cannot tell its dead predecessor from a live second process given the same
  // id: it waits for the leases to expire like any other worker.
  EXPECT_TRUE(take("a").empty());
  clock_.advance(10s);
  EXPECT_EQ(take("a").size(), 2u);
  EXPECT_FALSE(worker("a").id_conflict());
}

TEST_F(CoordinatorTest, ANewcomerWithALiveProcesssWorkerIdStandsDown) {
  add_shards(2);
  take("a");
  auto twin_p = twin_of("a");  // a second process given the same --worker-id
  LeaseCoordinator& twin = *twin_p;
  auto first = twin.take_leases();
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->empty()) << "the first process's live leases are not taken at once";
  for (int i = 0; i < 4; ++i) {
    clock_.advance(4s);
    EXPECT_TRUE(worker("a").renew_leases().empty());
    auto r = twin.take_leases();
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->empty());
  }
  ASSERT_TRUE(twin.id_conflict()) << "the newcomer sees leases of its id renewed by another process";
  EXPECT_NE(twin.id_conflict()->find("another live process uses worker id a"), std::string::npos)
      << *twin.id_conflict();
  EXPECT_FALSE(worker("a").id_conflict());
  EXPECT_EQ(worker("a").held_shards().size(), 2u);
}

TEST_F(CoordinatorTest, APausedProcessWhoseIdWasReusedStandsDownOnResuming) {
  add_shards(1);
  take("a");
  auto twin_p = twin_of("a");
  LeaseCoordinator& twin = *twin_p;
  EXPECT_TRUE(twin.take_leases()->empty());
  clock_.advance(11s);  // "a" is paused (SIGSTOP): no renewals
  ASSERT_EQ(twin.take_leases()->size(), 1u);
  // "a" resumes. Its renewal finds the counter moved, and the read-back shows its own worker id:
  // before owner tokens that passed for its own write, and both processes read the shard.
  auto lost = worker("a").renew_leases();
  EXPECT_EQ(lost, std::vector<kinesis::ShardId>{sid("shard-0")});
  EXPECT_FALSE(worker("a").holds(sid("shard-0")));
  EXPECT_TRUE(worker("a").id_conflict());
  EXPECT_TRUE(twin.holds(sid("shard-0")));
  EXPECT_TRUE(*twin.checkpoint(sid("shard-0"), "9"));
}

TEST_F(CoordinatorTest, AnAmbiguousRenewalByASameIdProcessIsNotTakenForOurOwn) {
  add_shards(1);
  take("a");
  // Another process with our id takes the lease (counter+1, owner "a") before our renewal: the
  // renewal fails its condition, and the read-back shows counter+1 and owner "a" (what our own
  // applied-but-unanswered renewal would look like), but not our token.
  Lease cur = *store_.peek("shard-0");
  ASSERT_TRUE(*store_.take(cur, "a", "token-of-the-other-process"));
  auto lost = worker("a").renew_leases();
  EXPECT_EQ(lost, std::vector<kinesis::ShardId>{sid("shard-0")});
  EXPECT_FALSE(worker("a").holds(sid("shard-0")));
}

TEST_F(CoordinatorTest, WriteDeadlineIsTheLastRenewalPlusTheDurationLessAMargin) {
  add_shards(1);
  take("a");
  auto t0 = clock_.steady_now();
  auto d = worker("a").write_deadline(sid("shard-0"));
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, t0 + 9s);
  clock_.advance(5s);
  worker("a").renew_leases();
  EXPECT_EQ(*worker("a").write_deadline(sid("shard-0")), t0 + 14s);
  ASSERT_TRUE(*worker("a").release(sid("shard-0")));
  EXPECT_FALSE(worker("a").write_deadline(sid("shard-0")));
}

TEST_F(CoordinatorTest, ListingErrorIsReturned) {
  add_shards(1);
  store_.fail_next(Op::kList, 1, transient("boom"));
  EXPECT_FALSE(worker("a").take_leases().ok());
  EXPECT_EQ(take("a").size(), 1u);
}

TEST_F(CoordinatorTest, LostTakeRaceIsSkipped) {
  if (!sync::kEnabled) GTEST_SKIP() << "built without DYNAREP_TEST_HOOKS";
  add_shards(1);
  // Between a's listing and a's take, b takes the lease: a's conditional write fails, and the
  // read-back shows b's write, not a's own: skipped, not held.
  sync::ScopedHandler race(sync::kBeforeTake, [&](std::string_view shard) {
    Lease l = *store_.peek(std::string(shard));
    ASSERT_TRUE(*store_.take(l, "b", "token-b"));
  });
  EXPECT_TRUE(take("a").empty());
  EXPECT_FALSE(worker("a").holds(sid("shard-0")));
  EXPECT_EQ(store_.peek("shard-0")->owner, "b");
}

}  // namespace
}  // namespace dynarep::lease
