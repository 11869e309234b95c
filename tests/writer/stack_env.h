// Shared pieces of the writer's stack tests: clients for the local stack (or a fault proxy in
// front of it) with a fast retry policy, a table and stream per test, and reading a whole
// stream back (every shard, from TRIM_HORIZON).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/location.h"
#include "dynamodb/client.h"
#include "kinesis/client.h"
#include "model/codec.h"
#include "stream/record.h"
#include "support/aws_clients.h"
#include "support/stack.h"

namespace dynarep::writer::testing {

using namespace std::chrono_literals;

// support/aws_clients.h with this file's default of 3 attempts.
inline aws::RetryPolicy fast_policy(int attempts = 3) { return dynarep::testing::fast_policy(attempts); }

inline std::shared_ptr<aws::AwsClient> make_aws(aws::Service service, const std::string& url,
                                                const aws::RetryPolicy& policy = fast_policy()) {
  return dynarep::testing::make_aws(service, url, policy);
}

inline std::shared_ptr<dynamodb::Client> dynamo(const std::string& url = dynarep::testing::local_stack().dynamodb) {
  return std::make_shared<dynamodb::Client>(make_aws(aws::Service::kDynamoDB, url));
}

inline std::shared_ptr<kinesis::Client> kinesis_client(const std::string& url = dynarep::testing::local_stack().kinesis,
                                                       aws::RetryPolicy policy = fast_policy()) {
  return std::make_shared<kinesis::Client>(make_aws(aws::Service::kKinesis, url, policy));
}

inline model::Item item(const std::string& json) {
  auto r = model::parse_item(json);
  EXPECT_TRUE(r.ok()) << json << ": " << (r.ok() ? "" : r.error().describe());
  return r.ok() ? *r : model::Item{};
}

struct StreamRecord {
  std::string shard;
  std::string partition_key;
  stream::ChangeRecord record;
};

// Every record on every shard, each shard's in sequence order (records of one key share a shard).
inline std::vector<StreamRecord> read_stream(kinesis::Client& k, const std::string& stream) {
  std::vector<StreamRecord> out;
  auto shards = k.list_shards(stream);
  EXPECT_TRUE(shards.ok()) << shards.error().describe();
  if (!shards.ok()) return out;
  for (const auto& shard : *shards) {
    auto it = k.get_shard_iterator(stream, shard.id, kinesis::StartingPosition::trim_horizon());
    EXPECT_TRUE(it.ok()) << it.error().describe();
    if (!it.ok()) continue;
    kinesis::ShardIterator cur = *it;
    for (int page = 0; page < 10000; ++page) {
      auto r = k.get_records(cur);
      EXPECT_TRUE(r.ok()) << r.error().describe();
      if (!r.ok()) break;
      for (auto& rec : r->records) {
        auto parsed = stream::parse_change_record(rec.data);
        EXPECT_TRUE(parsed.ok()) << rec.data;
        if (parsed.ok()) out.push_back({shard.id.str(), rec.partition_key, std::move(parsed).value()});
      }
      if (r->records.empty() || r->shard_ended()) break;
      cur = *r->next_iterator;
    }
  }
  return out;
}

}  // namespace dynarep::writer::testing
