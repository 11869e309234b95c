// The incremental backup's S3 fence against moto (whose S3 honours If-Match / If-None-Match on
// PutObject and If-Match on DeleteObject, where s3rver ignores them): a worker that looked at an
// object, passed its write-deadline check and was then paused (or whose request was held up in
// the network) while the shard's next owner wrote a newer version must not replace it when its
// write finally lands. Each race is played in-process at the exact moment: the stale worker's
// lease check (ShardBatch::write_deadline), which comes after its HEAD and before its write.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>

#include "backup/history.h"
#include "backup/incremental.h"
#include "model/codec.h"
#include "replicate/test_harness.h"
#include "s3/client.h"
#include "support/moto.h"
#include "support/stack.h"

namespace dynarep::backup {
namespace {

using namespace std::chrono_literals;
using repltest::item;
using repltest::key;
using repltest::keys_only;
using Event = stream::ChangeRecord::Event;
using Fence = IncrementalOptions::Fence;

class IncrementalFenceMotoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dynarep::testing::local_stack();  // credentials in the environment; moto takes any
    const std::string& url = dynarep::testing::moto_endpoint();
    if (url.empty()) GTEST_SKIP() << "moto_server is not installed (scripts/setup.sh installs it with pip)";
    db_ = repltest::ddb(url);
    s3_ = std::make_shared<s3::Client>(s3::Client::connect("us-east-1", url));
    bucket_ = dynarep::testing::unique_name("dr-fence");
    auto made = s3_->create_bucket(bucket_);
    ASSERT_TRUE(made.ok()) << made.error().describe();
    storage_ = std::make_unique<Storage>(s3_);
    primary_ = dynarep::testing::unique_name("prim");
    ASSERT_TRUE(db_->create_table(primary_, repltest::simple_schema()).ok());
    auto dest = aws::parse_object_location("s3://" + bucket_ + "/inc");
    ASSERT_TRUE(dest.ok());
    dir_ = incremental_table_dir(*dest, primary_);
  }

  IncrementalOptions options(Fence fence) {
    IncrementalOptions o;
    o.primary = db_.get();
    o.table = primary_;
    o.key_schema = repltest::simple_schema();
    o.storage = storage_.get();
    o.table_dir = dir_;
    o.fence = fence;
    o.conditional_delete = fence == Fence::kConditional;
    return o;
  }

  // A batch context whose lease looks fine at the first check; `at_first_check` runs there (the
  // stale worker has looked at the object and passed its check: the shard now moves on without
  // it). Every later check finds the lease gone, as the stale worker would once it wakes up.
  static lease::ShardBatch stale_batch(std::atomic<int>& checks, std::function<void()> at_first_check) {
    lease::ShardBatch b;
    b.shard_id = kinesis::ShardId("shardId-000000000000");
    b.write_deadline = [&checks, at_first_check]() -> std::optional<std::chrono::steady_clock::time_point> {
      if (checks++ == 0) {
        at_first_check();
        return std::chrono::steady_clock::now() + 1h;
      }
      return std::nullopt;
    };
    return b;
  }
  static lease::ShardBatch owner_batch() {
    lease::ShardBatch b;
    b.shard_id = kinesis::ShardId("shardId-000000000000");
    b.write_deadline = [] { return std::chrono::steady_clock::now() + 1h; };
    return b;
  }

  // The race on key "a": W1 applies `w1_record`; at its first lease check (it has looked at the
  // object) the primary's item becomes v2 and W2, the shard's next owner, applies `w2_record`;
  // then W1 goes on. Both with `fence`. Returns W1's result and its refused writes.
  std::pair<Status, int64_t> race(Fence fence, const ChangeInput& w1_record, const ChangeInput& w2_record) {
    std::atomic<int> checks{0};
    lease::ShardBatch w1_batch = stale_batch(checks, [&] {
      EXPECT_TRUE(db_->put_item(primary_, item("a", 2)).ok());
      IncrementalBackup w2(options(fence));
      lease::ShardBatch w2_batch = owner_batch();
      auto r = w2.apply({w2_record}, &w2_batch);
      EXPECT_TRUE(r.ok()) << r.error().describe();
    });
    IncrementalBackup w1(options(fence));
    Status res = w1.apply({w1_record}, &w1_batch);
    return {res, w1.stats().fenced_writes_refused.load()};
  }

  // The object of key `id`: its item's `v`, or "absent".
  std::string v_in_backup(const std::string& id) {
    auto body = storage_->read_all(child(dir_, incremental_object_name(key(id))));
    if (!body.ok()) return "absent";
    auto it = model::parse_item(*body);
    if (!it.ok()) return "unparsable";
    return it->find("v")->as_n().text();
  }

  std::shared_ptr<dynamodb::Client> db_;
  std::shared_ptr<s3::Client> s3_;
  std::unique_ptr<Storage> storage_;
  std::string bucket_, primary_;
  Location dir_;
};

