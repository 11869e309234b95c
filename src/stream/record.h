// Change records: what one change to one item looks like on the stream (docs/formats.md §3).
//
// We write KEYS_ONLY records (make_keys_only_record) and read three shapes
// (parse_change_record):
//  (a) KEYS_ONLY records as dyno and dynarep write them, and the DynamoDB Streams Preview
//      shape with capitalised top-level names (EventName, Dynamodb, EventID, AwsRegion ...);
//  (b) DynamoDB Streams records: eventName, dynamodb.{Keys, NewImage, OldImage,
//      StreamViewType, SequenceNumber, SizeBytes, ApproximateCreationDateTime (seconds)};
//  (c) Kinesis Data Streams for DynamoDB records: tableName, recordFormat, userIdentity,
//      dynamodb.{Keys, NewImage, OldImage, SizeBytes, ApproximateCreationDateTime
//      (microseconds, or milliseconds with that precision setting)}.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "model/value.h"

namespace simdjson::dom {
class element;
}  // namespace simdjson::dom

namespace dynarep::stream {

// ChangeRecord::source values.
inline constexpr std::string_view kSourceKinesisKeysOnly = "kinesis-keys-only";
inline constexpr std::string_view kSourceDynamoDbStreams = "dynamodb-streams";
inline constexpr std::string_view kSourceKinesisForDynamoDb = "kinesis-data-streams-for-dynamodb";

struct ChangeRecord {
  enum class Event { kInsert, kModify, kRemove };

  Event event = Event::kInsert;
  model::Item keys;                       // the changed item's key attributes, never empty
  std::optional<model::Item> new_image;   // as the record carried it, if it did
  std::optional<model::Item> old_image;
  std::string stream_view_type;           // "KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE",
                                          // "NEW_AND_OLD_IMAGES"; empty when not given (c)
  std::string sequence_number;            // dynamodb.SequenceNumber; "0" in ours; empty in (c)
  std::string event_id;
  std::string aws_region;
  std::string table_name;                 // (c) tableName, or from an eventSourceARN; else empty
  std::optional<std::chrono::system_clock::time_point> approximate_creation_time;
  // kSourceKinesisForDynamoDb when tableName or recordFormat is present; kSourceDynamoDbStreams
  // when eventSourceARN is present or the record carries images (NEW_IMAGE, OLD_IMAGE,
  // NEW_AND_OLD_IMAGES); kSourceKinesisKeysOnly otherwise.
  std::string source;
};

// "INSERT", "MODIFY", "REMOVE".
std::string_view to_string(ChangeRecord::Event event);
std::optional<ChangeRecord::Event> parse_event_name(std::string_view name);

// The Data of one KEYS_ONLY record, byte for byte as docs/formats.md §3 shows it:
//   {"awsRegion":"<region>","dynamodb":{"Keys":<key>,"SequenceNumber":"0","SizeBytes":0,
//    "StreamViewType":"KEYS_ONLY"},"eventID":"<32 lower-case hex>","eventName":"INSERT",
//    "eventSource":"aws:dynamodb","eventVersion":"1.0"}
// <key> is the canonical key JSON (compact wire format, attributes sorted by name). The event
// ID is random.
std::string make_keys_only_record(const model::Item& key, ChangeRecord::Event event, std::string_view region);
// The same with a given event ID (tests, replays).
std::string make_keys_only_record(const model::Item& key, ChangeRecord::Event event, std::string_view region,
                                  std::string_view event_id);

// Kinesis counts a partition key's length in unicode characters and allows at most 256.
inline constexpr std::size_t kMaxPartitionKeyChars = 256;

// The Kinesis partition key for a change to `key`: its canonical key JSON, so every change to
// one item goes to one shard and keeps its order. When that JSON is longer than 256 UTF-16
// code units (the strictest reading of Kinesis's "256 unicode characters"), the key is instead
// the 64-character lower-case sha256 hex of the canonical JSON: still the same for the same key,
// and never equal to a JSON key (which starts with '{').
std::string partition_key(const model::Item& key);

// Parses one change record of any accepted shape. Errors are kInvalidInput and say what is
// wrong: "data is not JSON: ...", "eventName missing", "dynamodb.Keys: attribute ...".
Result<ChangeRecord> parse_change_record(std::string_view data);
// For a record inside an already parsed document (a Lambda DynamoDB Streams event record).
Result<ChangeRecord> parse_change_record(simdjson::dom::element record);

// ApproximateCreationDateTime given as a number of seconds, milliseconds or microseconds since
// the epoch, decided by magnitude:
//   v < 1e11          seconds       (1e11 s  is in the year 5138)
//   1e11 <= v < 1e14  milliseconds  (1e11 ms is 1973-03-03, 1e14 ms is in 5138)
//   1e14 <= v < 1e17  microseconds  (1e14 us is 1973-03-03, 1e17 us is in 5138)
// So any time from 1973-03-03 on is read right in every unit. Negative, non-finite and
// larger values are errors, and so are times after April 2262, where system_clock (64-bit
// nanoseconds) ends. Seconds and milliseconds may carry fractions; the result is rounded to
// the microsecond.
Result<std::chrono::system_clock::time_point> creation_time_from_epoch(double value);
// Also accepted where a string is given: ISO 8601 "2015-06-27T00:48:05.899Z" (UTC, or with
// an offset "+01:00"), as the Streams API docs describe the field.
Result<std::chrono::system_clock::time_point> creation_time_from_iso8601(std::string_view text);

}  // namespace dynarep::stream
