// dynarep replicate: keeps a replica table equal to a primary by consuming the primary's change
// stream (docs/formats.md §3). Three ways to run it:
//   daemon   dynarep replicate --primary us-east-1/t --replica eu-west-1/t --stream t-changes
//            (any number of processes share the shards through a lease table); --table-stream
//            or --stream <DynamoDB stream ARN> reads the primary's own DynamoDB stream instead
//   event    dynarep replicate --replica eu-west-1/t [--primary ...] --event event.json
//   Lambda   the binary named `bootstrap` in a custom runtime, or --lambda-runtime; settings
//            from the environment (see docs/replication.md).
#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/location.h"
#include "cli/command.h"
#include "cli/common.h"
#include "kinesis/client.h"
#include "lease/sync_point.h"
#include "lease/worker.h"
#include "replicate/daemon.h"
#include "replicate/dead_letter.h"
#include "core/json_writer.h"
#include "s3/client.h"
#include "replicate/lambda.h"
#include "replicate/metrics.h"
#include "replicate/redrive.h"
#include "replicate/replicator.h"
#include "replicate/turnover.h"

namespace dynarep::cli {
namespace {

using namespace std::chrono_literals;

// Set by SIGTERM / SIGINT while a replicate command runs.
std::atomic<bool> g_stop{false};
void on_replicate_stop_signal(int) { g_stop.store(true); }

// Installs the stop handlers for the lifetime of the object and restores the previous ones.
class StopSignals {
 public:
  StopSignals() {
    g_stop.store(false);
    struct sigaction sa {};
    sa.sa_handler = on_replicate_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old_term_);
    sigaction(SIGINT, &sa, &old_int_);
  }
  ~StopSignals() {
    sigaction(SIGTERM, &old_term_, nullptr);
    sigaction(SIGINT, &old_int_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction old_term_ {};
  struct sigaction old_int_ {};
};

std::string env_or(const char* name, const char* fallback_name = nullptr) {
  if (const char* v = std::getenv(name); v != nullptr && *v != '\0') return v;
  if (fallback_name != nullptr) {
    if (const char* v = std::getenv(fallback_name); v != nullptr && *v != '\0') return v;
  }
  return "";
}

bool truthy(const std::string& v) { return v == "1" || v == "true" || v == "TRUE" || v == "yes"; }

Error usage(std::string message) { return Error(ErrorKind::kInvalidInput, "Usage", std::move(message)); }

// The options shared by every mode, after parsing.
struct Settings {
  std::string primary, replica, endpoint, s3_endpoint, dead_letter;
  std::string fence_table;  // daemon mode: set from --fence
  bool reread = false;
  std::string turnover_role, turnover_at;
  int parallel = 4;
  aws::CredentialsSpec primary_creds, replica_creds;  // --primary-profile, --replica-role-arn, ...
  aws::CredentialsSpec dead_letter_creds;             // --dead-letter-profile: an s3:// --dead-letter
  bool report_batch_item_failures = false;  // Lambda modes: answer {"batchItemFailures":[...]}
};

// Builds the replicator: opens both tables, checks their keys, opens the dead-letter sink.
Result<std::unique_ptr<replicate::Replicator>> make_replicator(const Settings& s,
                                                               std::shared_ptr<replicate::Metrics> metrics) {
  if (s.replica.empty()) return usage("no replica table (--replica, or REPLICA in the environment)");
  replicate::ReplicatorOptions o;
  std::string region;
  if (!s.primary.empty()) {
    auto p = open_table(s.primary, s.endpoint, s.primary_creds);
    if (!p.ok()) return usage(p.error().describe());
    o.primary = p->client;
    o.primary_table = p->table();
    region = p->location.endpoint.region;
  }
  auto r = open_table(s.replica, s.endpoint, s.replica_creds);
  if (!r.ok()) return usage(r.error().describe());
  o.replica = r->client;
  o.replica_table = r->table();
  if (region.empty()) region = r->location.endpoint.region;
  DR_ASSIGN(o.key_schema, replicate::check_tables(o.primary.get(), o.primary_table, *o.replica, o.replica_table));
  o.reread = s.reread;
  if (o.reread && !o.primary) return usage("--reread needs --primary");
  if (!s.turnover_role.empty() || !s.turnover_at.empty()) {
    if (s.turnover_role.empty() || s.turnover_at.empty()) {
      return usage("--turnover-role and --turnover-at go together");
    }
    replicate::Turnover t;
    auto role = replicate::parse_turnover_role(s.turnover_role);
    if (!role.ok()) return usage(role.error().message);
    auto at = replicate::parse_turnover_time(s.turnover_at);
    if (!at.ok()) return usage(at.error().message);
    t.role = *role;
    t.at = *at;
    o.turnover = t;
  }
  auto sink = replicate::open_dead_letter_sink(s.dead_letter, aws::default_region(), s.s3_endpoint,
                                                  s.dead_letter_creds);
  if (!sink.ok()) return usage(sink.error().describe());
  o.dead_letters = std::shared_ptr<replicate::DeadLetterSink>(std::move(sink).value());
  o.metrics = std::move(metrics);
  o.parallel = s.parallel;
  o.fence_table = s.fence_table;
  return std::make_unique<replicate::Replicator>(std::move(o));
}

// Lambda settings from the environment (the custom runtime has no command line). The
// original's names are read too: PrimaryTable/PrimaryRegion, ReplicaTable/ReplicaRegion,
// TurnoverRole/TurnoverAt.
Settings settings_from_env(Settings s) {
  auto location = [](const char* table, const char* region) {
    std::string t = env_or(table), r = env_or(region);
    if (t.empty()) return std::string();
    return (r.empty() ? aws::default_region() : r) + "/" + t;
  };
  if (s.primary.empty()) s.primary = env_or("PRIMARY");
  if (s.primary.empty()) s.primary = location("PrimaryTable", "PrimaryRegion");
  if (s.replica.empty()) s.replica = env_or("REPLICA");
  if (s.replica.empty()) s.replica = location("ReplicaTable", "ReplicaRegion");
  if (s.dead_letter.empty()) s.dead_letter = env_or("DEAD_LETTER");
  if (!s.reread) s.reread = truthy(env_or("REREAD"));
  if (!s.report_batch_item_failures) s.report_batch_item_failures = truthy(env_or("REPORT_BATCH_ITEM_FAILURES"));
  if (s.turnover_role.empty()) s.turnover_role = env_or("TURNOVER_ROLE", "TurnoverRole");
  if (s.turnover_at.empty()) s.turnover_at = env_or("TURNOVER_AT", "TurnoverAt");
  return s;
}

class ReplicateCommand final : public Command {
 public:
  std::string_view name() const override { return "replicate"; }
  std::string_view summary() const override {
    return "Keep a replica table equal to a primary by consuming its change stream (daemon or Lambda)";
  }
  std::string_view group() const override { return "Replication"; }

  void setup(CLI::App& app) override {
    app.add_option("--primary", s_.primary, "Primary table (region/table or host:port/table): KEYS_ONLY records are read from it");
    app.add_option("--replica", s_.replica, "Replica table (region/table or host:port/table)");
    app.add_option("--stream", stream_.stream,
                   "Kinesis stream of change records, or a DynamoDB stream's ARN (daemon mode)");
    add_table_stream_options(app, stream_);
    app.add_option("--stream-region", stream_.region, "Region of the stream (default: the primary's)");
    app.add_option("--lease-table", lease_table_,
                   "Lease table: a name (in the primary's region/endpoint) or region/table (default: "
                   "dynarep-leases-<stream>, or dynarep-leases-<table>-<stream label> for a DynamoDB stream; "
                   "created on demand, on-demand billing)");
    app.add_option("--worker-id", worker_id_, "This worker's id in the lease table (default: host:pid:random)");
    app.add_option("--start-at", start_at_,
                   "Where shards without a checkpoint start: TRIM_HORIZON (default), LATEST, or a time "
                   "(ISO 8601 or epoch milliseconds)");
    app.add_option("--dead-letter", s_.dead_letter,
                   "Where records that cannot be applied go: a directory (one <shard>.jsonl each) or "
                   "s3://bucket/prefix (default: stderr only)");
    app.add_flag("--reread", s_.reread, "Read every key from the primary, also for records that carry images");
    app.add_option("--turnover-role", s_.turnover_role,
                   "BEFORE: apply only changes made before --turnover-at; AFTER: only at or after it");
    app.add_option("--turnover-at", s_.turnover_at, "Turnover time: epoch milliseconds or ISO 8601");
    app.add_option("--metrics-port", metrics_port_, "Serve Prometheus metrics on this port (0: any free port; default: off)");
    app.add_option("--metrics-bind", metrics_bind_, "Address for the metrics server (default 127.0.0.1; 0.0.0.0 for all)");
    add_endpoint_option(app, s_.endpoint);
    add_credentials_options(app, "primary", "the primary table", s_.primary_creds);
    add_credentials_options(app, "replica", "the replica table", s_.replica_creds);
    // Not the replica's: dead letters are the operator's to look at, wherever the replica is.
    add_credentials_options(app, "dead-letter", "an s3:// --dead-letter", s_.dead_letter_creds);
    add_credentials_options(app, "stream", "the stream", stream_creds_, "the primary's");
    add_credentials_options(app, "lease", "the lease table", lease_creds_,
                            "the replica's when the lease table is at the replica's endpoint, else the primary's");
    app.add_option("--kinesis-endpoint", stream_.kinesis_endpoint,
                   "Kinesis endpoint URL (default: AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL or the region's)");
    app.add_option("--s3-endpoint", s_.s3_endpoint, "S3 endpoint URL for s3:// dead letters");
    app.add_option("--fence", fence_,
                   "auto (default): fence replica writes on the lease with TransactWriteItems when the lease table "
                   "is beside the replica (same endpoint) and the service has transactions, else the write "
                   "deadline only; transact: require the fence; deadline: never (half the write units)")
        ->check(CLI::IsMember({"auto", "transact", "deadline"}));
    app.add_option("--lease-duration", lease_duration_, "Lease duration: a dead worker's shards move after this (default 10s)");
    app.add_option("--idle-poll", idle_poll_, "Wait after an empty GetRecords (default 200ms)");
    app.add_option("--max-records", max_records_, "GetRecords Limit (default 2000: 10,000 records/s a shard at 5 calls/s, ten times a shard's write limit, in a third of the memory)")->check(CLI::Range(1, 10000));
    app.add_flag("--no-prefetch", no_prefetch_,
                 "Read a shard's next page only after its batch is applied and checkpointed (default: the next "
                 "GetRecords is in flight while a batch is applied, within the 5 calls/s per shard; one more page "
                 "per shard in memory)");
    app.add_option("--max-leases", max_leases_, "Shards one worker consumes at most (default: no cap)")->check(CLI::Range(0, 100000));
    app.add_option("--shard-sync-interval", shard_sync_, "How often new shards are looked for (default 60s)");
    app.add_option("--shutdown-timeout", shutdown_timeout_,
                   "On SIGTERM, how long a failing batch is still retried before exiting without its checkpoint (default 30s)");
    app.add_option("--log-interval", log_interval_, "Throughput log line interval (default 10s)");
    app.add_option("--parallel", s_.parallel, "Segments of a batch applied at once, per shard: each one BatchGetItem of up to 100 keys, then its writes (default 4)")
        ->check(CLI::Range(1, 64));
    app.add_option("--event", event_, "Apply one Lambda event ({\"Records\":[...]}) from FILE or - and exit");
    app.add_flag("--lambda-runtime", lambda_runtime_,
                 "Run as a Lambda custom runtime on $AWS_LAMBDA_RUNTIME_API (settings from the environment)");
    app.add_flag("--report-batch-item-failures", s_.report_batch_item_failures,
                 "Lambda modes: answer {\"batchItemFailures\":[...]} naming the records not applied (the event source "
                 "mapping's ReportBatchItemFailures; REPORT_BATCH_ITEM_FAILURES=true in the runtime)");
  }

  int run(Io& io) override {
    if (auto st = lease::sync::install_from_env(); !st.ok()) return usage_error(io, name(), st.error().message);
    if (lambda_runtime_) return run_runtime(io);
    if (!event_.empty()) return run_event(io);
    return run_daemon(io);
  }

 private:
  int fail(Io& io, const Error& e) {
    if (e.code == "Usage") return usage_error(io, name(), e.message);
    return report(io, name(), e);
  }

  int run_event(Io& io) {
    std::string text;
    if (event_ == "-") {
      text.assign(std::istreambuf_iterator<char>(io.in), std::istreambuf_iterator<char>());
    } else {
      std::ifstream f(event_, std::ios::binary);
      if (!f) return report(io, name(), fatal(fmt::format("cannot read event file {}: {}", event_, std::strerror(errno))));
      text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
    auto rep = make_replicator(s_, nullptr);
    if (!rep.ok()) return fail(io, rep.error());
    if (s_.report_batch_item_failures) {
      // The answer Lambda would get; exit 1 when it names records (as redrive's still failing).
      auto partial = replicate::apply_lambda_event_partial(**rep, text, SystemClock::instance());
      if (!partial.ok()) return report(io, name(), partial.error());
      io.out << replicate::batch_item_failures_json(*partial) << "\n";
      if (partial->failed_sequence_numbers.empty()) return kExitOk;
      io.err << "dynarep replicate: " << partial->failed_sequence_numbers.size() << " record(s) not applied, from "
             << "sequence number " << partial->failed_sequence_numbers.front() << ": "
             << partial->first_error->describe() << "\n";
      return kExitDiscrepancies;
    }
    auto r = replicate::apply_lambda_event(**rep, text, SystemClock::instance());
    if (!r.ok()) return report(io, name(), r.error());
    io.out << replicate::apply_result_json(*r) << "\n";
    return kExitOk;
  }

  int run_runtime(Io& io) {
    std::string api = env_or("AWS_LAMBDA_RUNTIME_API");
    if (api.empty()) return usage_error(io, name(), "--lambda-runtime needs AWS_LAMBDA_RUNTIME_API in the environment");
    StopSignals signals;
    replicate::RuntimeOptions ro;
    ro.api = api;
    Settings s = settings_from_env(s_);
    ro.init = [s] { return make_replicator(s, nullptr); };
    ro.report_batch_item_failures = s.report_batch_item_failures;
    if (auto n = env_or("DYNAREP_LAMBDA_MAX_INVOCATIONS"); !n.empty()) ro.max_invocations = std::atoi(n.c_str());
    int rc = replicate::run_lambda_runtime(ro, g_stop, SystemClock::instance());
    return rc == 0 ? kExitOk : kExitFailure;
  }

  Result<lease::Config> worker_config(const TableTarget& primary) {
    lease::Config c;
    c.worker_id = worker_id_;
    DR_ASSIGN(c.lease_duration, parse_duration(lease_duration_, "--lease-duration"));
    DR_ASSIGN(c.idle_poll, parse_duration(idle_poll_, "--idle-poll"));
    DR_ASSIGN(c.shard_sync_interval, parse_duration(shard_sync_, "--shard-sync-interval"));
    DR_ASSIGN(c.shutdown_timeout, parse_duration(shutdown_timeout_, "--shutdown-timeout"));
    if (c.lease_duration < 300ms) return usage("--lease-duration must be at least 300ms");
    c.max_records = max_records_;
    c.max_leases = max_leases_;
    c.prefetch = !no_prefetch_;
    DR_ASSIGN(c.initial_position, parse_start_position(start_at_, "--start-at"));
    (void)primary;
    return c;
  }

  // --fence: sets s_.fence_table when replica writes are to be fenced on the lease item, and
  // says which protection is in force (replicate::choose_fence).
  Result<std::string> choose_fence(const std::shared_ptr<dynamodb::Client>& lease_db, const std::string& lease_table) {
    s_.fence_table.clear();
    const auto mode = fence_ == "deadline"   ? replicate::FenceMode::kDeadline
                      : fence_ == "transact" ? replicate::FenceMode::kTransact
                                             : replicate::FenceMode::kAuto;
    // Opened in every mode (make_replicator opens it next anyway, with the same error).
    auto replica = open_table(s_.replica, s_.endpoint, s_.replica_creds);  // clients are shared per endpoint
    if (!replica.ok()) return usage(replica.error().describe());
    DR_ASSIGN(auto fence, replicate::choose_fence(mode, *replica->client, s_.replica, *lease_db, lease_table));
    s_.fence_table = fence.fence_table;
    return fence.description;
  }

  int run_daemon(Io& io) {
    if (stream_.stream.empty() && !stream_.table_stream) {
      return usage_error(io, name(), "--stream or --table-stream is required (or --event / --lambda-runtime)");
    }
    if (s_.primary.empty()) return usage_error(io, name(), "--primary is required with --stream / --table-stream");
    if (s_.replica.empty()) return usage_error(io, name(), "--replica is required");
    auto primary = open_table(s_.primary, s_.endpoint, s_.primary_creds);
    if (!primary.ok()) return usage_error(io, name(), primary.error().describe());
    auto cfg = worker_config(*primary);
    if (!cfg.ok()) return fail(io, cfg.error());
    auto log_every = parse_duration(log_interval_, "--log-interval");
    if (!log_every.ok()) return fail(io, log_every.error());

    // The stream: a missing one fails before anything is created for it (the fence's probe
    // needs the lease table).
    auto opened = open_stream(*primary, stream_, credentials_or(stream_creds_, s_.primary_creds));
    if (!opened.ok()) return fail(io, opened.error());
    if (auto shards = opened->source->list_shards(); !shards.ok() && !shards.error().retryable()) {
      return report(io, name(), shards.error());
    }
    cfg->stream = opened->name;

    // Lease table: a name in the primary's endpoint, or a full location.
    std::shared_ptr<dynamodb::Client> lease_db = primary->client;
    std::string lease_table = lease_table_.empty() ? opened->lease_table : lease_table_;
    if (!lease_creds_.empty() && lease_table.find('/') == std::string::npos) {
      // The primary's endpoint with the lease side's credentials.
      auto at_primary = open_table(s_.primary, s_.endpoint, lease_creds_);
      if (!at_primary.ok()) return usage_error(io, name(), at_primary.error().describe());
      lease_db = at_primary->client;
    }
    if (lease_table.find('/') != std::string::npos) {
      // Beside the replica (the fence's setup), the lease table is in the replica's account.
      auto where = aws::parse_table_location(lease_table, s_.endpoint);
      auto replica_at = aws::parse_table_location(s_.replica, s_.endpoint);
      const bool beside_replica = where.ok() && replica_at.ok() && where->endpoint.url == replica_at->endpoint.url;
      auto lt = open_table(lease_table, s_.endpoint,
                           credentials_or(lease_creds_, beside_replica ? s_.replica_creds : s_.primary_creds));
      if (!lt.ok()) return usage_error(io, name(), lt.error().describe());
      lease_db = lt->client;
      lease_table = lt->table();
    }
    cfg->lease_table = lease_table;

    auto fence = choose_fence(lease_db, lease_table);
    if (!fence.ok()) return fail(io, fence.error());

    auto metrics = std::make_shared<replicate::Metrics>();
    auto rep = make_replicator(s_, metrics);
    if (!rep.ok()) return fail(io, rep.error());

    replicate::DaemonOptions d;
    d.worker = std::move(*cfg);
    d.source = std::move(opened->source);
    d.lease_db = lease_db;
    d.replicator = std::move(rep).value();
    d.metrics = std::move(metrics);
    d.metrics_port = metrics_port_;
    d.metrics_bind = metrics_bind_;
    d.log_interval = *log_every;
    d.primary_display = s_.primary;
    d.replica_display = s_.replica;
    d.fence_description = *fence;
    d.turnover_description = fmt::format("{} {}", s_.turnover_role, s_.turnover_at);
    d.dynamodb_stream = opened->dynamodb_stream;
    d.stream_aws = opened->aws;
    d.watchdog_exit_code = kExitFailure;
    StopSignals signals;
    Status st = replicate::run_daemon(std::move(d), g_stop);
    if (!st.ok()) return report(io, name(), st.error());
    return kExitOk;
  }

  Settings s_;
  StreamChoice stream_;
  aws::CredentialsSpec stream_creds_, lease_creds_;
  std::string lease_table_, worker_id_, start_at_;
  std::string fence_ = "auto";
  std::string metrics_bind_ = "127.0.0.1";
  int metrics_port_ = -1;
  std::string lease_duration_ = "10s", idle_poll_ = "200ms", shard_sync_ = "60s", shutdown_timeout_ = "30s",
              log_interval_ = "10s";
  int max_records_ = 2000;
  int max_leases_ = 0;
  bool no_prefetch_ = false;
  std::string event_;
  bool lambda_runtime_ = false;
};

// dynarep redrive: applies dead letters again once their cause is fixed (replicate/redrive.h),
// with the replicate command's table options and rules. Exit 0 when every letter was applied,
// 1 when some still fail (they are in --dead-letter), 2 usage, 3 failure.
class RedriveCommand final : public Command {
 public:
  std::string_view name() const override { return "redrive"; }
  std::string_view summary() const override {
    return "Apply dead-lettered records again (a dead-letter file or s3://bucket/prefix) to the replica";
  }
  std::string_view group() const override { return "Replication"; }

  void setup(CLI::App& app) override {
    app.add_option("source", source_, "Dead letters: a .jsonl file (replicate --dead-letter DIR writes DIR/<shard>.jsonl) "
                                      "or s3://bucket/prefix")
        ->required();
    app.add_option("--primary", s_.primary, "Primary table: KEYS_ONLY records are read from it (consistent read)");
    app.add_option("--replica", s_.replica, "Replica table")->required();
    app.add_option("--dead-letter", dead_letter_,
                   "New file for the letters that still fail (default: <source>.still-failing.jsonl; required for s3://)");
    app.add_flag("--reread", s_.reread, "Read every key from the primary, also for records that carry images");
    app.add_option("--turnover-role", s_.turnover_role, "As for replicate: BEFORE or AFTER --turnover-at");
    app.add_option("--turnover-at", s_.turnover_at, "Turnover time: epoch milliseconds or ISO 8601");
    add_endpoint_option(app, s_.endpoint);
    app.add_option("--s3-endpoint", s3_endpoint_, "S3 endpoint URL for an s3:// source");
    add_credentials_options(app, "primary", "the primary table", s_.primary_creds);
    add_credentials_options(app, "replica", "the replica table", s_.replica_creds);
    add_credentials_options(app, "s3", "an s3:// source", s3_creds_);
  }

  int run(Io& io) override {
    const bool from_s3 = source_.rfind("s3://", 0) == 0;
    if (dead_letter_.empty()) {
      if (from_s3) return usage_error(io, name(), "--dead-letter FILE is required with an s3:// source");
      dead_letter_ = source_ + ".still-failing.jsonl";
    }
    std::error_code ec;
    if (std::filesystem::exists(dead_letter_, ec)) {
      return usage_error(io, name(), fmt::format("--dead-letter {} exists: give a new file, so this run's letters are "
                                                 "not mixed with others", dead_letter_));
    }
    auto rep = make_replicator(s_, nullptr);
    if (!rep.ok()) {
      if (rep.error().code == "Usage") return usage_error(io, name(), rep.error().message);
      return report(io, name(), rep.error());
    }
    Result<std::vector<replicate::DeadLetterLine>> lines = invalid_input("unread");
    if (from_s3) {
      auto loc = aws::parse_object_location(source_);
      if (!loc.ok()) return usage_error(io, name(), loc.error().describe());
      auto client = s3::Client::connect(aws::default_region(), s3_endpoint_, {}, s3_creds_);
      lines = replicate::read_dead_letter_objects(client, loc->bucket, loc->key);
    } else {
      lines = replicate::read_dead_letter_file(source_);
    }
    if (!lines.ok()) return report(io, name(), lines.error());
    replicate::RedriveOptions o;
    o.replicator = (*rep)->options();
    auto sink = std::make_shared<replicate::SingleFileDeadLetterSink>(dead_letter_);
    o.still_failing = sink;
    auto r = replicate::redrive(*lines, o);
    if (!r.ok()) return report(io, name(), r.error());
    std::string json;
    JsonWriter w(json);
    w.begin_object();
    w.field("letters", r->letters).field("applied", r->applied).field("stillFailing", r->still_failing);
    w.field("skipped", r->skipped);
    if (r->still_failing > 0) w.field("deadLetter", dead_letter_);
    w.end_object();
    io.out << json << "\n";
    if (r->still_failing > 0) {
      io.err << fmt::format("dynarep redrive: {} of {} letters still fail; they are in {}\n", r->still_failing,
                            r->letters, dead_letter_);
      return kExitDiscrepancies;
    }
    return kExitOk;
  }

 private:
  Settings s_;
  std::string source_, dead_letter_, s3_endpoint_;
  aws::CredentialsSpec s3_creds_;
};

// A Lambda custom runtime starts the file named `bootstrap`. The command line parser (cli::run)
// needs a subcommand, so when this binary runs under that name, re-execute it as
// `dynarep replicate --lambda-runtime` before main() parses anything. (A check of argv[0] in
// main() would be simpler: see docs/replication.md.)
[[maybe_unused]] const bool bootstrap_reexec = [] {
  const char* self = program_invocation_short_name;
  if (self == nullptr || std::strcmp(self, "bootstrap") != 0) return false;
  if (std::getenv("DYNAREP_BOOTSTRAP_REEXEC") != nullptr) return false;  // never loop
  ::setenv("DYNAREP_BOOTSTRAP_REEXEC", "1", 1);
  char arg0[] = "dynarep";
  char arg1[] = "replicate";
  char arg2[] = "--lambda-runtime";
  char* argv[] = {arg0, arg1, arg2, nullptr};
  ::execv("/proc/self/exe", argv);
  return false;  // exec failed: main() will report the usage error
}();

}  // namespace
}  // namespace dynarep::cli

using dynarep::cli::RedriveCommand;
using dynarep::cli::ReplicateCommand;
DYNAREP_REGISTER_COMMAND(ReplicateCommand)
DYNAREP_REGISTER_COMMAND(RedriveCommand)
