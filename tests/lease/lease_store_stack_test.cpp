// DynamoLeaseStore against dynalite: the conditional writes and what they leave in the table.
#include <gtest/gtest.h>

#include "lease/lease_store.h"
#include "replicate/test_harness.h"

namespace dynarep::lease {
namespace {

using repltest::ddb;

class LeaseStoreStackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::local_stack();
    table_ = testing::unique_name("leases");
    db_ = ddb();
    store_ = std::make_unique<DynamoLeaseStore>(*db_, table_);
    ASSERT_TRUE(store_->ensure_table().ok());
    res_.adopt_table(table_);
  }
  repltest::Resources res_;
  std::string table_;
  std::shared_ptr<dynamodb::Client> db_;
  std::unique_ptr<DynamoLeaseStore> store_;
};

TEST_F(LeaseStoreStackTest, EnsureTableIsIdempotentAndOnDemand) {
  EXPECT_TRUE(store_->ensure_table().ok());
  auto d = db_->describe_table(table_);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->key_schema.hash_name, "leaseKey");
  EXPECT_EQ(d->billing_mode, "PAY_PER_REQUEST");
}

TEST_F(LeaseStoreStackTest, RefusesATableThatIsNotALeaseTable) {
  repltest::Resources res;
  auto other = res.table(repltest::simple_schema());
  DynamoLeaseStore s(*db_, other);
  EXPECT_FALSE(s.ensure_table().ok());
}

TEST_F(LeaseStoreStackTest, ConditionalWritesFollowTheCounterAndOwner) {
  Lease l;
  l.key = "shardId-000000000002";
  l.parent_shard_ids = {"shardId-000000000001", "shardId-000000000000"};
  ASSERT_TRUE(*store_->create(l));
  EXPECT_FALSE(*store_->create(l)) << "create is conditional on absence";

  auto got = store_->get(l.key);
  ASSERT_TRUE(got.ok() && got->has_value());
  Lease a = **got;
  EXPECT_EQ(a.counter, 0);
  EXPECT_EQ(a.checkpoint, "TRIM_HORIZON");
  EXPECT_FALSE(a.owned());
  EXPECT_EQ(a.parent_shard_ids, (std::vector<std::string>{"shardId-000000000000", "shardId-000000000001"}));

  Lease stale = a;
  ASSERT_TRUE(*store_->take(a, "w1", "token-w1"));
  EXPECT_EQ(a.owner, "w1");
  EXPECT_EQ(a.counter, 1);
  EXPECT_EQ(a.owner_switches_since_checkpoint, 1);
  EXPECT_FALSE(*store_->take(stale, "w2", "token-w2")) << "taking with an old counter fails";

  ASSERT_TRUE(*store_->renew(a));
  EXPECT_EQ(a.counter, 2);
  ASSERT_TRUE(*store_->checkpoint(a, "49590338271490256608559692538361571095921575989136588898"));
  EXPECT_EQ(a.counter, 3);
  EXPECT_EQ(a.owner_switches_since_checkpoint, 0);
  EXPECT_TRUE(a.has_sequence_checkpoint());

  // Someone steals it: every write of the old owner now fails its condition.
  Lease b = a;
  ASSERT_TRUE(*store_->take(b, "w2", "token-w2"));
  EXPECT_FALSE(*store_->renew(a));
  EXPECT_FALSE(*store_->checkpoint(a, "1"));
  EXPECT_FALSE(*store_->evict(a));
  ASSERT_TRUE(*store_->evict(b));
  EXPECT_FALSE(b.owned());

  auto all = store_->list();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].checkpoint, "49590338271490256608559692538361571095921575989136588898");
  EXPECT_EQ((*all)[0].counter, 5);
}

TEST_F(LeaseStoreStackTest, AtTimestampLeaseKeepsItsStart) {
  Lease l;
  l.key = "s";
  l.checkpoint = "AT_TIMESTAMP";
  l.start_timestamp_ms = 1700000000123;
  ASSERT_TRUE(*store_->create(l));
  auto got = *store_->get("s");
  ASSERT_TRUE(got && got->start_timestamp_ms);
  EXPECT_EQ(*got->start_timestamp_ms, 1700000000123);
  Lease a = *got;
  ASSERT_TRUE(*store_->take(a, "w", "token-w"));
  ASSERT_TRUE(*store_->checkpoint(a, "5"));
  EXPECT_FALSE((*store_->get("s"))->start_timestamp_ms.has_value());
}

}  // namespace
}  // namespace dynarep::lease
