// status: what the lease table (and the stream) say about a running replicator or incremental
// backup. Parse, call replicate::lease_status, print; exit 0 healthy, 1 with one line per problem
// (so it serves as a health check), 2 usage, 3 when the lease table cannot be read.
#include <fmt/format.h>

#include <optional>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/location.h"
#include "cli/command.h"
#include "cli/common.h"
#include "core/clock.h"
#include "kinesis/client.h"
#include "lease/lease_store.h"
#include "replicate/status.h"

namespace dynarep::cli {
namespace {

class StatusCommand final : public Command {
 public:
  std::string_view name() const override { return "status"; }
  std::string_view summary() const override {
    return "Per shard: owner, lease age, checkpoint, lag; per worker: shards. Exit 1 when a shard has no live "
           "owner or lags (a health check)";
  }
  std::string_view group() const override { return "Replication"; }
  void setup(CLI::App& app) override {
    app.add_option("--lease-table", lease_table_,
                   "The lease table: region/table, host:port/table, or a name in --region (the replicator's "
                   "default is dynarep-leases-<stream>)")
        ->required();
    app.add_option("--stream", stream_.stream,
                   "The Kinesis stream, or a DynamoDB stream's ARN: adds how far each shard's checkpoint is behind");
    add_table_stream_options(app, stream_);
    app.add_option("--primary", primary_, "With --table-stream: the table whose DynamoDB stream is read");
    app.add_option("--region", region_, "Region of a lease table given by name, and of the stream (default: AWS_REGION)");
    app.add_option("--kinesis-endpoint", stream_.kinesis_endpoint,
                   "Kinesis endpoint URL (default: AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL or the region's)");
    app.add_option("--lease-duration", lease_duration_,
                   "The workers' --lease-duration: a lease not renewed for this long has no live owner (default 10s)");
    app.add_option("--max-lag", max_lag_, "A shard further behind than this is a problem (default 60s)");
    app.add_option("--dead-letter", dead_letter_, "A dead-letter directory: count the records waiting in it");
    app.add_flag("--json", json_, "One JSON object instead of the table");
    add_endpoint_option(app, endpoint_);
    add_credentials_options(app, "lease", "the lease table", lease_creds_);
    add_credentials_options(app, "stream", "the stream (and --primary)", stream_creds_, "the lease table's");
  }

  int run(Io& io) override {
    replicate::StatusOptions opt;
    auto lease_duration = parse_duration(lease_duration_, "--lease-duration");
    if (!lease_duration.ok()) return usage_error(io, name(), lease_duration.error().message);
    auto max_lag = parse_duration(max_lag_, "--max-lag");
    if (!max_lag.ok()) return usage_error(io, name(), max_lag.error().message);
    opt.lease_duration = *lease_duration;
    opt.max_lag = *max_lag;
    opt.dead_letter_dir = dead_letter_;
    const std::string region = region_.empty() ? aws::default_region() : region_;
    std::string where = lease_table_.find('/') == std::string::npos ? region + "/" + lease_table_ : lease_table_;
    auto table = open_table(where, endpoint_, lease_creds_);
    if (!table.ok()) return usage_error(io, name(), table.error().describe());
    std::optional<OpenedStream> stream;
    if (!stream_.stream.empty() || stream_.table_stream) {
      if (stream_.table_stream && primary_.empty()) return usage_error(io, name(), "--table-stream needs --primary");
      // The stream's region and endpoint: the primary's, else the lease table's.
      const aws::CredentialsSpec& stream_creds = credentials_or(stream_creds_, lease_creds_);
      auto near = primary_.empty() ? table : open_table(primary_, endpoint_, stream_creds);
      if (!near.ok()) return usage_error(io, name(), near.error().describe());
      if (stream_.region.empty() && primary_.empty()) stream_.region = region;
      auto opened = open_stream(*near, stream_, stream_creds);
      if (!opened.ok()) {
        if (opened.error().code == "Usage") return usage_error(io, name(), opened.error().message);
        return report(io, name(), opened.error());
      }
      stream = std::move(opened).value();
      opt.source = stream->source.get();
    }
    lease::DynamoLeaseStore store(*table->client, table->table());
    auto report_r = replicate::lease_status(store, opt, SystemClock::instance().now());
    if (!report_r.ok()) return report(io, name(), Error(report_r.error()).with_context("lease table " + table->display()));
    io.out << (json_ ? replicate::render_status_json(*report_r) : replicate::render_status_text(*report_r));
    return report_r->healthy() ? kExitOk : kExitDiscrepancies;
  }

 private:
  StreamChoice stream_;
  std::string lease_table_, primary_, region_, endpoint_, dead_letter_;
  aws::CredentialsSpec lease_creds_, stream_creds_;
  std::string lease_duration_ = "10s", max_lag_ = "60s";
  bool json_ = false;
};

}  // namespace
}  // namespace dynarep::cli

using dynarep::cli::StatusCommand;
DYNAREP_REGISTER_COMMAND(StatusCommand)
