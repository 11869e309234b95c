// JSON log lines: valid JSON, escaped, with the subjects our messages name as their own fields.
#include <gtest/gtest.h>

#include <chrono>

#include "core/log.h"

namespace dynarep {
namespace {

using namespace std::chrono_literals;

const auto kT = std::chrono::system_clock::time_point(1'764'756'000'123ms);  // 2025-12-03T10:00:00.123Z

TEST(LogTest, JsonLineCarriesTimeLevelMessage) {
  EXPECT_EQ(json_log_line(kT, "info", "worker w1 starting"),
            R"({"time":"2025-12-03T10:00:00.123Z","level":"info","message":"worker w1 starting"})");
}

TEST(LogTest, SubjectsNamedInTheMessageBecomeFields) {
  EXPECT_EQ(json_log_line(kT, "error",
                          "dead letter: shard shardId-000000000001 sequence number 4960123: the replica rejects it"),
            R"({"time":"2025-12-03T10:00:00.123Z","level":"error","message":"dead letter: shard shardId-000000000001 sequence number 4960123: the replica rejects it","shard":"shardId-000000000001","sequence":"4960123"})");
  EXPECT_EQ(json_log_line(kT, "warn", R"(table orders key {"id":{"S":"a b}"}} failed, seq 77.)"),
            R"({"time":"2025-12-03T10:00:00.123Z","level":"warn","message":"table orders key {\"id\":{\"S\":\"a b}\"}} failed, seq 77.","sequence":"77","table":"orders","key":"{\"id\":{\"S\":\"a b}\"}}"})");
  EXPECT_EQ(json_log_line(kT, "info", "lease shardId-000000000002 taken by w1"),
            R"({"time":"2025-12-03T10:00:00.123Z","level":"info","message":"lease shardId-000000000002 taken by w1","shard":"shardId-000000000002"})");
  // "reshard" is not "shard"; control characters are escaped.
  EXPECT_EQ(json_log_line(kT, "info", "a reshard happened\n"),
            R"({"time":"2025-12-03T10:00:00.123Z","level":"info","message":"a reshard happened\n"})");
}

}  // namespace
}  // namespace dynarep
