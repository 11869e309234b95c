// Lambda event batches: {"Records":[...]} as Lambda hands them to a function, from a Kinesis
// stream (each record's kinesis.data is a base64 change record) or from DynamoDB Streams
// (each record is a change record).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "stream/record.h"

namespace dynarep::stream {

struct LambdaRecord {
  // The change, or why this one record could not be read: "record 3 (seq 4960...): dynamodb.Keys
  // missing". A bad record never fails its neighbours; the caller dead-letters it.
  Result<ChangeRecord> record;
  // kinesis.sequenceNumber (Kinesis) or dynamodb.SequenceNumber (DynamoDB Streams); empty if
  // the record has none.
  std::string sequence_number;
  // Kinesis: the shard id ("shardId-000000000000", from eventID "shardId-...:<seq>"), or the
  // eventSourceARN when eventID does not carry one. DynamoDB Streams: the eventSourceARN.
  std::string shard_or_source;
  std::string partition_key;  // kinesis.partitionKey; empty for DynamoDB Streams
  std::optional<std::chrono::system_clock::time_point> approximate_arrival;  // Kinesis, ms precision
};

// The whole event fails only when it is not a JSON object with a "Records" array; every
// record in it gets its own LambdaRecord, in order.
Result<std::vector<LambdaRecord>> parse_lambda_event(std::string_view json);

}  // namespace dynarep::stream
