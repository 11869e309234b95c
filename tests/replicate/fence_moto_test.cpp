// The lease fence against moto (which, unlike dynalite, has TransactWriteItems): a replica write
// sent by a worker whose lease was taken while the write was on its way is refused by the
// server, however late it lands; the owner's own writes go through, in transactions of 99.
#include <gtest/gtest.h>

#include <atomic>

#include "lease/lease_store.h"
#include "replicate/replicator.h"
#include "replicate/test_harness.h"
#include "support/moto.h"

namespace dynarep::replicate {
namespace {

using namespace std::chrono_literals;
using repltest::item;
using repltest::key;
using repltest::keys_only;
using Event = stream::ChangeRecord::Event;

class FenceMotoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::local_stack();  // credentials in the environment; moto takes any
    const std::string& url = testing::moto_endpoint();
    if (url.empty()) GTEST_SKIP() << "moto_server is not installed (scripts/setup.sh installs it with pip)";
    db_ = repltest::ddb(url);
    primary_ = testing::unique_name("prim");
    replica_ = testing::unique_name("repl");
    leases_ = testing::unique_name("leases");
    ASSERT_TRUE(db_->create_table(primary_, repltest::simple_schema()).ok());
    ASSERT_TRUE(db_->create_table(replica_, repltest::simple_schema()).ok());
    store_ = std::make_unique<lease::DynamoLeaseStore>(*db_, leases_);
    ASSERT_TRUE(store_->ensure_table().ok());
    lease::Lease l;
    l.key = "shardId-000000000000";
    ASSERT_TRUE(*store_->create(l));
  }
  // Takes the shard's lease for `owner`; returns the batch context a consumer would give.
  lease::ShardBatch take(const std::string& owner) {
    auto cur = store_->get("shardId-000000000000");
    EXPECT_TRUE(cur.ok() && cur->has_value());
    lease::Lease l = **cur;
    EXPECT_TRUE(*store_->take(l, owner, "token-" + owner));
    lease::ShardBatch b;
    b.shard_id = l.shard();
    b.lease_owner = owner;
    b.lease_owner_token = "token-" + owner;
    b.write_deadline = [] { return std::chrono::steady_clock::now() + 1h; };  // the lease looks fine here
    return b;
  }
  ReplicatorOptions options() {
    ReplicatorOptions o;
    o.primary = db_;
    o.primary_table = primary_;
    o.replica = db_;
    o.replica_table = replica_;
    o.key_schema = repltest::simple_schema();
    o.fence_table = leases_;
    return o;
  }
  std::string v_on_replica(const std::string& id) {
    auto got = db_->get_item(replica_, key(id), true);
    if (!got.ok() || !got->has_value()) return "absent";
    return (**got).find("v")->as_n().text();
  }

  std::shared_ptr<dynamodb::Client> db_;
  std::string primary_, replica_, leases_;
  std::unique_ptr<lease::DynamoLeaseStore> store_;
};

TEST_F(FenceMotoTest, TransactionsAreDetected) {
  auto yes = transactions_supported(*db_, leases_);
  ASSERT_TRUE(yes.ok()) << yes.error().describe();
  EXPECT_TRUE(*yes);
}

// W1 read v1 and sent its write in time; the write is held up in the network (or W1 is frozen
// just after its last deadline check) while W2 takes the shard, the primary moves to v2 and W2
// writes v2. W1's write then reaches DynamoDB: the fence refuses it, the replica keeps v2.
TEST_F(FenceMotoTest, AWriteLandingAfterTheLeaseMovedIsRefusedByTheServer) {
  ASSERT_TRUE(db_->put_item(primary_, item("a", 1)).ok());
  lease::ShardBatch w1_batch = take("w1");
  std::atomic<int> asked{0};
  auto w1_deadline = w1_batch.write_deadline;
  w1_batch.write_deadline = [&]() -> std::optional<std::chrono::steady_clock::time_point> {
    auto d = w1_deadline();
    if (asked++ == 0) {
      // After W1's check, before its request is applied: the shard moves on without it.
      lease::ShardBatch w2_batch = take("w2");
      EXPECT_TRUE(db_->put_item(primary_, item("a", 2)).ok());
      Replicator w2(options());
      auto r = w2.apply({keys_only(key("a"), Event::kModify, 2)}, &w2_batch);
      EXPECT_TRUE(r.ok()) << r.error().describe();
    }
    return d;
  };
  Replicator w1(options());
  auto res = w1.apply({keys_only(key("a"), Event::kModify, 1)}, &w1_batch);
  ASSERT_FALSE(res.ok()) << "the stale owner's write went through";
  EXPECT_EQ(res.error().code, "LeaseLost") << res.error().describe();
  EXPECT_EQ(w1.metrics().fenced_writes_refused.load(), 1);
  EXPECT_EQ(w1.metrics().dead_lettered.load(), 0);
  EXPECT_EQ(v_on_replica("a"), "2") << "the replica went back to the stale owner's v1";
}

TEST_F(FenceMotoTest, TheOwnersWritesGoThroughInTransactionsOf99) {
  std::vector<ChangeInput> in;
  for (int i = 0; i < 150; ++i) {  // two transactions (99 writes + the fence each)
    std::string id = "k" + std::to_string(i);
    ASSERT_TRUE(db_->put_item(primary_, item(id, i)).ok());
    in.push_back(keys_only(key(id), Event::kInsert, i));
  }
  // Deleted on the primary: the replica gets a delete (of an absent item: fine).
  in.push_back(keys_only(key("gone"), Event::kRemove, 200));
  lease::ShardBatch batch = take("w1");
  Replicator r(options());
  auto res = r.apply(in, &batch);
  ASSERT_TRUE(res.ok()) << res.error().describe();
  EXPECT_EQ(res->puts, 150);
  EXPECT_EQ(res->deletes, 1);
  EXPECT_EQ(v_on_replica("k0"), "0");
  EXPECT_EQ(v_on_replica("k149"), "149");
  EXPECT_EQ(r.metrics().fenced_writes_refused.load(), 0);
}

}  // namespace
}  // namespace dynarep::replicate
