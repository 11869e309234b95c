#include "cli/common.h"

#include "replicate/turnover.h"
#include "aws/client.h"
#include "aws/credentials.h"
#include "backup/storage.h"
#include "ddbstreams/client.h"
#include "kinesis/client.h"
#include "lease/shard_source.h"
#include "s3/client.h"

#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include <map>
#include <mutex>

namespace dynarep::cli {
namespace {

std::shared_ptr<dynamodb::Client> client_for(const aws::Endpoint& endpoint) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<dynamodb::Client>> clients;
  std::lock_guard lock(mu);
  // Two accounts at one endpoint (a primary in A, a replica in B, both us-east-1) are two clients.
  auto& c = clients[endpoint.url + "|" + endpoint.region + "|" + endpoint.credentials.profile + "|" +
                    endpoint.credentials.role_arn];
  if (!c) c = dynamodb::Client::connect(endpoint);
  return c;
}

}  // namespace

Result<TableTarget> open_table(const std::string& text, const std::string& endpoint_flag,
                               const aws::CredentialsSpec& credentials) {
  DR_ASSIGN(aws::TableLocation loc, aws::parse_table_location(text, endpoint_flag));
  loc.endpoint.credentials = credentials;
  TableTarget t{loc, client_for(loc.endpoint)};
  return t;
}

Result<std::shared_ptr<dynamodb::Client>> open_endpoint(const std::string& text,
                                                        const std::string& endpoint_flag) {
  // `tables` takes a region or host:port: reuse the table-location rules with a stand-in
  // table name, so both forms and every endpoint override behave exactly as for tables.
  if (text.find('/') != std::string::npos) {
    return invalid_input(fmt::format(
        "location '{}' should be a region (us-east-1) or host:port (localhost:8000), without a table",
        text));
  }
  auto loc = aws::parse_table_location(text + "/listing", endpoint_flag);
  if (!loc.ok()) {
    return invalid_input(fmt::format(
        "location '{}' is not a region (us-east-1) or host:port (localhost:8000)", text));
  }
  return client_for(loc->endpoint);
}

void add_endpoint_option(CLI::App& app, std::string& endpoint) {
  app.add_option("--endpoint", endpoint,
                 "DynamoDB endpoint URL, overriding the location's (default: from the location, "
                 "AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL)");
}

std::unique_ptr<backup::Storage> storage_for(const std::string& s3_endpoint, const aws::CredentialsSpec& credentials,
                                             Io& io) {
  if (credentials.empty()) return std::make_unique<backup::Storage>(s3_endpoint, &io.in, &io.out);
  return std::make_unique<backup::Storage>(
      std::make_shared<s3::Client>(s3::Client::connect(aws::default_region(), s3_endpoint, {}, credentials)),
      &io.in, &io.out);
}

void add_credentials_options(CLI::App& app, std::string_view side, std::string_view what,
                             aws::CredentialsSpec& credentials, std::string_view fallback) {
  app.add_option(fmt::format("--{}-profile", side), credentials.profile,
                 fmt::format("AWS profile for {} (default: {})", what, fallback));
  app.add_option(fmt::format("--{}-role-arn", side), credentials.role_arn,
                 fmt::format("IAM role to assume for {}, with the credentials of --{}-profile (else the standard "
                             "chain)",
                             what, side));
}

const aws::CredentialsSpec& credentials_or(const aws::CredentialsSpec& own, const aws::CredentialsSpec& fallback) {
  return own.empty() ? fallback : own;
}

int report(Io& io, std::string_view command, const Error& error) {
  io.err << "dynarep " << command << ": " << error.describe() << "\n";
  return error.kind == ErrorKind::kInvalidInput && error.code == "Usage" ? kExitUsage : kExitFailure;
}

int usage_error(Io& io, std::string_view command, std::string_view message) {
  io.err << "dynarep " << command << ": " << message << "\n";
  io.err << "Run 'dynarep " << command << " --help' for usage.\n";
  return kExitUsage;
}

std::string dyno_location(const std::string& text, const std::string& endpoint) {
  if (!text.starts_with("local/")) return text;
  const std::string table = text.substr(6);
  return endpoint.empty() ? "localhost:4567/" + table : aws::default_region() + "/" + table;
}

Result<TableTarget> open_location(const std::string& text, const std::string& endpoint) {
  return open_table(dyno_location(text, endpoint), endpoint);
}

