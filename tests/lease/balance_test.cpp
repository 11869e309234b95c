// The taker's decision (plan_take) as a pure function: targets, expired and unowned leases,
// stealing, resharding eligibility.
#include <gtest/gtest.h>

#include <algorithm>

#include "lease/detail/balance.h"

namespace dynarep::lease::detail {
namespace {

Lease L(std::string key, std::string owner = "", std::string checkpoint = "TRIM_HORIZON",
        std::vector<std::string> parents = {}) {
  Lease l;
  l.key = std::move(key);
  l.owner = std::move(owner);
  l.checkpoint = std::move(checkpoint);
  l.parent_shard_ids = std::move(parents);
  return l;
}

BalancePlan plan(const std::string& me, std::vector<Lease> leases, std::set<std::string> expired = {},
                 std::set<std::string> held = {}, int max_leases = 0) {
  BalanceInput in;
  in.me = me;
  in.leases = std::move(leases);
  in.expired = std::move(expired);
  in.held = std::move(held);
  in.max_leases = max_leases;
  std::mt19937_64 rng(7);
  return plan_take(in, rng);
}

TEST(BalanceTest, AloneTakesEveryUnownedLease) {
  auto p = plan("a", {L("s1"), L("s2"), L("s3"), L("s4")});
  EXPECT_EQ(p.take.size(), 4u);
  EXPECT_TRUE(p.steal.empty());
  EXPECT_EQ(p.workers, 1);
  EXPECT_EQ(p.target, 4);
}

TEST(BalanceTest, TargetIsCeilOfLeasesOverWorkers) {
  // b holds two live leases: 2 workers, 5 leases -> target 3; a takes the 3 free ones.
  auto p = plan("a", {L("s1", "b"), L("s2", "b"), L("s3"), L("s4"), L("s5")});
  EXPECT_EQ(p.workers, 2);
  EXPECT_EQ(p.target, 3);
  EXPECT_EQ(p.take.size(), 3u);
}

TEST(BalanceTest, TakesOnlyUpToTarget) {
  // 4 leases, b holds 1 live, 3 free: target 2 -> a takes 2 and leaves one for b.
  auto p = plan("a", {L("s1", "b"), L("s2"), L("s3"), L("s4")});
  EXPECT_EQ(p.target, 2);
  EXPECT_EQ(p.take.size(), 2u);
}

TEST(BalanceTest, ExpiredLeasesOfADeadWorkerAreTaken) {
  // c died: its leases are expired; c no longer counts as a worker.
  auto p = plan("a", {L("s1", "a"), L("s2", "b"), L("s3", "c"), L("s4", "c")}, {"s3", "s4"}, {"s1"});
  EXPECT_EQ(p.workers, 2);
  EXPECT_EQ(p.target, 2);
  ASSERT_EQ(p.take.size(), 1u);
  EXPECT_TRUE(p.take[0] == "s3" || p.take[0] == "s4");
}

TEST(BalanceTest, StealsOneFromTheMostLoadedWhenTwoApart) {
  auto p = plan("a", {L("s1", "b"), L("s2", "b"), L("s3", "b"), L("s4", "b"), L("s5", "c")});
  EXPECT_TRUE(p.take.empty());
  ASSERT_EQ(p.steal.size(), 1u);  // never more than one per cycle
  EXPECT_NE(p.steal[0], "s5");    // from b, the most loaded
}

TEST(BalanceTest, NoStealWhenOneApart) {
  // 2 / 1 / 1 is as even as four leases over three workers get.
  auto p = plan("a", {L("s1", "a"), L("s2", "b"), L("s3", "b"), L("s4", "c")}, {}, {"s1"});
  EXPECT_TRUE(p.take.empty());
  EXPECT_TRUE(p.steal.empty());
}

TEST(BalanceTest, NewWorkerStealsFromAtTarget) {
  // Four leases, a and b hold two each, c new: target 2, c has 0; b and a are 2 ahead: steal 1.
  auto p = plan("c", {L("s1", "a"), L("s2", "a"), L("s3", "b"), L("s4", "b")});
  ASSERT_EQ(p.steal.size(), 1u);
  EXPECT_TRUE(p.steal[0] == "s1" || p.steal[0] == "s2");  // ties: the smallest worker id
}

TEST(BalanceTest, OurOwnLeasesFromAPreviousRunComeFirst) {
  auto p = plan("a", {L("s1", "a"), L("s2"), L("s3", "b")});
  ASSERT_FALSE(p.take.empty());
  EXPECT_EQ(p.take[0], "s1");
}

TEST(BalanceTest, FinishedLeasesAndChildrenOfUnfinishedParentsAreNotInPlay) {
  auto p = plan("a", {L("p", "", "SHARD_END"), L("q", "b", "4960"), L("c1", "", "TRIM_HORIZON", {"p"}),
                      L("c2", "", "TRIM_HORIZON", {"p", "q"})});
  // p finished; q running (b); c1's parent finished -> in play; c2 waits for q.
  EXPECT_EQ(p.eligible, 2);
  ASSERT_EQ(p.take.size(), 1u);
  EXPECT_EQ(p.take[0], "c1");
}

TEST(BalanceTest, ParentWithoutLeaseCountsAsFinished) {
  auto p = plan("a", {L("c1", "", "TRIM_HORIZON", {"trimmed-away"})});
  ASSERT_EQ(p.take.size(), 1u);
}

TEST(BalanceTest, MaxLeasesCapsTheTarget) {
  auto p = plan("a", {L("s1"), L("s2"), L("s3"), L("s4")}, {}, {}, 1);
  EXPECT_EQ(p.take.size(), 1u);
}

TEST(BalanceTest, HeldLeasesCountTowardsTarget) {
  auto p = plan("a", {L("s1", "a"), L("s2", "a"), L("s3")}, {}, {"s1", "s2"});
  EXPECT_EQ(p.mine, 2);
  EXPECT_EQ(p.take.size(), 1u);  // alone: target 3
}

}  // namespace
}  // namespace dynarep::lease::detail
