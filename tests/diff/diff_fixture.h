// Tables on the local stack (dynalite) for the diff tests: create, load, plant discrepancies,
// read back.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "aws/location.h"
#include "diff/table_diff.h"
#include "dynamodb/client.h"
#include "model/codec.h"
#include "model/item.h"
#include "support/stack.h"

namespace dynarep::diff::testing {

using model::Item;

inline Item parse(std::string_view json) {
  auto r = model::parse_item(json);
  EXPECT_TRUE(r.ok()) << json << ": " << (r.ok() ? "" : r.error().describe());
  return r.ok() ? std::move(r).value() : Item{};
}

// A key value of `type` for the number i: S "k00007", N "7" or "-7.25", B bytes. Numbers are
// spelled as DynamoDB (and dynalite) return them, so expected key JSON matches reported keys.
inline model::Value key_value(model::Type type, int i) {
  switch (type) {
    case model::Type::kN:
      return model::Value::N(model::Number::from_string(i % 2 == 0 ? fmt::format("{}", i) : fmt::format("-{}.25", i)));
    case model::Type::kB: return model::Value::B(fmt::format("{}{}", std::string("\x00\xff", 2), i));
    default: return model::Value::S(fmt::format("k{:05}", i));
  }
}

// Every attribute type; `replica_form` writes the same item as differently spelled text:
// numbers with trailing zeros or exponents, sets reversed, map members reordered.
inline std::string rich_attributes(int i, bool replica_form) {
  if (!replica_form) {
    return fmt::format(
        R"("n":{{"N":"{}.5"}},"s":{{"S":"text {} é😀"}},"b":{{"B":"AAEC"}},"ss":{{"SS":["a","b","c{}"]}},)"
        R"("ns":{{"NS":["1","2.5","{}"]}},"bs":{{"BS":["AQ==","Ag=="]}},)"
        R"("m":{{"M":{{"x":{{"N":"10"}},"y":{{"L":[{{"S":"q"}},{{"NULL":true}}]}}}}}},)"
        R"("l":{{"L":[{{"BOOL":true}},{{"N":"7"}},{{"M":{{"a":{{"S":"b"}}}}}}]}},"z":{{"NULL":true}},"t":{{"BOOL":false}})",
        i, i, i, i + 1000);
  }
  return fmt::format(
      R"("t":{{"BOOL":false}},"z":{{"NULL":true}},"l":{{"L":[{{"BOOL":true}},{{"N":"7.000"}},{{"M":{{"a":{{"S":"b"}}}}}}]}},)"
      R"("m":{{"M":{{"y":{{"L":[{{"S":"q"}},{{"NULL":true}}]}},"x":{{"N":"1E1"}}}}}},)"
      R"("bs":{{"BS":["Ag==","AQ=="]}},"ns":{{"NS":["{}","2.50","1"]}},)"
      R"("ss":{{"SS":["c{}","b","a"]}},"b":{{"B":"AAEC"}},"s":{{"S":"text {} é😀"}},"n":{{"N":"{}.50"}})",
      i + 1000, i, i, i);
}

class DiffStackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dynarep::testing::local_stack();
    client_ = dynamodb::Client::connect(aws::resolve_endpoint(aws::Service::kDynamoDB, "us-east-1"));
  }
  void TearDown() override {
    for (const auto& t : created_) client_->delete_table(t).ignore_error();  // best effort cleanup
  }

  std::string create(const std::string& prefix, const model::KeySchema& key) {
    std::string name = dynarep::testing::unique_name(prefix);
    auto st = client_->create_table(name, key);
    EXPECT_TRUE(st.ok()) << st.error().describe();
    auto active = client_->wait_until_active(name);
    EXPECT_TRUE(active.ok()) << active.error().describe();
    created_.push_back(name);
    return name;
  }

  void put_all(const std::string& table, const std::vector<Item>& items) {
    std::vector<dynamodb::WriteRequest> writes;
    for (const auto& it : items) writes.push_back({dynamodb::WriteRequest::Kind::kPut, it});
    auto r = client_->batch_write_all(table, writes);
    ASSERT_TRUE(r.ok()) << r.error().describe();
  }
  void put(const std::string& table, const Item& item) {
    auto st = client_->put_item(table, item);
    ASSERT_TRUE(st.ok()) << st.error().describe();
  }
  void del(const std::string& table, const Item& key) {
    auto st = client_->delete_item(table, key);
    ASSERT_TRUE(st.ok()) << st.error().describe();
  }

  TableRef ref(const std::string& table) { return TableRef{client_.get(), table, "us-east-1/" + table}; }

  // Every item, by canonical key JSON.
  std::map<std::string, Item> scan_all(const std::string& table, const model::KeySchema& key) {
    std::map<std::string, Item> out;
    dynamodb::ScanRequest req;
    req.table = table;
    while (true) {
      auto page = client_->scan(req);
      EXPECT_TRUE(page.ok()) << page.error().describe();
      if (!page.ok()) break;
      for (auto& it : page->items) {
        auto k = model::extract_key(it, key);
        EXPECT_TRUE(k.ok());
        out.emplace(model::canonical_key_json(*k), std::move(it));
      }
      if (!page->last_evaluated_key) break;
      req.exclusive_start_key = page->last_evaluated_key;
    }
    return out;
  }

  struct Run {
    Result<DiffSummary> summary = DiffSummary{};
    std::multiset<std::pair<std::string, std::string>> found;  // (kind, key json)
    std::vector<Discrepancy> list;
  };

  // Runs diff_tables, collecting what it reports.
  Run diff(const std::string& primary, const std::string& replica, DiffOptions opt = {}) {
    Run run;
    auto collect = [&run](const Discrepancy& d) {
      run.found.emplace(std::string(to_string(d.kind)), model::canonical_key_json(d.key));
      run.list.push_back(d);
    };
    opt.on_discrepancy = collect;
    run.summary = diff_tables(ref(primary), ref(replica), opt);
    EXPECT_TRUE(run.summary.ok()) << run.summary.error().describe();
    return run;
  }

  std::shared_ptr<dynamodb::Client> client_;
  std::vector<std::string> created_;
};

inline std::string key_json(const Item& item, const model::KeySchema& schema) {
  auto k = model::extract_key(item, schema);
  EXPECT_TRUE(k.ok());
  return k.ok() ? model::canonical_key_json(*k) : std::string();
}

}  // namespace dynarep::diff::testing
