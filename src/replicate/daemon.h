// The replicate daemon: a lease::Worker that feeds a Replicator from a stream's shards, a
// Prometheus endpoint, a periodic throughput line, and a watchdog for a graceful stop that
// does not finish. The command line (src/cli/replicate_command.cpp) parses the options, opens
// the tables, the stream and the lease table, and calls run_daemon.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "aws/client.h"
#include "core/clock.h"
#include "core/result.h"
#include "dynamodb/client.h"
#include "lease/shard_source.h"
#include "lease/worker.h"
#include "replicate/metrics.h"
#include "replicate/replicator.h"

namespace dynarep::replicate {

// --fence: how replica writes are kept from a worker whose lease has moved on
// (docs/replication.md, "Lease handover").
enum class FenceMode {
  kAuto,      // TransactWriteItems on the lease item when the lease table is beside the replica
  kTransact,  // that, or a usage error saying why not
  kDeadline,  // the write deadline only
};

struct FenceChoice {
  std::string fence_table;  // ReplicatorOptions::fence_table: empty for the deadline only
  std::string description;  // which protection is in force, for the start line
};

// Decides the fence. `replica` is the replica's client, `lease_db` the lease table's: the
// fence needs both to be the same endpoint (clients are shared per endpoint, so the same
// object). Creates the lease table when the fence may use it (the probe for TransactWriteItems
// needs it). Errors with code "Usage" name the replica (`replica_display`).
Result<FenceChoice> choose_fence(FenceMode mode, dynamodb::Client& replica, const std::string& replica_display,
                                 dynamodb::Client& lease_db, const std::string& lease_table);

struct DaemonOptions {
  lease::Config worker;                        // stream, lease table, worker id, timings
  std::unique_ptr<lease::ShardSource> source;  // the stream's shards
  std::shared_ptr<dynamodb::Client> lease_db;  // where lease_table is
  std::unique_ptr<Replicator> replicator;
  std::shared_ptr<Metrics> metrics;  // the replicator's
  // Prometheus metrics, /healthz and /readyz on metrics_bind:metrics_port; < 0: none.
  int metrics_port = -1;
  std::string metrics_bind = "127.0.0.1";
  std::chrono::milliseconds log_interval{std::chrono::seconds(10)};  // throughput line
  // For the start line and metrics labels.
  std::string primary_display, replica_display;
  std::string fence_description;
  std::string turnover_description;  // "BEFORE 2024-..." when a turnover is set
  bool dynamodb_stream = false;                 // the source is a DynamoDB stream (label "streams")
  std::shared_ptr<aws::AwsClient> stream_aws;   // the stream's calls (metrics); may be null
  // Exit code of the process when a graceful stop does not finish within the worker's
  // shutdown_timeout + 30 s (it exits without releasing its leases).
  int watchdog_exit_code = 3;
};

// Runs until `stop` is set (SIGTERM), then stops gracefully. Errors: the metrics server cannot
// listen, or what the worker cannot fix at start (lease table, stream).
Status run_daemon(DaemonOptions options, const std::atomic<bool>& stop, Clock& clock = SystemClock::instance());

}  // namespace dynarep::replicate
