// Logging set-up for the binary: text (the default, for people) or JSON lines (for log
// pipelines: one object per line). JSON lines carry time, level and message, and the subjects
// our messages name by convention ("shard X", "sequence number N" / "seq N", "table T", "key
// {...}") as fields of their own, so a pipeline can filter by shard or table without parsing.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace dynarep {

enum class LogFormat { kText, kJson };

// Installs a thread-safe stderr logger as spdlog's default, in `format`, at info (debug when
// verbose).
void configure_logging(LogFormat format, bool verbose);

// One JSON log line (without the newline):
//   {"time":"2026-12-03T10:00:00.123Z","level":"warn","message":"shard shardId-1: ...",
//    "shard":"shardId-1","sequence":"4960...","table":"orders","key":"{\"id\":{\"S\":\"a\"}}"}
// Fields appear only when the message names them.
std::string json_log_line(std::chrono::system_clock::time_point time, std::string_view level, std::string_view message);

}  // namespace dynarep
