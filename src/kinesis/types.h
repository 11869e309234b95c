// Kinesis Data Streams value types: identifiers, shards, records and call results.
// Plain data, no I/O; the client that fills them is in kinesis/client.h.
#pragma once

#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dynarep::kinesis {

// Service limits (Kinesis API reference, PutRecords / PutRecord / GetRecords).
inline constexpr std::size_t kMaxPutRecordsEntries = 500;             // records per PutRecords call
inline constexpr std::size_t kMaxPutRecordsBytes = 5u * 1024 * 1024;  // data + partition keys per call
inline constexpr std::size_t kMaxRecordBytes = 1024u * 1024;          // data + partition key per record
inline constexpr std::size_t kMaxPartitionKeyChars = 256;             // unicode characters
inline constexpr int kMaxGetRecordsLimit = 10000;

// "shardId-000000000001". Compared as text: shard ids are opaque to clients.
class ShardId {
 public:
  ShardId() = default;
  explicit ShardId(std::string id) : id_(std::move(id)) {}
  [[nodiscard]] const std::string& str() const { return id_; }
  [[nodiscard]] bool empty() const { return id_.empty(); }
  friend bool operator==(const ShardId&, const ShardId&) = default;
  friend std::strong_ordering operator<=>(const ShardId&, const ShardId&) = default;

 private:
  std::string id_;
};

// A Kinesis sequence number: a decimal string of up to ~56 digits, unique per shard and
// increasing in arrival order within a shard. Ordered as the big integer it spells (length
// after leading zeros, then digits), never as text: "9" < "10".
class SequenceNumber {
 public:
  SequenceNumber() = default;
  // Does not validate; use parse() for text from outside.
  explicit SequenceNumber(std::string digits) : digits_(std::move(digits)) {}
  // nullopt unless `text` is 1..128 decimal digits.
  static std::optional<SequenceNumber> parse(std::string_view text);

  [[nodiscard]] const std::string& str() const { return digits_; }
  [[nodiscard]] bool empty() const { return digits_.empty(); }

  friend std::strong_ordering operator<=>(const SequenceNumber& a, const SequenceNumber& b);
  friend bool operator==(const SequenceNumber& a, const SequenceNumber& b) {
    return (a <=> b) == std::strong_ordering::equal;
  }

 private:
  std::string digits_;
};

enum class StreamStatus { kCreating, kDeleting, kActive, kUpdating, kUnknown };
std::string_view to_string(StreamStatus status);
StreamStatus parse_stream_status(std::string_view text);  // kUnknown for anything else

struct StreamSummary {
  std::string name;
  std::string arn;
  StreamStatus status = StreamStatus::kUnknown;
  std::optional<int> open_shard_count;  // unknown when only DescribeStream was available
  int retention_period_hours = 0;
};

// Hash keys are unsigned 128-bit integers written in decimal.
struct HashKeyRange {
  std::string starting_hash_key;
  std::string ending_hash_key;
};

struct SequenceNumberRange {
  SequenceNumber starting;
  std::optional<SequenceNumber> ending;  // set once the shard is closed (split or merged away)
};

struct Shard {
  ShardId id;
  std::optional<ShardId> parent;           // ParentShardId
  std::optional<ShardId> adjacent_parent;  // AdjacentParentShardId (the other half of a merge)
  HashKeyRange hash_key_range;
  SequenceNumberRange sequence_number_range;

  [[nodiscard]] bool closed() const { return sequence_number_range.ending.has_value(); }
};

enum class IteratorType { kTrimHorizon, kLatest, kAtSequenceNumber, kAfterSequenceNumber, kAtTimestamp };
std::string_view to_string(IteratorType type);  // the wire name, "TRIM_HORIZON" ...

// Where GetShardIterator starts reading.
struct StartingPosition {
  IteratorType type = IteratorType::kTrimHorizon;
  SequenceNumber sequence_number;                   // AT_/AFTER_SEQUENCE_NUMBER
  std::chrono::system_clock::time_point timestamp;  // AT_TIMESTAMP (sent with ms precision)

  static StartingPosition trim_horizon() { return {}; }
  static StartingPosition latest() { return {IteratorType::kLatest, {}, {}}; }
  static StartingPosition at_sequence_number(SequenceNumber s) {
    return {IteratorType::kAtSequenceNumber, std::move(s), {}};
  }
  static StartingPosition after_sequence_number(SequenceNumber s) {
    return {IteratorType::kAfterSequenceNumber, std::move(s), {}};
  }
  static StartingPosition at_timestamp(std::chrono::system_clock::time_point t) {
    return {IteratorType::kAtTimestamp, {}, t};
  }
};

// A shard iterator with what it reads, so every GetRecords error can name stream and shard.
struct ShardIterator {
  std::string stream;
  ShardId shard;
  std::string value;  // the opaque iterator; valid for 5 minutes
};

struct Record {
  std::string data;  // the record's bytes (base64-decoded)
  std::string partition_key;
  SequenceNumber sequence_number;
  std::optional<std::chrono::system_clock::time_point> approximate_arrival;  // ms precision
};

struct GetRecordsResult {
  std::vector<Record> records;
  // Absent once a closed shard has been read to its end: move on to its children.
  std::optional<ShardIterator> next_iterator;
  std::int64_t millis_behind_latest = 0;
  std::vector<ShardId> child_shards;  // ChildShards at a shard's end, when the service sends them

  [[nodiscard]] bool shard_ended() const { return !next_iterator.has_value(); }
};

struct PutRecordsEntry {
  std::string data;  // raw bytes; base64-encoded on the wire
  std::string partition_key;
  std::optional<std::string> explicit_hash_key;  // decimal 0..2^128-1, overrides the key's MD5
};

// One entry's outcome, in request order: either sequence_number + shard_id, or an error code
// (ProvisionedThroughputExceededException, InternalFailure, KMS...) and message.
struct PutRecordsEntryResult {
  SequenceNumber sequence_number;
  ShardId shard_id;
  std::string error_code;
  std::string error_message;

  [[nodiscard]] bool ok() const { return error_code.empty(); }
};

struct PutRecordsResult {
  std::vector<PutRecordsEntryResult> entries;  // same order and size as the request
  int failed_record_count = 0;

  [[nodiscard]] bool all_ok() const { return failed_record_count == 0; }
};

struct PutRecordResult {
  ShardId shard_id;
  SequenceNumber sequence_number;
};

}  // namespace dynarep::kinesis
