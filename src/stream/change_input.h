// What a stream consumer (the replicator, the incremental backup, redrive) consumes: one change
// record as it arrived (from a Kinesis shard or a Lambda event), with where it came from, and
// the record parsed (or why it could not be).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "kinesis/types.h"
#include "stream/lambda_event.h"
#include "stream/record.h"

namespace dynarep::stream {

struct ChangeInput {
  // Shard id, or the event source (a Lambda event's eventSourceARN, a dead letter's "shard"):
  // text, not kinesis::ShardId, because it is not always a shard. For messages and dead letters.
  std::string shard;
  // Kinesis sequence number (or DynamoDB Streams SequenceNumber); text, as it may be empty or
  // come from a dead-letter file.
  std::string sequence_number;
  std::string partition_key;    // Kinesis partition key; empty when none
  std::optional<std::chrono::system_clock::time_point> arrival;  // ApproximateArrivalTimestamp
  std::string raw;              // the record's data as received (kept for dead letters)
  Result<ChangeRecord> change = invalid_input("unset");  // parsed, or why it could not be

  // When the change was made: the record's ApproximateCreationDateTime, else the Kinesis
  // arrival time; nullopt when the record carries neither.
  [[nodiscard]] std::optional<std::chrono::system_clock::time_point> event_time() const;
};

// From Kinesis records (parses each record's data).
std::vector<ChangeInput> inputs_from_kinesis(const kinesis::ShardId& shard,
                                            const std::vector<kinesis::Record>& records);
// From a parsed Lambda event. `raw_records` are the event's records as JSON text when known
// (for dead letters); may be empty.
std::vector<ChangeInput> inputs_from_lambda(std::vector<LambdaRecord> records,
                                            const std::vector<std::string>& raw_records = {});

}  // namespace dynarep::stream
