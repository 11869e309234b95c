#include "ddbstreams/client.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>

#include "aws/client.h"
#include "aws/dates.h"
#include "aws/location.h"
#include "core/json_writer.h"

namespace dynarep::ddbstreams {
namespace {

namespace dom = simdjson::dom;

dom::parser& thread_parser() {
  thread_local dom::parser parser;
  return parser;
}

Error malformed(std::string_view op, std::string_view what) {
  return Error(ErrorKind::kFatal, "MalformedResponse", fmt::format("{} answer: {}", op, what));
}

// Reads the optional string member `key` of `obj` ("" when absent or not a string).
std::string text_of(dom::element obj, std::string_view key) {
  std::string_view sv;
  if (obj[key].get(sv)) return {};
  return std::string(sv);
}

std::string stream_context(std::string_view op, std::string_view arn) {
  return fmt::format("DynamoDB Streams {} on stream {}", op, arn);
}

}  // namespace

bool is_expired_iterator(const Error& error) { return error.code == kExpiredIteratorCode; }
bool is_trimmed_data(const Error& error) { return error.code == kTrimmedDataCode; }

Client::Client(std::shared_ptr<aws::AwsClient> aws)
    : aws_(aws), transport_([aws](std::string_view target, const std::string& body) {
        return aws->call_json(target, kJsonVersion, body);
      }) {}

Client::Client(Transport transport) : transport_(std::move(transport)) {}

Client Client::connect(const std::string& region, const std::string& endpoint_flag, const std::string& local_fallback,
                       Clock& clock, std::shared_ptr<aws::CredentialsProvider> credentials) {
  auto endpoint = aws::resolve_endpoint(aws::Service::kDynamoDBStreams, region, endpoint_flag);
  // No flag and no environment override: resolve_endpoint fell back to AWS's URL.
  if (endpoint_flag.empty() && !local_fallback.empty() &&
      endpoint.url == aws::aws_endpoint_url(aws::Service::kDynamoDBStreams, endpoint.region)) {
    endpoint.url = local_fallback;
  }
  if (!credentials) credentials = aws::default_credentials_chain(clock);
  return Client(std::make_shared<aws::AwsClient>(std::move(endpoint), std::move(credentials),
                                                 aws::RetryPolicy{}, clock));
}

Result<std::string> Client::call(std::string_view operation, const std::string& body) {
  return transport_(std::string(kTargetPrefix) + std::string(operation), body);
}

Result<std::vector<StreamSummary>> Client::list_streams(const std::string& table) {
  std::vector<StreamSummary> out;
  std::string start;
  for (;;) {
    std::string body;
    JsonWriter w(body);
    w.begin_object();
    if (!table.empty()) w.field("TableName", table);
    if (!start.empty()) w.field("ExclusiveStartStreamArn", start);
    w.end_object();
    auto r = call("ListStreams", body);
    if (!r.ok()) return std::move(r).error().with_context(fmt::format("DynamoDB Streams ListStreams{}", table.empty() ? "" : " of table " + table));
    dom::element doc;
    dom::array streams;
    if (thread_parser().parse(*r).get(doc) || doc["Streams"].get(streams)) return malformed("ListStreams", "no Streams");
    for (dom::element s : streams) {
      out.push_back({text_of(s, "StreamArn"), text_of(s, "TableName"), text_of(s, "StreamLabel")});
    }
    start = text_of(doc, "LastEvaluatedStreamArn");
    if (start.empty()) return out;
  }
}

Result<StreamDescription> Client::describe_stream(const std::string& arn) {
  StreamDescription d;
  std::string start;
  for (;;) {
    std::string body;
    JsonWriter w(body);
    w.begin_object().field("StreamArn", arn).field("Limit", kMaxDescribeStreamLimit);
    if (!start.empty()) w.field("ExclusiveStartShardId", start);
    w.end_object();
    auto r = call("DescribeStream", body);
    if (!r.ok()) return std::move(r).error().with_context(stream_context("DescribeStream", arn));
    dom::element doc;
    dom::element desc;
    if (thread_parser().parse(*r).get(doc) || doc["StreamDescription"].get(desc)) {
      return malformed("DescribeStream", "no StreamDescription").with_context(stream_context("DescribeStream", arn));
    }
    d.arn = text_of(desc, "StreamArn");
    d.label = text_of(desc, "StreamLabel");
    d.status = text_of(desc, "StreamStatus");
    d.view_type = text_of(desc, "StreamViewType");
    d.table_name = text_of(desc, "TableName");
    dom::array shards;
    if (!desc["Shards"].get(shards)) {
      for (dom::element s : shards) {
        Shard shard;
        shard.id = text_of(s, "ShardId");
        if (shard.id.empty()) return malformed("DescribeStream", "a shard without ShardId");
        if (auto p = text_of(s, "ParentShardId"); !p.empty()) shard.parent = p;
        shard.starting_sequence = text_of(s["SequenceNumberRange"], "StartingSequenceNumber");
        if (auto e = text_of(s["SequenceNumberRange"], "EndingSequenceNumber"); !e.empty()) shard.ending_sequence = e;
        d.shards.push_back(std::move(shard));
      }
    }
    std::string next = text_of(desc, "LastEvaluatedShardId");
    if (next.empty()) return d;
    if (next == start) {  // a server that repeats itself would loop forever
      return malformed("DescribeStream", "LastEvaluatedShardId " + next + " repeated")
          .with_context(stream_context("DescribeStream", arn));
    }
    start = std::move(next);
  }
}

Result<std::string> Client::get_shard_iterator(const std::string& arn, const std::string& shard, std::string_view type,
                                               const std::string& sequence) {
  const auto context = [&] {
    return fmt::format("DynamoDB Streams GetShardIterator ({}{}) on stream {} shard {}", type,
                       sequence.empty() ? "" : " " + sequence, arn, shard);
  };
  const bool at_sequence = type == kAtSequenceNumber || type == kAfterSequenceNumber;
  if (!at_sequence && type != kTrimHorizon && type != kLatest) {
    return invalid_input(fmt::format("iterator type {} is not TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER or "
                                     "AFTER_SEQUENCE_NUMBER (DynamoDB Streams has no AT_TIMESTAMP)",
                                     type))
        .with_context(context());
  }
  std::string body;
  JsonWriter w(body);
  w.begin_object().field("StreamArn", arn).field("ShardId", shard).field("ShardIteratorType", type);
  if (at_sequence) w.field("SequenceNumber", sequence);
  w.end_object();
  auto r = call("GetShardIterator", body);
  if (!r.ok()) return std::move(r).error().with_context(context());
  dom::element doc;
  std::string_view it;
  if (thread_parser().parse(*r).get(doc)) return malformed("GetShardIterator", "not JSON").with_context(context());
  // A shard that is closed and fully trimmed may answer without an iterator: nothing to read.
  if (doc["ShardIterator"].get(it)) return std::string();
  return std::string(it);
}

Result<GetRecordsResult> Client::get_records(const std::string& arn, const std::string& shard,
                                             const std::string& iterator, int limit) {
  const auto context = [&] { return fmt::format("DynamoDB Streams GetRecords on stream {} shard {}", arn, shard); };
  if (limit < 0 || limit > kMaxGetRecordsLimit) {
    return invalid_input(fmt::format("limit {} is outside 1..{}", limit, kMaxGetRecordsLimit)).with_context(context());
  }
  std::string body;
  JsonWriter w(body);
  w.begin_object().field("ShardIterator", iterator);
  if (limit > 0) w.field("Limit", limit);
  w.end_object();
  auto r = call("GetRecords", body);
  if (!r.ok()) return std::move(r).error().with_context(context());
  dom::element doc;
  dom::array records;
  if (thread_parser().parse(*r).get(doc) || doc["Records"].get(records)) {
    return malformed("GetRecords", "no Records").with_context(context());
  }
  GetRecordsResult out;
  out.records.reserve(records.size());
  for (dom::element e : records) {
    Record rec;
    rec.json = simdjson::minify(e);
    rec.sequence = text_of(e["dynamodb"], "SequenceNumber");
    if (rec.sequence.empty()) return malformed("GetRecords", "a record without dynamodb.SequenceNumber").with_context(context());
    // Seconds since the epoch (a number; the API reference rounds it to the second, moto sends
    // fractions). Kept to the millisecond.
    // Some servers send an ISO 8601 string instead.
    double seconds = 0;
    std::string_view iso;
    dom::element created = e["dynamodb"]["ApproximateCreationDateTime"];
    if (!created.get(seconds) && std::isfinite(seconds) && seconds >= 0) {
      rec.created = std::chrono::system_clock::time_point(
          std::chrono::duration_cast<std::chrono::system_clock::duration>(
              std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1000.0)))));
    } else if (!created.get(iso)) {
      if (auto t = aws::parse_iso8601(iso, {true, true}); t.ok()) rec.created = *t;
    }
    out.records.push_back(std::move(rec));
  }
  if (auto next = text_of(doc, "NextShardIterator"); !next.empty()) out.next_iterator = std::move(next);
  return out;
}

bool looks_like_stream_arn(std::string_view text) {
  return text.starts_with("arn:") && text.find(":dynamodb:") != std::string_view::npos &&
         text.find(":table/") != std::string_view::npos && !stream_label(text).empty();
}

std::string_view stream_label(std::string_view arn) {
  auto p = arn.find("/stream/");
  return p == std::string_view::npos ? std::string_view() : arn.substr(p + 8);
}

std::string_view stream_table(std::string_view arn) {
  auto t = arn.find(":table/");
  auto s = arn.find("/stream/");
  if (t == std::string_view::npos || s == std::string_view::npos || s < t + 7) return {};
  return arn.substr(t + 7, s - t - 7);
}

std::string_view arn_region(std::string_view arn) {
  // arn:partition:service:region:account:resource
  size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    pos = arn.find(':', pos);
    if (pos == std::string_view::npos) return {};
    ++pos;
  }
  auto end = arn.find(':', pos);
  return end == std::string_view::npos ? std::string_view() : arn.substr(pos, end - pos);
}

}  // namespace dynarep::ddbstreams
