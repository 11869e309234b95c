// Tables, a bucket and a stream on the local stack for the backup tests.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aws/location.h"
#include "backup/storage.h"
#include "dynamodb/client.h"
#include "kinesis/client.h"
#include "model/codec.h"
#include "model/item.h"
#include "s3/client.h"
#include "support/stack.h"

#define DR_ASSERT_OK(expr)                                          \
  do {                                                              \
    auto&& dr_ok_ = (expr);                                         \
    ASSERT_TRUE(dr_ok_.ok()) << dr_ok_.error().describe();          \
  } while (0)
#define DR_EXPECT_OK(expr)                                          \
  do {                                                              \
    auto&& dr_ok_ = (expr);                                         \
    EXPECT_TRUE(dr_ok_.ok()) << dr_ok_.error().describe();          \
  } while (0)

namespace dynarep::backup::testing {

using model::Item;

inline Item parse(std::string_view json) {
  auto r = model::parse_item(json);
  EXPECT_TRUE(r.ok()) << json << ": " << (r.ok() ? "" : r.error().describe());
  return r.ok() ? std::move(r).value() : Item{};
}

// An item with every attribute type (docs/formats.md §1).
inline Item rich_item(const std::string& id, int i) {
  return parse(fmt::format(
      R"({{"id":{{"S":"{}"}},"n":{{"N":"{}.5"}},"s":{{"S":"text {} é😀\"\\\n"}},"b":{{"B":"AAEC/w=="}},"ss":{{"SS":["a","b","c{}"]}},)"
      R"("ns":{{"NS":["1","2.5","-{}E-3"]}},"bs":{{"BS":["AQ==","Ag=="]}},)"
      R"("m":{{"M":{{"x":{{"N":"10"}},"y":{{"L":[{{"S":"q"}},{{"NULL":true}}]}}}}}},)"
      R"("l":{{"L":[{{"BOOL":true}},{{"N":"7"}},{{"M":{{"a":{{"S":"b"}}}}}}]}},"z":{{"NULL":true}},"t":{{"BOOL":false}}}})",
      id, i, i, i, i + 1));
}

// An item just under DynamoDB's 400 KB limit: a long string, or long binary.
inline Item big_item(const std::string& id, bool binary) {
  Item it;
  it.set("id", model::Value::S(id));
  const size_t room = model::kMaxItemSize - 64;
  if (binary) {
    std::string bytes(room, '\0');
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 31 + 7);
    it.set("blob", model::Value::B(std::move(bytes)));
  } else {
    std::string s(room, 'x');
    for (size_t i = 0; i < s.size(); i += 97) s[i] = static_cast<char>('a' + i % 26);
    it.set("text", model::Value::S(std::move(s)));
  }
  EXPECT_LE(model::item_size(it), model::kMaxItemSize);
  EXPECT_GT(model::item_size(it), model::kMaxItemSize - 100);
  return it;
}

class BackupStackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dynarep::testing::local_stack();
    db_ = dynamodb::Client::connect(aws::resolve_endpoint(aws::Service::kDynamoDB, "us-east-1"));
    s3_ = std::make_shared<s3::Client>(s3::Client::connect("us-east-1"));
    bucket_ = dynarep::testing::unique_name("dr-backup");
    auto st = s3_->create_bucket(bucket_);
    ASSERT_TRUE(st.ok()) << st.error().describe();
    storage_ = std::make_unique<Storage>(s3_);
  }
  void TearDown() override {
    for (const auto& t : tables_) db_->delete_table(t).ignore_error();  // best effort
    if (kinesis_) {
      for (const auto& s : streams_) kinesis_->delete_stream(s).ignore_error();
    }
    std::vector<std::string> keys;
    if (s3_->for_each_object(bucket_, {}, [&](const s3::ListedObject& o) -> Status {
          keys.push_back(o.key);
          return {};
        }).ok() &&
        !keys.empty()) {
      s3_->delete_objects(bucket_, keys).ignore_error();
    }
    s3_->delete_bucket(bucket_).ignore_error();
  }

  std::string create_table(const std::string& prefix, const model::KeySchema& key) {
    std::string name = dynarep::testing::unique_name(prefix);
    auto st = db_->create_table(name, key);
    EXPECT_TRUE(st.ok()) << st.error().describe();
    auto active = db_->wait_until_active(name);
    EXPECT_TRUE(active.ok()) << active.error().describe();
    tables_.push_back(name);
    return name;
  }
  // A name for a table the test expects restore to create.
  std::string new_table_name(const std::string& prefix) {
    std::string name = dynarep::testing::unique_name(prefix);
    tables_.push_back(name);
    return name;
  }

  void put_all(const std::string& table, const std::vector<Item>& items) {
    std::vector<dynamodb::WriteRequest> writes;
    for (const auto& it : items) writes.push_back({dynamodb::WriteRequest::Kind::kPut, it});
    auto r = db_->batch_write_all(table, writes);
    ASSERT_TRUE(r.ok()) << r.error().describe();
  }

  // Every item, by canonical key JSON.
  std::map<std::string, Item> scan_all(const std::string& table) {
    std::map<std::string, Item> out;
    auto d = db_->describe_table(table);
    EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().describe());
    if (!d.ok()) return out;
    dynamodb::ScanRequest req;
    req.table = table;
    while (true) {
      auto page = db_->scan(req);
      EXPECT_TRUE(page.ok()) << page.error().describe();
      if (!page.ok()) break;
      for (auto& it : page->items) {
        auto k = model::extract_key(it, d->key_schema);
        EXPECT_TRUE(k.ok());
        out.emplace(model::canonical_key_json(*k), std::move(it));
      }
      if (!page->last_evaluated_key) break;
      req.exclusive_start_key = page->last_evaluated_key;
    }
    return out;
  }

  // Item by item, with model equality (docs/formats.md §1).
  static void expect_same(const std::map<std::string, Item>& want, const std::map<std::string, Item>& got) {
    EXPECT_EQ(want.size(), got.size());
    size_t shown = 0;
    for (const auto& [k, item] : want) {
      auto it = got.find(k);
      if (it == got.end()) {
        if (shown++ < 5) ADD_FAILURE() << "missing " << k;
        continue;
      }
      if (!(it->second == item) && shown++ < 5) ADD_FAILURE() << "different " << k;
    }
    for (const auto& [k, item] : got) {
      if (!want.count(k) && shown++ < 5) ADD_FAILURE() << "extraneous " << k;
    }
  }

  Location s3loc(const std::string& key) const {
    Location l;
    l.kind = Location::Kind::kS3;
    l.bucket = bucket_;
    l.key = key;
    l.display = "s3://" + bucket_ + "/" + key;
    return l;
  }
  std::string s3url(const std::string& key) const { return "s3://" + bucket_ + "/" + key; }

  kinesis::Client& kinesis() {
    if (!kinesis_) kinesis_.emplace(kinesis::Client::connect("us-east-1"));
    return *kinesis_;
  }
  std::string create_stream(const std::string& prefix, int shards) {
    std::string name = dynarep::testing::unique_name(prefix);
    auto st = kinesis().create_stream(name, shards);
    EXPECT_TRUE(st.ok()) << st.error().describe();
    streams_.push_back(name);
    return name;
  }

  std::shared_ptr<dynamodb::Client> db_;
  std::shared_ptr<s3::Client> s3_;
  std::string bucket_;
  std::unique_ptr<Storage> storage_;
  std::vector<std::string> tables_;
  std::vector<std::string> streams_;
  std::optional<kinesis::Client> kinesis_;
};

}  // namespace dynarep::backup::testing
