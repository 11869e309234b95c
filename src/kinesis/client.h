// Kinesis Data Streams client: the JSON 1.1 protocol (target prefix "Kinesis_20131202.") over
// the signed, retried AWS call path. Retrying throttles, 5xx and network failures is the AWS
// layer's job; this client builds requests, parses answers and names the stream and shard in
// every error.
//
// Thread safety: a Client may be used from several threads at once (responses are parsed with
// a per-thread simdjson parser) as long as its transport may.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "kinesis/types.h"

namespace dynarep::aws {
class AwsClient;
struct CredentialsSpec;
}

namespace dynarep::kinesis {

inline constexpr std::string_view kTargetPrefix = "Kinesis_20131202.";
inline constexpr std::string_view kJsonVersion = "1.1";

// The AWS error code for an iterator older than 5 minutes: get a new one from the last
// sequence number read (AFTER_SEQUENCE_NUMBER) and go on.
inline constexpr std::string_view kExpiredIteratorCode = "ExpiredIteratorException";
[[nodiscard]] bool is_expired_iterator(const Error& error);

// Sends one call: `target` is the full X-Amz-Target ("Kinesis_20131202.PutRecords"), `body` the
// JSON request. Returns the 2xx body or a classified Error.
using Transport = std::function<Result<std::string>(std::string_view target, const std::string& body)>;

// How long create/split/merge wait for the stream to be ACTIVE again.
struct WaitOptions {
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};  // default 5 min (AWS: ~30 s typical)
  std::chrono::milliseconds first_poll{50};                    // default 50 ms, doubling ...
  std::chrono::milliseconds max_poll{std::chrono::seconds(2)};  // ... up to 2 s between polls
};

class Client {
 public:
  // Over the AWS call path (SigV4, retries, error classification).
  explicit Client(std::shared_ptr<aws::AwsClient> aws, Clock& clock = SystemClock::instance());
  // Over any transport; tests use canned answers.
  explicit Client(Transport transport, Clock& clock = SystemClock::instance());
  // Kinesis in `region`: endpoint from `endpoint_flag`, else AWS_ENDPOINT_URL_KINESIS /
  // AWS_ENDPOINT_URL, else AWS (aws::resolve_endpoint); credentials from the default chain,
  // or from aws::credentials_for(credentials) (--stream-profile, --stream-role-arn).
  static Client connect(const std::string& region, const std::string& endpoint_flag = "",
                        Clock& clock = SystemClock::instance());
  static Client connect(const std::string& region, const std::string& endpoint_flag, Clock& clock,
                        const aws::CredentialsSpec& credentials);

  // --- streams ---
  // Creates the stream and waits until it is ACTIVE.
  Status create_stream(const std::string& stream, int shard_count, const WaitOptions& wait = {});
  Status delete_stream(const std::string& stream);
  // DescribeStreamSummary, or DescribeStream where the service lacks it.
  Result<StreamSummary> describe_stream_summary(const std::string& stream);
  // Polls until ACTIVE: kNotFound if the stream is missing or being deleted, kTransient
  // (code "Timeout") if it is not ACTIVE within wait.timeout.
  Status wait_for_active(const std::string& stream, const WaitOptions& wait = {});
  // Every stream name (pages through ListStreams).
  Result<std::vector<std::string>> list_streams();

  // --- shards ---
  // Every shard, open and closed, with parent links (pages through ListShards; falls back to
  // DescribeStream paging where ListShards is not supported).
  Result<std::vector<Shard>> list_shards(const std::string& stream);
  // Splits `shard` at `new_starting_hash_key` (default: the middle of its range) and waits
  // until the stream is ACTIVE again.
  Status split_shard(const std::string& stream, const ShardId& shard,
                     std::optional<std::string> new_starting_hash_key = std::nullopt,
                     const WaitOptions& wait = {});
  // Merges two adjacent open shards and waits until the stream is ACTIVE again.
  Status merge_shards(const std::string& stream, const ShardId& shard, const ShardId& adjacent,
                      const WaitOptions& wait = {});

  // --- writing ---
  Result<PutRecordResult> put_record(const std::string& stream, std::string_view data,
                                     std::string_view partition_key,
                                     const std::optional<std::string>& explicit_hash_key = std::nullopt);
  // One PutRecords call (<= 500 entries, <= 5 MiB). Entries the service refused are reported in
  // the result, in request order, and NOT retried here: the caller decides (and must keep
  // per-key order when it does). A call-level failure is an Error. Bad input (too many
  // entries, empty or over-long partition key, oversize record) fails before sending.
  Result<PutRecordsResult> put_records(const std::string& stream, const std::vector<PutRecordsEntry>& entries);

  // --- reading ---
  Result<ShardIterator> get_shard_iterator(const std::string& stream, const ShardId& shard,
                                           const StartingPosition& position);
  // limit 0: the service default (10,000). Errors name the iterator's stream and shard;
  // is_expired_iterator() tells an expired iterator apart.
  Result<GetRecordsResult> get_records(const ShardIterator& iterator, int limit = 0);

 private:
  Result<std::string> call(std::string_view operation, const std::string& body);
  Status wait_until_active(const std::string& stream, const WaitOptions& wait, bool just_created);
  Result<std::vector<Shard>> list_shards_via_describe(const std::string& stream);

  Transport transport_;
  Clock* clock_;
  // What the service turned out not to support (UnknownOperationException: old kinesalite,
  // some emulators); shared by copies of this client.
  struct Fallbacks {
    std::atomic<bool> no_list_shards{false};
    std::atomic<bool> no_describe_stream_summary{false};
  };
  std::shared_ptr<Fallbacks> fallbacks_ = std::make_shared<Fallbacks>();
};

// The hash key halfway through `range` ((start + end + 1) / 2), as SplitShard wants it; an
// error if the range is not two decimal numbers below 2^128 or is too small to split.
Result<std::string> hash_key_midpoint(const HashKeyRange& range);

}  // namespace dynarep::kinesis
