// plan_batch: which records are rejected, skipped, superseded, and what each key gets.
#include <gtest/gtest.h>

#include <chrono>

#include "model/codec.h"
#include "replicate/change.h"
#include "replicate/detail/plan.h"
#include "replicate/turnover.h"
#include "stream/record.h"

namespace dynarep::replicate {
namespace {

using detail::KeyAction;
using detail::PlanOptions;
using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

model::KeySchema schema() {
  model::KeySchema k;
  k.hash_name = "id";
  k.hash_type = model::Type::kS;
  return k;
}

model::Item key(const std::string& id) {
  model::Item k;
  k.set("id", model::Value::S(id));
  return k;
}

ChangeInput keys_only(const std::string& id, stream::ChangeRecord::Event e, const std::string& seq = "1",
                      std::optional<Clock::time_point> arrival = std::nullopt) {
  std::string data = stream::make_keys_only_record(key(id), e, "us-east-1");
  return ChangeInput{"shardId-0", seq, "", arrival, data, stream::parse_change_record(data)};
}

ChangeInput raw(const std::string& data, const std::string& seq = "9") {
  return ChangeInput{"shardId-0", seq, "", std::nullopt, data, stream::parse_change_record(data)};
}

// A DynamoDB Streams NEW_AND_OLD_IMAGES record.
std::string image_record(const std::string& event, const std::string& keys_json, const std::string& new_image_json,
                         double created_seconds = 1700000000) {
  std::string r = R"({"eventID":"1","eventName":")" + event +
                  R"(","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1","dynamodb":{"ApproximateCreationDateTime":)" +
                  std::to_string(static_cast<int64_t>(created_seconds)) + R"(,"Keys":)" + keys_json;
  if (!new_image_json.empty()) r += R"(,"NewImage":)" + new_image_json;
  r += R"(,"SequenceNumber":"111","SizeBytes":26,"StreamViewType":"NEW_AND_OLD_IMAGES"},"eventSourceARN":"arn:aws:dynamodb:us-east-1:123:table/t/stream/2020"})";
  return r;
}

TEST(PlanTest, LastChangePerKeyWins) {
  std::vector<ChangeInput> in{keys_only("a", stream::ChangeRecord::Event::kInsert),
                              keys_only("b", stream::ChangeRecord::Event::kInsert),
                              keys_only("a", stream::ChangeRecord::Event::kRemove),
                              keys_only("a", stream::ChangeRecord::Event::kModify)};
  auto p = detail::plan_batch(in, schema(), {});
  ASSERT_EQ(p.actions.size(), 2u);
  EXPECT_EQ(p.superseded, 2u);
  EXPECT_EQ(p.actions[0].key, key("a"));
  EXPECT_EQ(p.actions[0].input, 3u);
  EXPECT_EQ(p.actions[0].inputs, (std::vector<size_t>{0, 2, 3}));
  // KEYS_ONLY: always read from the primary, whatever the event name says.
  EXPECT_EQ(p.actions[0].kind, KeyAction::Kind::kRead);
  EXPECT_EQ(p.actions[1].kind, KeyAction::Kind::kRead);
}

TEST(PlanTest, KeysAreGroupedByValueNotByText) {
  model::KeySchema k;
  k.hash_name = "n";
  k.hash_type = model::Type::kN;
  auto a = raw(R"({"eventName":"INSERT","dynamodb":{"Keys":{"n":{"N":"1.50"}},"StreamViewType":"KEYS_ONLY"}})");
  auto b = raw(R"({"eventName":"MODIFY","dynamodb":{"Keys":{"n":{"N":"1.5"}},"StreamViewType":"KEYS_ONLY"}})");
  ASSERT_TRUE(a.change.ok()) << a.change.error().describe();
  auto p = detail::plan_batch({a, b}, k, {});
  ASSERT_EQ(p.actions.size(), 1u) << "one BatchWriteItem may not carry the same key twice";
  EXPECT_EQ(p.superseded, 1u);
}

TEST(PlanTest, MalformedRecordsAreRejectedWithAReason) {
  std::vector<ChangeInput> in{raw("{not json", "5"), raw(R"({"eventName":"INSERT","dynamodb":{}})", "6"),
                              keys_only("a", stream::ChangeRecord::Event::kInsert)};
  auto p = detail::plan_batch(in, schema(), {});
  ASSERT_EQ(p.rejected.size(), 2u);
  EXPECT_EQ(p.rejected[0].input, 0u);
  EXPECT_NE(p.rejected[0].reason.find("does not parse"), std::string::npos) << p.rejected[0].reason;
  EXPECT_EQ(p.actions.size(), 1u);
}

TEST(PlanTest, KeySchemaMismatchIsRejected) {
  auto wrong_type = raw(R"({"eventName":"INSERT","dynamodb":{"Keys":{"id":{"N":"1"}},"StreamViewType":"KEYS_ONLY"}})");
  auto wrong_name = raw(R"({"eventName":"INSERT","dynamodb":{"Keys":{"other":{"S":"x"}},"StreamViewType":"KEYS_ONLY"}})");
  auto extra = raw(R"({"eventName":"INSERT","dynamodb":{"Keys":{"id":{"S":"x"},"sk":{"S":"y"}},"StreamViewType":"KEYS_ONLY"}})");
  auto p = detail::plan_batch({wrong_type, wrong_name, extra}, schema(), {});
  ASSERT_EQ(p.rejected.size(), 3u);
  for (const auto& r : p.rejected) EXPECT_NE(r.reason.find("key schema mismatch"), std::string::npos) << r.reason;
  EXPECT_TRUE(p.actions.empty());
}

TEST(PlanTest, ImagesArePutAndRemovesDeleted) {
  auto ins = raw(image_record("INSERT", R"({"id":{"S":"a"}})", R"({"id":{"S":"a"},"x":{"N":"1"}})"));
  auto rem = raw(image_record("REMOVE", R"({"id":{"S":"b"}})", ""));
  ASSERT_TRUE(ins.change.ok()) << ins.change.error().describe();
  auto p = detail::plan_batch({ins, rem}, schema(), {});
  ASSERT_EQ(p.actions.size(), 2u);
  EXPECT_EQ(p.actions[0].kind, KeyAction::Kind::kPut);
  ASSERT_TRUE(p.actions[0].image.has_value());
  EXPECT_EQ(model::to_json(*p.actions[0].image), R"({"id":{"S":"a"},"x":{"N":"1"}})");
  EXPECT_EQ(p.actions[1].kind, KeyAction::Kind::kDelete);
}

TEST(PlanTest, RereadReadsImagesToo) {
  auto ins = raw(image_record("INSERT", R"({"id":{"S":"a"}})", R"({"id":{"S":"a"}})"));
  PlanOptions o;
  o.reread = true;
  auto p = detail::plan_batch({ins}, schema(), o);
  ASSERT_EQ(p.actions.size(), 1u);
  EXPECT_EQ(p.actions[0].kind, KeyAction::Kind::kRead);
}

TEST(PlanTest, BadImageIsDeadLetteredAndReadFromThePrimaryInstead) {
  auto wrong_key = raw(image_record("MODIFY", R"({"id":{"S":"a"}})", R"({"id":{"S":"zzz"}})"));
  std::string big(400 * 1024, 'x');
  auto too_big = raw(image_record("MODIFY", R"({"id":{"S":"b"}})", R"({"id":{"S":"b"},"big":{"S":")" + big + R"("}})"));
  ASSERT_TRUE(too_big.change.ok()) << too_big.change.error().describe();
  auto p = detail::plan_batch({wrong_key, too_big}, schema(), {});
  ASSERT_EQ(p.rejected.size(), 2u);
  EXPECT_NE(p.rejected[0].reason.find("differs"), std::string::npos) << p.rejected[0].reason;
  EXPECT_NE(p.rejected[1].reason.find("too large"), std::string::npos) << p.rejected[1].reason;
  ASSERT_EQ(p.actions.size(), 2u);
  EXPECT_EQ(p.actions[0].kind, KeyAction::Kind::kRead);
  // Without a primary there is nothing to fall back on.
  PlanOptions o;
  o.have_primary = false;
  auto q = detail::plan_batch({wrong_key}, schema(), o);
  EXPECT_EQ(q.rejected.size(), 1u);
  EXPECT_TRUE(q.actions.empty());
}

TEST(PlanTest, KeysOnlyWithoutAPrimaryIsRejected) {
  PlanOptions o;
  o.have_primary = false;
  auto p = detail::plan_batch({keys_only("a", stream::ChangeRecord::Event::kInsert)}, schema(), o);
  ASSERT_EQ(p.rejected.size(), 1u);
  EXPECT_TRUE(p.actions.empty());
}

TEST(PlanTest, TurnoverBeforeAndAfter) {
  const auto at = Clock::time_point(std::chrono::seconds(1700000000));
  // Images carry ApproximateCreationDateTime (seconds); KEYS_ONLY records fall back on arrival.
  auto old_img = raw(image_record("INSERT", R"({"id":{"S":"old"}})", R"({"id":{"S":"old"}})", 1699999999));
  auto at_img = raw(image_record("INSERT", R"({"id":{"S":"at"}})", R"({"id":{"S":"at"}})", 1700000000));
  auto new_ko = keys_only("new", stream::ChangeRecord::Event::kInsert, "3", at + 1ms);
  auto no_time = keys_only("none", stream::ChangeRecord::Event::kInsert, "4");
  std::vector<ChangeInput> in{old_img, at_img, new_ko, no_time};

  PlanOptions before;
  before.turnover = Turnover{Turnover::Role::kBefore, at};
  auto b = detail::plan_batch(in, schema(), before);
  ASSERT_EQ(b.actions.size(), 2u);
  EXPECT_EQ(b.actions[0].key, key("old"));
  EXPECT_EQ(b.actions[1].key, key("none"));
  EXPECT_EQ(b.skipped, (std::vector<size_t>{1, 2}));
  EXPECT_EQ(b.unknown_time, (std::vector<size_t>{3}));

  PlanOptions after;
  after.turnover = Turnover{Turnover::Role::kAfter, at};
  auto a = detail::plan_batch(in, schema(), after);
  ASSERT_EQ(a.actions.size(), 3u);
  EXPECT_EQ(a.actions[0].key, key("at")) << "AFTER includes the turnover instant itself";
  EXPECT_EQ(a.actions[1].key, key("new"));
  EXPECT_EQ(a.skipped, (std::vector<size_t>{0}));
}

TEST(PlanTest, TurnoverIsAppliedBeforeChoosingTheLastChange) {
  // As the original: records outside the window are dropped first, so an earlier in-window
  // change is what gets applied.
  const auto at = Clock::time_point(std::chrono::seconds(1000));
  auto early = keys_only("a", stream::ChangeRecord::Event::kInsert, "1", at - 1s);
  auto late = keys_only("a", stream::ChangeRecord::Event::kRemove, "2", at + 1s);
  PlanOptions o;
  o.turnover = Turnover{Turnover::Role::kBefore, at};
  auto p = detail::plan_batch({early, late}, schema(), o);
  ASSERT_EQ(p.actions.size(), 1u);
  EXPECT_EQ(p.actions[0].input, 0u);
  EXPECT_EQ(p.superseded, 0u);
}

TEST(TurnoverTest, Parsing) {
  EXPECT_EQ(*parse_turnover_role("before"), Turnover::Role::kBefore);
  EXPECT_EQ(*parse_turnover_role("AFTER"), Turnover::Role::kAfter);
  EXPECT_FALSE(parse_turnover_role("DURING").ok());
  EXPECT_EQ(*parse_turnover_time("1700000000123"), Clock::time_point(std::chrono::milliseconds(1700000000123)));
  EXPECT_EQ(*parse_turnover_time("2023-11-14T22:13:20Z"), Clock::time_point(std::chrono::seconds(1700000000)));
  EXPECT_FALSE(parse_turnover_time("yesterday").ok());
}

}  // namespace
}  // namespace dynarep::replicate
