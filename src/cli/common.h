// Helpers every subcommand uses: opening table locations, reading keys, reporting errors
// the same way (one line on stderr naming what failed; exit code per docs/formats.md §5).
#pragma once

#include <chrono>

#include <memory>
#include <string>

#include "aws/location.h"
#include "lease/worker.h"
#include "cli/command.h"
#include "core/error.h"
#include "dynamodb/client.h"
#include "model/item.h"

namespace dynarep::backup {
class Storage;
}

namespace dynarep::cli {

struct TableTarget {
  aws::TableLocation location;
  std::shared_ptr<dynamodb::Client> client;
  const std::string& table() const { return location.table; }
  const std::string& display() const { return location.display; }
};

// Parses a table location (region/table, host:port/table) and returns a client for its
// endpoint, signing with `credentials` (default: the default chain). Clients are shared per
// endpoint and credentials within the process, so their connections and caches are.
Result<TableTarget> open_table(const std::string& text, const std::string& endpoint_flag,
                               const aws::CredentialsSpec& credentials = {});

// Where backups go or come from (S3, a local directory, stdin/stdout), S3 signed with
// `credentials` (--s3-profile / --s3-role-arn: a bucket in a backup account; empty: the
// default chain).
std::unique_ptr<backup::Storage> storage_for(const std::string& s3_endpoint, const aws::CredentialsSpec& credentials,
                                             Io& io);

// Whose credentials one side of a command uses (docs/credentials.md): --<side>-profile NAME and
// --<side>-role-arn ARN, added to `app` by add_credentials_options. `what` names the side in
// the help ("the replica table"), `fallback` what it uses without them.
void add_credentials_options(CLI::App& app, std::string_view side, std::string_view what,
                             aws::CredentialsSpec& credentials,
                             std::string_view fallback = "the standard chain: environment, AWS_PROFILE, ...");
// `own` when either of its options was given, else `fallback` (a stream in the primary's
// account by default).
const aws::CredentialsSpec& credentials_or(const aws::CredentialsSpec& own, const aws::CredentialsSpec& fallback);

// A DynamoDB client for a location without a table (`dynarep tables us-east-1`).
Result<std::shared_ptr<dynamodb::Client>> open_endpoint(const std::string& text,
                                                        const std::string& endpoint_flag);

// The dyno commands' table argument: also dyno's `local/TABLE` (http://localhost:4567, or the
// -e endpoint's table in the default region).
std::string dyno_location(const std::string& text, const std::string& endpoint);
Result<TableTarget> open_location(const std::string& text, const std::string& endpoint);
// Adds that positional `location` and `-e,--endpoint` to a dyno command.
void add_location_options(CLI::App& app, std::string& location, std::string& endpoint);

// Adds --endpoint to a subcommand.
void add_endpoint_option(CLI::App& app, std::string& endpoint);
// A duration option: "200ms", "10s", "2m". The error names the option and says what is expected.
Result<std::chrono::milliseconds> parse_duration(std::string_view text, std::string_view option);
// --start-at (replicate, incremental-backup): TRIM_HORIZON, LATEST (either case, '-' or '_'), or
// a time (ISO 8601 or epoch milliseconds). The error names the option.
Result<lease::StartPosition> parse_start_position(std::string_view text, std::string_view option);

// Which stream a stream consumer (replicate, incremental-backup, status) reads: --stream NAME
// (a Kinesis stream), --stream ARN (a DynamoDB stream), or --table-stream (the primary's own
// DynamoDB stream, found with DescribeTable).
struct StreamChoice {
  std::string stream;
  bool table_stream = false;
  std::string region;            // --stream-region (default: the primary's)
  std::string kinesis_endpoint;  // --kinesis-endpoint
  std::string streams_endpoint;  // --streams-endpoint
};
// Adds --table-stream and --streams-endpoint (--stream and --kinesis-endpoint are the command's).
void add_table_stream_options(CLI::App& app, StreamChoice& choice);

struct OpenedStream {
  std::string name;           // the Kinesis stream's name or the DynamoDB stream's ARN (lease::Config::stream)
  std::string lease_table;    // the default lease table for it
  bool dynamodb_stream = false;
  std::unique_ptr<lease::ShardSource> source;
  std::shared_ptr<aws::AwsClient> aws;  // the calls underneath (metrics)
  std::shared_ptr<void> client;         // keeps the source's client alive
};
// Opens what `choice` names for `primary`. Usage errors (neither or both of --stream and
// --table-stream) have code "Usage"; a table without a stream names it and the command to run.
// The stream is read with `credentials` (empty: the default chain).
Result<OpenedStream> open_stream(const TableTarget& primary, const StreamChoice& choice,
                                 const aws::CredentialsSpec& credentials = {});

// Prints "dynarep <command>: <error>" and returns the exit code for it: 2 for a usage error
// (bad argument), 3 otherwise.
int report(Io& io, std::string_view command, const Error& error);
int usage_error(Io& io, std::string_view command, std::string_view message);

}  // namespace dynarep::cli
