// `dynarep status`: what the lease table and the stream say about a running replication (or
// incremental backup), for people at 3 a.m. and for health checks. Reads only: the lease table
// (a consistent scan), and with a stream one GetShardIterator + GetRecords(Limit 1) per open
// shard for its MillisBehindLatest at the checkpoint. Dead letters are counted by lines in a
// dead-letter directory.
//
// Liveness: an owned lease is live when its owner's last write (lastRenewedMillis, the owner's
// wall clock) is younger than the lease duration on this host's clock. Clocks of hosts differ,
// so this is a display and alert rule, never the workers' expiry rule (which watches the
// counter on each observer's own clock).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "lease/lease.h"

namespace dynarep::lease {
class LeaseStore;
class ShardSource;
}

namespace dynarep::replicate {

struct ShardReport {
  std::string shard;
  std::string owner;  // empty: unowned
  std::optional<std::chrono::milliseconds> lease_age;  // since the owner's last write (if known)
  bool live = false;       // owned and renewed within the lease duration
  std::string checkpoint;
  std::vector<std::string> parents;
  std::vector<std::string> children;
  bool finished = false;   // SHARD_END
  bool waiting = false;    // a parent is not finished yet: not in play
  std::optional<int64_t> millis_behind;  // with a stream: at the checkpoint
  std::string lag_error;                 // why the lag could not be read
};

struct StatusOptions {
  std::chrono::milliseconds lease_duration{10000};  // the workers' --lease-duration
  std::chrono::milliseconds max_lag{60000};
  lease::ShardSource* source = nullptr;  // the stream (Kinesis or DynamoDB Streams): lag per shard
  std::string dead_letter_dir;  // count lines of DIR/*.jsonl
};

struct StatusReport {
  std::vector<ShardReport> shards;                       // by shard id
  std::map<std::string, std::vector<std::string>> workers;  // live owner -> shards
  std::optional<int64_t> dead_letters;                   // with a dead-letter directory
  std::vector<std::string> problems;                     // one line each; empty: healthy
  [[nodiscard]] bool healthy() const { return problems.empty(); }
};

// `now`: this host's wall clock (injected for tests).
Result<StatusReport> lease_status(lease::LeaseStore& store, const StatusOptions& options,
                                  std::chrono::system_clock::time_point now);

// The report for people (a table) and for machines (one JSON object).
std::string render_status_text(const StatusReport& report);
std::string render_status_json(const StatusReport& report);

}  // namespace dynarep::replicate
