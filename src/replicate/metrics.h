// Replication metrics in the Prometheus text format (version 0.0.4), served by a tiny HTTP
// server thread (`--metrics-port`): GET /metrics (or /) answers the text, anything else 404.
//
// Names (all prefixed dynarep_replicate_):
//   records_total{outcome="received|applied|superseded|skipped|dead_lettered"}   counters
//   writes_total{op="put|delete"}      replica writes (one per distinct key per batch)
//   keys_read_total                    keys read from the primary (KEYS_ONLY, --reread)
//   batch_errors_total                 batches that failed and were retried
//   fenced_writes_refused_total        fenced replica writes DynamoDB refused: the lease was
//                                      no longer this worker's (a paused or slow worker)
//   lag_seconds                        histogram: now - ApproximateArrivalTimestamp at apply
//   (and, from the worker and the AWS clients, see render_worker_metrics / render_aws_metrics)
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "core/result.h"

namespace dynarep::aws {
class RetryStats;
}
namespace dynarep::lease {
class Worker;
}

namespace dynarep::replicate {

// Appends one sample line: `name{labels} value`. `labels` is the inside of the braces
// (`shard="shardId-1"`), empty for none.
void prom_sample(std::string& out, std::string_view name, std::string_view labels, double value);
// Appends "# HELP" and "# TYPE" lines.
void prom_header(std::string& out, std::string_view name, std::string_view type, std::string_view help);

class LagHistogram {
 public:
  // Upper bounds in seconds.
  static constexpr std::array<double, 13> kBounds{0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5, 10, 30, 60, 300};
  void observe(double seconds);
  void render(std::string& out, std::string_view name, std::string_view help) const;
  [[nodiscard]] int64_t count() const { return count_.load(); }
  // The smallest bucket bound below which at least q (0..1) of the observations fall; +inf when
  // beyond the last bound; 0 with no observations. For logs, not for dashboards.
  [[nodiscard]] double quantile_bound(double q) const;

 private:
  std::array<std::atomic<int64_t>, kBounds.size()> buckets_{};  // non-cumulative
  std::atomic<int64_t> over_{0};
  std::atomic<int64_t> count_{0};
  std::atomic<int64_t> sum_us_{0};
};

struct Metrics {
  std::atomic<int64_t> received{0};       // records handed to the replicator
  std::atomic<int64_t> applied{0};        // records whose change was applied (superseded ones included)
  std::atomic<int64_t> superseded{0};     // records replaced by a later change to the same key
  std::atomic<int64_t> skipped{0};        // outside the turnover window
  std::atomic<int64_t> dead_lettered{0};
  std::atomic<int64_t> puts{0};
  std::atomic<int64_t> deletes{0};
  std::atomic<int64_t> keys_read{0};
  std::atomic<int64_t> batch_errors{0};
  std::atomic<int64_t> fenced_writes_refused{0};
  LagHistogram lag;

  void render(std::string& out) const;
};

// Worker state: leases held, per-shard millis behind latest, records read, lease events.
void render_worker_metrics(std::string& out, const lease::Worker& worker);
// One client's retry counters, labelled client="<name>".
void render_aws_metrics(std::string& out, std::string_view client, const aws::RetryStats& stats, bool with_headers);

class MetricsServer {
 public:
  using Body = std::function<std::string()>;
  // nullopt when ready; else why not (answered with 503 on /readyz).
  using Ready = std::function<std::optional<std::string>()>;
  // Listens on bind:port (port 0: any free port) and serves from a thread: GET /metrics (or /)
  // `body`; GET /healthz 200 while the process serves at all (liveness); GET /readyz 200 when
  // `ready` says so (no `ready`: always), else 503 with the reason (readiness).
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& bind, int port, Body body, Ready ready = {});
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  [[nodiscard]] int port() const { return port_; }

 private:
  MetricsServer(int fd, int port, Body body, Ready ready);
  void loop();
  void serve(int fd);
  int fd_;
  int port_;
  Body body_;
  Ready ready_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace dynarep::replicate
