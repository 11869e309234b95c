// lease_status over an in-memory lease table: liveness by the owner's last write, parents and
// children, finished shards out of play, problems one line each, both renderings.
#include <gtest/gtest.h>

#include "lease/memory_lease_store.h"
#include "replicate/status.h"

namespace dynarep::replicate {
namespace {

using namespace std::chrono_literals;

TEST(StatusTest, LivenessLineageAndProblems) {
  lease::InMemoryLeaseStore store;
  auto add = [&](const std::string& key, std::vector<std::string> parents = {}) {
    lease::Lease l;
    l.key = key;
    l.parent_shard_ids = std::move(parents);
    ASSERT_TRUE(*store.create(l));
  };
  add("p");
  add("c1", {"p"});
  add("c2", {"p"});
  add("q");
  add("r");
  lease::Lease p = *store.peek("p");
  ASSERT_TRUE(*store.take(p, "w1", "t1"));
  lease::Lease q = *store.peek("q");
  ASSERT_TRUE(*store.take(q, "w1", "t1"));
  lease::Lease r = *store.peek("r");
  ASSERT_TRUE(*store.take(r, "w2", "t2"));
  const auto now = std::chrono::system_clock::now();
  StatusOptions opt;
  opt.lease_duration = 10s;

  auto healthy = lease_status(store, opt, now);
  ASSERT_TRUE(healthy.ok());
  EXPECT_TRUE(healthy->healthy()) << render_status_text(*healthy);
  EXPECT_EQ(healthy->workers.at("w1"), (std::vector<std::string>{"p", "q"}));
  for (const auto& s : healthy->shards) {
    if (s.shard == "c1") {
      EXPECT_TRUE(s.waiting) << "a child waits for its unfinished parent";
    }
    if (s.shard == "p") {
      EXPECT_EQ(s.children, (std::vector<std::string>{"c1", "c2"}));
    }
  }

  // 30 s later nobody renewed: every shard in play has a problem; the waiting children do not.
  ASSERT_TRUE(*store.checkpoint(p, "SHARD_END"));  // p finished: c1, c2 now in play, unowned
  auto late = lease_status(store, opt, now + 30s);
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(late->healthy());
  std::string text = render_status_text(*late);
  EXPECT_NE(text.find("shard c1 has no owner"), std::string::npos) << text;
  EXPECT_NE(text.find("shard q has had no live owner for 30"), std::string::npos) << text;
  EXPECT_NE(text.find("shard r has had no live owner"), std::string::npos) << text;
  EXPECT_EQ(text.find("shard p "), std::string::npos) << "a finished shard is no problem\n" << text;
  EXPECT_EQ(late->problems.size(), 4u) << text;
  std::string json = render_status_json(*late);
  EXPECT_EQ(json.rfind("{\"healthy\":false,", 0), 0u) << json;
  EXPECT_NE(json.find("\"shard\":\"c2\",\"owner\":\"\",\"live\":false"), std::string::npos) << json;
}

TEST(StatusTest, AnEmptyLeaseTableIsAProblem) {
  lease::InMemoryLeaseStore store;
  auto r = lease_status(store, {}, std::chrono::system_clock::now());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->problems.size(), 1u);
  EXPECT_NE(r->problems[0].find("no leases"), std::string::npos);
}

}  // namespace
}  // namespace dynarep::replicate