void add_location_options(CLI::App& app, std::string& location, std::string& endpoint) {
  app.add_option("location", location, "region/table, host:port/table, or dyno's local/table")->required();
  app.add_option("-e,--endpoint", endpoint,
                 "DynamoDB endpoint URL, overriding the location's (default: from the location, "
                 "AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL); -e as in dyno");
}

// "200ms", "10s", "2m".
Result<std::chrono::milliseconds> parse_duration(std::string_view text, std::string_view option) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + digits, v);
  std::string_view unit = text.substr(digits);
  if (digits == 0 || ec != std::errc() || p != text.data() + digits) {
    return Error(ErrorKind::kInvalidInput, "Usage",
                 fmt::format("{} \"{}\": expected a duration such as 200ms, 10s or 2m", option, text));
  }
  if (unit == "ms") return std::chrono::milliseconds(v);
  if (unit == "s") return std::chrono::milliseconds(v * 1000);
  if (unit == "m") return std::chrono::milliseconds(v * 60000);
  return Error(ErrorKind::kInvalidInput, "Usage", fmt::format("{} \"{}\": the unit must be ms, s or m", option, text));
}

Result<lease::StartPosition> parse_start_position(std::string_view text, std::string_view option) {
  std::string norm;
  for (char c : text) norm += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (norm.empty() || norm == "TRIM_HORIZON") return lease::StartPosition::trim_horizon();
  if (norm == "LATEST") return lease::StartPosition::latest();
  auto t = replicate::parse_turnover_time(text);
  if (!t.ok()) {
    return Error(ErrorKind::kInvalidInput, "Usage",
                 fmt::format("{} \"{}\": expected TRIM_HORIZON, LATEST or a time (ISO 8601 or epoch milliseconds)",
                             option, text));
  }
  return lease::StartPosition::at_timestamp(*t);
}

void add_table_stream_options(CLI::App& app, StreamChoice& choice) {
  app.add_flag("--table-stream", choice.table_stream,
               "Read the primary table's own DynamoDB stream (DescribeTable's LatestStreamArn) instead of a "
               "Kinesis stream: no writer change needed");
  app.add_option("--streams-endpoint", choice.streams_endpoint,
                 "DynamoDB Streams endpoint URL (default: AWS_ENDPOINT_URL_DYNAMODB_STREAMS, AWS_ENDPOINT_URL, the "
                 "primary's host:port for a local table, or the region's)");
}

Result<OpenedStream> open_stream(const TableTarget& primary, const StreamChoice& choice,
                                 const aws::CredentialsSpec& credentials) {
  auto usage = [](std::string m) { return Error(ErrorKind::kInvalidInput, "Usage", std::move(m)); };
  if (choice.table_stream && !choice.stream.empty()) return usage("give --stream or --table-stream, not both");
  if (!choice.table_stream && choice.stream.empty()) return usage("give --stream NAME|ARN or --table-stream");
  OpenedStream out;
  std::string arn = choice.stream;
  if (choice.table_stream) {
    DR_ASSIGN(arn, lease::table_stream_arn(*primary.client, primary.table()));
  }
  std::string region = choice.region.empty() ? primary.location.endpoint.region : choice.region;
  if (choice.table_stream || ddbstreams::looks_like_stream_arn(arn)) {
    out.dynamodb_stream = true;
    out.name = arn;
    out.lease_table = lease::default_stream_lease_table(arn);
    // A table on a plain-HTTP endpoint is on a local server (dynalite, moto, DynamoDB Local),
    // which serves its streams on the same port.
    const std::string& url = primary.location.endpoint.url;
    const bool local = url.rfind("http://", 0) == 0;
    if (choice.region.empty() && !local && !ddbstreams::arn_region(arn).empty()) {
      region = std::string(ddbstreams::arn_region(arn));  // the stream lives where its table does
    }
    auto client = std::make_shared<ddbstreams::Client>(
        ddbstreams::Client::connect(region, choice.streams_endpoint, local ? url : "", SystemClock::instance(),
                                    aws::credentials_for(credentials)));
    out.aws = client->aws();
    out.source = lease::dynamodb_streams_source(*client, arn);
    out.client = client;
    return out;
  }
  out.name = choice.stream;
  out.lease_table = lease::default_lease_table(choice.stream);
  out.aws = std::make_shared<aws::AwsClient>(aws::resolve_endpoint(aws::Service::kKinesis, region, choice.kinesis_endpoint),
                                             aws::credentials_for(credentials));
  auto client = std::make_shared<kinesis::Client>(out.aws);
  out.source = lease::kinesis_source(*client, choice.stream);
  out.client = client;
  return out;
}

}  // namespace dynarep::cli
