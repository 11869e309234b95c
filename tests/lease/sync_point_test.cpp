#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lease/sync_point.h"

namespace dynarep::lease::sync {
namespace {

// A build without hooks (Release) must not be made to kill itself by its environment.
TEST(SyncPointTest, BuildWithoutHooksRefusesEverySpec) {
  if (kEnabled) GTEST_SKIP() << "built with DYNAREP_TEST_HOOKS";
  EXPECT_FALSE(install("worker.process.after=kill").ok());
  EXPECT_FALSE(install("worker.process.after=log").ok());
}

TEST(SyncPointTest, HandlerSeesTheShard) {
  if (!kEnabled) GTEST_SKIP() << "built without DYNAREP_TEST_HOOKS";
  std::vector<std::string> seen;
  {
    ScopedHandler h(kAfterCheckpoint, [&](std::string_view shard) { seen.emplace_back(shard); });
    hit(kAfterCheckpoint, "shard-1");
    hit(kBeforeCheckpoint, "shard-2");  // another point: nothing
  }
  hit(kAfterCheckpoint, "shard-3");  // cleared
  EXPECT_EQ(seen, std::vector<std::string>{"shard-1"});
}

TEST(SyncPointTest, SpecsAreChecked) {
  if (!kEnabled) GTEST_SKIP() << "built without DYNAREP_TEST_HOOKS";
  EXPECT_TRUE(install("worker.process.after=log,lease.renew.before=sleep:1").ok());
  hit("worker.process.after", "s");
  hit("lease.renew.before", "s");
  EXPECT_FALSE(install("nonsense").ok());
  EXPECT_FALSE(install("p=explode").ok());
  EXPECT_FALSE(install("p=kill@0").ok());
  EXPECT_FALSE(install("p=sleep:x").ok());
  clear_all();
}

TEST(SyncPointTest, NthHitOnly) {
  if (!kEnabled) GTEST_SKIP() << "built without DYNAREP_TEST_HOOKS";
  ASSERT_TRUE(install("x.point=log@2").ok());
  ::testing::internal::CaptureStderr();
  hit("x.point", "a");
  hit("x.point", "b");
  hit("x.point", "c");
  std::string err = ::testing::internal::GetCapturedStderr();
  clear_all();
  EXPECT_EQ(err, "sync point x.point (shard b, hit 2): log\n");
}

TEST(SyncPointTest, KillActionKillsTheProcess) {
  if (!kEnabled) GTEST_SKIP() << "built without DYNAREP_TEST_HOOKS";
  EXPECT_EXIT(
      {
        (void)install("t.kill=kill@2");
        hit("t.kill", "s");
        hit("t.kill", "s");
        std::exit(0);
      },
      ::testing::KilledBySignal(SIGKILL), "");
}

}  // namespace
}  // namespace dynarep::lease::sync
