#include "replicate/metrics.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "aws/retry.h"
#include "lease/worker.h"

namespace dynarep::replicate {

void prom_sample(std::string& out, std::string_view name, std::string_view labels, double value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else if (value == std::floor(value) && std::fabs(value) < 1e15) {
    out += fmt::format("{}", static_cast<int64_t>(value));
  } else {
    out += fmt::format("{:.6g}", value);
  }
  out += '\n';
}

void prom_header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void LagHistogram::observe(double seconds) {
  if (!(seconds >= 0)) seconds = 0;  // clock skew between the stream and us: count as zero
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  if (i < kBounds.size()) {
    buckets_[i]++;
  } else {
    over_++;
  }
  count_++;
  sum_us_ += static_cast<int64_t>(seconds * 1e6);
}

double LagHistogram::quantile_bound(double q) const {
  int64_t total = count_.load();
  if (total == 0) return 0;
  auto need = static_cast<int64_t>(std::ceil(q * static_cast<double>(total)));
  int64_t acc = 0;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    acc += buckets_[i].load();
    if (acc >= need) return kBounds[i];
  }
  return INFINITY;
}

void LagHistogram::render(std::string& out, std::string_view name, std::string_view help) const {
  prom_header(out, name, "histogram", help);
  int64_t acc = 0;
  std::string bucket = std::string(name) + "_bucket";
  for (size_t i = 0; i < kBounds.size(); ++i) {
    acc += buckets_[i].load();
    prom_sample(out, bucket, fmt::format("le=\"{}\"", kBounds[i]), static_cast<double>(acc));
  }
  acc += over_.load();
  prom_sample(out, bucket, "le=\"+Inf\"", static_cast<double>(acc));
  prom_sample(out, std::string(name) + "_sum", "", static_cast<double>(sum_us_.load()) / 1e6);
  prom_sample(out, std::string(name) + "_count", "", static_cast<double>(count_.load()));
}

void Metrics::render(std::string& out) const {
  const std::string records = "dynarep_replicate_records_total";
  prom_header(out, records, "counter", "Change records by outcome");
  prom_sample(out, records, "outcome=\"received\"", static_cast<double>(received.load()));
  prom_sample(out, records, "outcome=\"applied\"", static_cast<double>(applied.load()));
  prom_sample(out, records, "outcome=\"superseded\"", static_cast<double>(superseded.load()));
  prom_sample(out, records, "outcome=\"skipped\"", static_cast<double>(skipped.load()));
  prom_sample(out, records, "outcome=\"dead_lettered\"", static_cast<double>(dead_lettered.load()));
  const std::string writes = "dynarep_replicate_writes_total";
  prom_header(out, writes, "counter", "Writes to the replica table, one per distinct key per batch");
  prom_sample(out, writes, "op=\"put\"", static_cast<double>(puts.load()));
  prom_sample(out, writes, "op=\"delete\"", static_cast<double>(deletes.load()));
  prom_header(out, "dynarep_replicate_keys_read_total", "counter", "Keys read from the primary (consistent reads)");
  prom_sample(out, "dynarep_replicate_keys_read_total", "", static_cast<double>(keys_read.load()));
  prom_header(out, "dynarep_replicate_batch_errors_total", "counter", "Batches that failed and will be retried");
  prom_sample(out, "dynarep_replicate_batch_errors_total", "", static_cast<double>(batch_errors.load()));
  prom_header(out, "dynarep_replicate_fenced_writes_refused_total", "counter",
              "Fenced replica writes refused because the lease was no longer this worker's");
  prom_sample(out, "dynarep_replicate_fenced_writes_refused_total", "", static_cast<double>(fenced_writes_refused.load()));
  lag.render(out, "dynarep_replicate_lag_seconds",
             "End-to-end lag: time of apply minus the record's ApproximateArrivalTimestamp");
}