TEST_F(IncrementalFenceMotoTest, ConditionalWritesAreDetected) {
  auto can = probe_conditional_writes(*storage_, dir_);
  ASSERT_TRUE(can.ok()) << can.error().describe();
  EXPECT_TRUE(can->put);
  EXPECT_TRUE(can->remove);
  IncrementalOptions o = options(Fence::kDeadline);
  auto line = choose_fence("auto", o);
  ASSERT_TRUE(line.ok()) << line.error().describe();
  EXPECT_EQ(o.fence, Fence::kConditional) << *line;
  EXPECT_TRUE(o.conditional_delete);
  // The probe leaves nothing behind.
  auto left = storage_->list(dir_, true);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
}

// W1 read v1 and looked at the object (absent); frozen after its deadline check, before its PUT
// lands, while W2 takes the shard, the primary moves to v2 and W2 writes v2. W1's PUT then
// arrives: S3 refuses it (the object is no longer absent), the backup keeps v2.
TEST_F(IncrementalFenceMotoTest, AStalePutLandingAfterTheNewOwnersIsRefused) {
  ASSERT_TRUE(db_->put_item(primary_, item("a", 1)).ok());
  auto [res, refused] =
      race(Fence::kConditional, keys_only(key("a"), Event::kModify, 1), keys_only(key("a"), Event::kModify, 2));
  ASSERT_FALSE(res.ok()) << "the stale worker's PUT went through";
  EXPECT_EQ(res.error().code, "LeaseLost") << res.error().describe();
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(v_in_backup("a"), "2") << "the backup went back to the stale worker's v1";
}

// The same race with the write deadline alone: the late PUT wins and the object is older than
// the table, with nothing to ever correct it. (The window the fence closes; if this stopped
// happening the test above would prove nothing.)
TEST_F(IncrementalFenceMotoTest, WithTheDeadlineAloneTheStalePutWins) {
  ASSERT_TRUE(db_->put_item(primary_, item("a", 1)).ok());
  auto [res, refused] =
      race(Fence::kDeadline, keys_only(key("a"), Event::kModify, 1), keys_only(key("a"), Event::kModify, 2));
  EXPECT_TRUE(res.ok()) << res.error().describe();
  EXPECT_EQ(refused, 0);
  EXPECT_EQ(v_in_backup("a"), "1");
}

// W1 processes a REMOVE (the item was gone when it read) of an object holding v0; frozen before
// its DELETE lands, while the item is put back as v2 and W2 writes v2. W1's DELETE, If-Match
// v0's ETag, is refused: the backup keeps the live item.
TEST_F(IncrementalFenceMotoTest, AStaleDeleteLandingAfterTheNewOwnersPutIsRefused) {
  ASSERT_TRUE(db_->put_item(primary_, item("a", 0)).ok());
  {
    IncrementalBackup w0(options(Fence::kConditional));
    lease::ShardBatch b = owner_batch();
    ASSERT_TRUE(w0.apply({keys_only(key("a"), Event::kInsert, 0)}, &b).ok());
  }
  ASSERT_EQ(v_in_backup("a"), "0");
  ASSERT_TRUE(db_->delete_item(primary_, key("a")).ok());
  auto [res, refused] =
      race(Fence::kConditional, keys_only(key("a"), Event::kRemove, 1), keys_only(key("a"), Event::kInsert, 2));
  ASSERT_FALSE(res.ok()) << "the stale worker's DELETE went through";
  EXPECT_EQ(res.error().code, "LeaseLost") << res.error().describe();
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(v_in_backup("a"), "2") << "the stale DELETE removed the live item's object";
}

// History objects are named by shard and first sequence number, so the next owner, starting
// from the same checkpoint, rewrites the stale worker's object with a longer batch. W1's late
// history PUT (one entry) must not replace W2's (two entries): the second change would vanish
// from the point-in-time history.
TEST_F(IncrementalFenceMotoTest, AStaleHistoryWriteDoesNotReplaceTheNewOwnersLongerBatch) {
  ASSERT_TRUE(db_->put_item(primary_, item("a", 1)).ok());
  ASSERT_TRUE(db_->put_item(primary_, item("b", 1)).ok());
  const ChangeInput first = keys_only(key("a"), Event::kModify, 1);
  const ChangeInput second = keys_only(key("b"), Event::kModify, 2);
  IncrementalOptions with_history = options(Fence::kConditional);
  with_history.history = true;
  std::atomic<int> checks{0};
  lease::ShardBatch w1_batch = stale_batch(checks, [&] {
    IncrementalBackup w2(with_history);
    lease::ShardBatch w2_batch = owner_batch();
    auto r = w2.apply({first, second}, &w2_batch);
    EXPECT_TRUE(r.ok()) << r.error().describe();
  });
  IncrementalBackup w1(with_history);
  auto res = w1.apply({first}, &w1_batch);
  ASSERT_FALSE(res.ok()) << "the stale worker's history write went through";
  EXPECT_EQ(res.error().code, "LeaseLost") << res.error().describe();
  std::vector<std::string> keys;
  auto now = std::chrono::system_clock::now();
  auto read = read_history(*storage_, dir_, now - 2h, now + 2h, 2, [&](HistoryEntry&& e) -> Status {
    keys.push_back(e.key.find("id")->as_s());
    return {};
  });
  ASSERT_TRUE(read.ok()) << read.error().describe();
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b"})) << "the history lost the new owner's second change";
}

}  // namespace
}  // namespace dynarep::backup
