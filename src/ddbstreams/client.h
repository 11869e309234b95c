// DynamoDB Streams client: the JSON 1.0 protocol (X-Amz-Target "DynamoDBStreams_20120810.<Op>")
// over the signed, retried AWS call path (SigV4 service "dynamodb", endpoint
// streams.dynamodb.<region>.amazonaws.com). Retrying throttles, 5xx and network failures is the
// AWS layer's job; this client builds requests, parses answers, and names the stream ARN and
// shard in every error.
//
// What differs from Kinesis (DynamoDB Streams API reference):
//   - shards roll over about every 4 hours: the parent closes (EndingSequenceNumber), a child
//     opens with ParentShardId; shards and records are kept 24 hours, so a child's parent may
//     already be gone from DescribeStream;
//   - iterators expire after 15 minutes (ExpiredIteratorException);
//   - a position older than the retention gives TrimmedDataAccessException;
//   - no AT_TIMESTAMP iterator, no MillisBehindLatest, GetRecords Limit <= 1,000;
//   - records are the change itself (eventName, dynamodb.{Keys, NewImage, ...}), not bytes.
//
// Thread safety: a Client may be used from several threads at once as long as its transport may.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace dynarep::aws {
class AwsClient;
class CredentialsProvider;
}

namespace dynarep::ddbstreams {

inline constexpr std::string_view kTargetPrefix = "DynamoDBStreams_20120810.";
inline constexpr std::string_view kJsonVersion = "1.0";
inline constexpr int kMaxGetRecordsLimit = 1000;
inline constexpr int kMaxDescribeStreamLimit = 100;  // shards per DescribeStream page

// The error codes a consumer acts on (classified kInvalidInput by the AWS layer: the caller
// must change position, not resend).
inline constexpr std::string_view kExpiredIteratorCode = "ExpiredIteratorException";
inline constexpr std::string_view kTrimmedDataCode = "TrimmedDataAccessException";
[[nodiscard]] bool is_expired_iterator(const Error& error);
[[nodiscard]] bool is_trimmed_data(const Error& error);

struct StreamSummary {
  std::string arn;
  std::string table_name;
  std::string label;  // StreamLabel: the stream's creation time, e.g. "2026-12-03T13:55:00.123"
};

struct Shard {
  std::string id;
  std::optional<std::string> parent;  // ParentShardId (may name a shard already trimmed away)
  std::string starting_sequence;
  std::optional<std::string> ending_sequence;  // set once the shard is closed

  [[nodiscard]] bool closed() const { return ending_sequence.has_value(); }
};

struct StreamDescription {
  std::string arn;
  std::string label;
  std::string status;          // ENABLING, ENABLED, DISABLING, DISABLED
  std::string view_type;       // KEYS_ONLY, NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES
  std::string table_name;
  std::vector<Shard> shards;   // every page of DescribeStream
};

// ShardIteratorType values (wire names; this API has no AT_TIMESTAMP).
inline constexpr std::string_view kTrimHorizon = "TRIM_HORIZON";
inline constexpr std::string_view kLatest = "LATEST";
inline constexpr std::string_view kAtSequenceNumber = "AT_SEQUENCE_NUMBER";
inline constexpr std::string_view kAfterSequenceNumber = "AFTER_SEQUENCE_NUMBER";

struct Record {
  std::string json;      // the record as the service sent it (compact JSON): eventName, dynamodb, ...
  std::string sequence;  // dynamodb.SequenceNumber
  std::optional<std::chrono::system_clock::time_point> created;  // dynamodb.ApproximateCreationDateTime
};

struct GetRecordsResult {
  std::vector<Record> records;
  std::optional<std::string> next_iterator;  // absent once a closed shard is read to its end
};

// Sends one call: `target` is the full X-Amz-Target, `body` the JSON request. Returns the 2xx
// body or a classified Error.
using Transport = std::function<Result<std::string>(std::string_view target, const std::string& body)>;

class Client {
 public:
  explicit Client(std::shared_ptr<aws::AwsClient> aws);
  explicit Client(Transport transport);
  // DynamoDB Streams in `region`: endpoint from `endpoint_flag`, else
  // AWS_ENDPOINT_URL_DYNAMODB_STREAMS / AWS_ENDPOINT_URL, else `local_fallback` when given (a
  // table named as host:port/table: local servers serve both APIs on one port), else AWS.
  // Signed with `credentials`, or the default chain when null.
  static Client connect(const std::string& region, const std::string& endpoint_flag = "",
                        const std::string& local_fallback = "", Clock& clock = SystemClock::instance(),
                        std::shared_ptr<aws::CredentialsProvider> credentials = nullptr);

  // The streams of `table` (every stream when empty), newest first as the service lists them.
  Result<std::vector<StreamSummary>> list_streams(const std::string& table = "");
  // The stream with every shard (pages with ExclusiveStartShardId / LastEvaluatedShardId).
  Result<StreamDescription> describe_stream(const std::string& arn);
  // `type` is one of the four above (anything else, AT_TIMESTAMP included, is kInvalidInput
  // before sending); `sequence` for AT_/AFTER_SEQUENCE_NUMBER. An empty iterator: the shard is
  // closed and nothing is left in it.
  Result<std::string> get_shard_iterator(const std::string& arn, const std::string& shard, std::string_view type,
                                         const std::string& sequence = "");
  // limit 0: the service default (1,000). `arn` and `shard` only name the iterator in errors.
  Result<GetRecordsResult> get_records(const std::string& arn, const std::string& shard, const std::string& iterator,
                                       int limit = 0);

  // The aws client underneath (metrics), or null over a plain transport.
  [[nodiscard]] const std::shared_ptr<aws::AwsClient>& aws() const { return aws_; }

 private:
  Result<std::string> call(std::string_view operation, const std::string& body);

  std::shared_ptr<aws::AwsClient> aws_;
  Transport transport_;
};

// "arn:aws:dynamodb:us-east-1:123:table/orders/stream/2026-12-03T13:55:00.123" -> true.
[[nodiscard]] bool looks_like_stream_arn(std::string_view text);
// The label part (after "/stream/") of a stream ARN; empty when there is none.
[[nodiscard]] std::string_view stream_label(std::string_view arn);
// The table part (between "table/" and "/stream/"); empty when there is none.
[[nodiscard]] std::string_view stream_table(std::string_view arn);
// The region of an ARN (its fourth field); empty when there is none.
[[nodiscard]] std::string_view arn_region(std::string_view arn);

}  // namespace dynarep::ddbstreams