void render_worker_metrics(std::string& out, const lease::Worker& worker) {
  const lease::WorkerStats s = worker.stats();
  auto counter = [&](std::string_view name, std::string_view help, int64_t v) {
    std::string n = fmt::format("dynarep_replicate_{}", name);
    prom_header(out, n, "counter", help);
    prom_sample(out, n, "", static_cast<double>(v));
  };
  counter("stream_records_read_total", "Records read from the stream (GetRecords)", s.records_read);
  counter("batches_processed_total", "Batches processed and checkpointed", s.batches_processed);
  counter("batch_retries_total", "Batch attempts that failed and were retried", s.batch_failures);
  counter("checkpoints_total", "Checkpoints written", s.checkpoints);
  counter("get_records_calls_total", "GetRecords calls", s.get_records_calls);
  counter("get_records_errors_total", "GetRecords calls that failed (after the client's retries)",
          s.get_records_errors);
  counter("iterators_expired_total", "Shard iterators that expired and were renewed", s.iterators_expired);
  counter("trimmed_data_total",
          "Checkpoints past the stream's retention (TrimmedDataAccessException): records lost, shard went on from "
          "TRIM_HORIZON; run diff-tables --repair",
          s.trimmed_data);
  counter("leases_taken_total", "Leases taken (stolen ones included)", s.leases_taken);
  counter("leases_stolen_total", "Leases stolen from other workers", s.leases_stolen);
  counter("leases_lost_total", "Leases lost to other workers or to expiry", s.leases_lost);
  counter("shards_finished_total", "Closed shards read to their end", s.shards_finished);
  auto shards = worker.shard_status();
  prom_header(out, "dynarep_replicate_leases_held", "gauge", "Shards this worker is consuming");
  prom_sample(out, "dynarep_replicate_leases_held", "", static_cast<double>(shards.size()));
  prom_header(out, "dynarep_replicate_millis_behind_latest", "gauge",
              "GetRecords MillisBehindLatest per shard (-1 before the first read)");
  for (const auto& sh : shards) {
    prom_sample(out, "dynarep_replicate_millis_behind_latest", fmt::format("shard=\"{}\"", sh.shard_id.str()),
                static_cast<double>(sh.millis_behind_latest));
  }
}

void render_aws_metrics(std::string& out, std::string_view client, const aws::RetryStats& st, bool with_headers) {
  const std::string labels = fmt::format("client=\"{}\"", client);
  auto one = [&](std::string_view name, std::string_view help, uint64_t v) {
    std::string n = fmt::format("dynarep_aws_{}", name);
    if (with_headers) prom_header(out, n, "counter", help);
    prom_sample(out, n, labels, static_cast<double>(v));
  };
  one("calls_total", "AWS calls started", st.calls());
  one("retries_total", "AWS call attempts after the first", st.retries());
  one("throttles_total", "Throttling errors received", st.throttles());
  one("transient_errors_total", "Transient errors received (network, 5xx)", st.transient_errors());
  one("failures_total", "AWS calls that failed after retries", st.failures());
}

// ---------------------------------------------------------------------------------------------

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& bind, int port, Body body,
                                                            Ready ready) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fatal(fmt::format("metrics server: socket: {}", std::strerror(errno)));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, bind.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    return invalid_input(fmt::format("metrics server: bind address \"{}\" is not an IPv4 address", bind));
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 16) != 0) {
    int e = errno;
    ::close(fd);
    return fatal(fmt::format("metrics server: cannot listen on {}:{}: {}", bind, port, std::strerror(e)));
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return std::unique_ptr<MetricsServer>(new MetricsServer(fd, ntohs(addr.sin_port), std::move(body), std::move(ready)));
}

MetricsServer::MetricsServer(int fd, int port, Body body, Ready ready)
    : fd_(fd), port_(port), body_(std::move(body)), ready_(std::move(ready)) {
  thread_ = std::thread([this] { loop(); });
}

MetricsServer::~MetricsServer() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  ::close(fd_);
}

void MetricsServer::loop() {
  while (!stop_.load()) {
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    if (r <= 0) continue;
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    serve(c);
    ::close(c);
  }
}

void MetricsServer::serve(int fd) {
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  std::string req;
  char buf[2048];
  while (req.find("\r\n\r\n") == std::string::npos && req.size() < 16384) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    req.append(buf, static_cast<size_t>(n));
  }
  std::string status = "200 OK";
  std::string body;
  std::string type = "text/plain; version=0.0.4; charset=utf-8";
  auto line_end = req.find("\r\n");
  std::string first = req.substr(0, line_end == std::string::npos ? req.size() : line_end);
  bool get = first.rfind("GET ", 0) == 0;
  std::string path = get ? first.substr(4, first.find(' ', 4) - 4) : "";
  if (!get) {
    status = "405 Method Not Allowed";
    body = "GET only\n";
  } else if (path == "/metrics" || path == "/") {
    body = body_();
  } else if (path == "/healthz") {
    body = "ok\n";
  } else if (path == "/readyz") {
    auto why = ready_ ? ready_() : std::nullopt;
    if (why) {
      status = "503 Service Unavailable";
      body = "not ready: " + *why + "\n";
    } else {
      body = "ready\n";
    }
  } else {
    status = "404 Not Found";
    body = "not found; try /metrics, /healthz or /readyz\n";
  }
  std::string resp = fmt::format("HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                 status, type, body.size());
  resp += body;
  std::string_view rest = resp;
  while (!rest.empty()) {
    ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    rest.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace dynarep::replicate
