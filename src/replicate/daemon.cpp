#include "replicate/daemon.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>

#include "lease/lease_store.h"

namespace dynarep::replicate {

using namespace std::chrono_literals;

namespace {
Error usage(std::string message) { return Error(ErrorKind::kInvalidInput, "Usage", std::move(message)); }
}  // namespace

Result<FenceChoice> choose_fence(FenceMode mode, dynamodb::Client& replica, const std::string& replica_display,
                                 dynamodb::Client& lease_db, const std::string& lease_table) {
  if (mode == FenceMode::kDeadline) return FenceChoice{{}, "write deadline only (--fence deadline)"};
  if (&replica != &lease_db) {
    if (mode == FenceMode::kTransact) {
      return usage(fmt::format("--fence transact needs the lease table beside the replica {} (same endpoint): "
                               "--lease-table <replica's region>/{}",
                               replica_display, lease_table));
    }
    return FenceChoice{{}, "write deadline only (the lease table is not beside the replica)"};
  }
  DR_TRY(lease::DynamoLeaseStore(lease_db, lease_table).ensure_table());
  DR_ASSIGN(bool supported, transactions_supported(lease_db, lease_table));
  if (!supported) {
    if (mode == FenceMode::kTransact) {
      return usage(fmt::format("--fence transact: the endpoint of {} has no TransactWriteItems", replica_display));
    }
    return FenceChoice{{}, "write deadline only (the endpoint has no TransactWriteItems)"};
  }
  return FenceChoice{lease_table, fmt::format("TransactWriteItems on lease table {}", lease_table)};
}

Status run_daemon(DaemonOptions o, const std::atomic<bool>& stop, Clock& clock) {
  auto& metrics = o.metrics;
  auto& lease_db = o.lease_db;
  const std::chrono::milliseconds shutdown_timeout = o.worker.shutdown_timeout;
  ReplicationProcessor processor(*o.replicator);
  lease::Worker worker(std::move(o.worker), std::move(o.source), *lease_db, processor, clock);
  const ReplicatorOptions& ro = o.replicator->options();

  auto body = [&]() {
    std::string out;
    metrics->render(out);
    render_worker_metrics(out, worker);
    bool headers = true;
    auto add = [&](std::string_view label, const aws::AwsClient* c) {
      if (c == nullptr) return;
      render_aws_metrics(out, label, c->stats(), headers);
      headers = false;
    };
    add("primary", ro.primary ? &ro.primary->aws() : nullptr);
    if (ro.replica.get() != ro.primary.get()) add("replica", &ro.replica->aws());
    add(o.dynamodb_stream ? "streams" : "kinesis", o.stream_aws.get());
    if (lease_db.get() != ro.primary.get() && lease_db.get() != ro.replica.get()) add("leases", &lease_db->aws());
    return out;
  };
  std::unique_ptr<MetricsServer> server;
  if (o.metrics_port >= 0) {
    DR_ASSIGN(server, MetricsServer::start(o.metrics_bind, o.metrics_port, body, [&] { return worker.not_ready(); }));
    spdlog::info("metrics on http://{}:{}/metrics", o.metrics_bind, server->port());
  }

  spdlog::info("replicating {} -> {} from stream {} as worker {} (lease fence: {}; dead letters: {}{}{})",
               o.primary_display, o.replica_display, worker.config().stream, worker.worker_id(),
               o.fence_description, ro.dead_letters ? ro.dead_letters->describe() : "stderr only",
               ro.reread ? ", re-reading images" : "",
               ro.turnover ? fmt::format(", turnover {}", o.turnover_description) : "");

  std::atomic<bool> done{false};
  std::mutex mu;
  std::condition_variable cv;
  // Periodic throughput line, and a watchdog for a graceful stop that does not finish.
  std::thread reporter([&] {
    auto last = std::chrono::steady_clock::now();
    int64_t last_applied = 0;
    std::optional<std::chrono::steady_clock::time_point> stop_seen;
    std::unique_lock lock(mu);
    while (!done.load()) {
      cv.wait_for(lock, 200ms);
      auto now = std::chrono::steady_clock::now();
      if (stop.load() && !stop_seen) stop_seen = now;
      if (stop_seen && now - *stop_seen > shutdown_timeout + 30s) {
        spdlog::error("graceful stop did not finish in time; exiting without releasing leases");
        std::_Exit(o.watchdog_exit_code);
      }
      if (now - last < o.log_interval) continue;
      int64_t applied = metrics->applied.load();
      double secs = std::chrono::duration<double>(now - last).count();
      int64_t behind = 0;
      auto shards = worker.shard_status();
      for (const auto& sh : shards) behind = std::max(behind, sh.millis_behind_latest);
      spdlog::info("replicated {} records ({:.0f}/s); puts {}, deletes {}, dead letters {}, skipped {}; "
                   "shards {}, max behind {} ms; lag p50 <= {}s p99 <= {}s",
                   applied - last_applied, static_cast<double>(applied - last_applied) / secs, metrics->puts.load(),
                   metrics->deletes.load(), metrics->dead_lettered.load(), metrics->skipped.load(), shards.size(),
                   behind, metrics->lag.quantile_bound(0.5), metrics->lag.quantile_bound(0.99));
      last = now;
      last_applied = applied;
    }
  });
  Status st = worker.run(stop);
  {
    std::lock_guard lock(mu);
    done.store(true);
  }
  cv.notify_all();
  reporter.join();
  server.reset();
  if (!st.ok()) return st;
  spdlog::info("stopped: {} records applied, {} dead-lettered", metrics->applied.load(), metrics->dead_lettered.load());
  return {};
}

}  // namespace dynarep::replicate
