// Where a lease::Worker reads shards from: a Kinesis stream or a DynamoDB stream. The worker's
// lease, checkpoint and lineage code is one for both; a source only lists shards (with their
// parents), hands out iterators and reads records. Records come back in the neutral shape the
// processors already take (kinesis::Record: bytes, sequence number, arrival time): a DynamoDB
// Streams record's bytes are the record's JSON (docs/formats.md §3 shape (b), which
// stream::parse_change_record reads), its sequence number is dynamodb.SequenceNumber and its
// arrival time ApproximateCreationDateTime.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "kinesis/types.h"

namespace dynarep::kinesis {
class Client;
}
namespace dynarep::ddbstreams {
class Client;
}
namespace dynarep::dynamodb {
class Client;
}

namespace dynarep::lease {

class ShardSource {
 public:
  virtual ~ShardSource() = default;
  // "stream orders-changes", "DynamoDB stream arn:aws:dynamodb:...": for logs and errors.
  [[nodiscard]] virtual std::string describe() const = 0;
  // Every shard still listed, open and closed, with parent links.
  virtual Result<std::vector<kinesis::Shard>> list_shards() = 0;
  // An iterator at `position`. Sources without AT_TIMESTAMP (at_timestamp() false) are never
  // asked for one: the worker reads from TRIM_HORIZON and skips the older records itself.
  virtual Result<kinesis::ShardIterator> shard_iterator(const kinesis::ShardId& shard,
                                                        const kinesis::StartingPosition& position) = 0;
  virtual Result<kinesis::GetRecordsResult> get_records(const kinesis::ShardIterator& iterator, int limit) = 0;
  // GetRecords' largest Limit.
  [[nodiscard]] virtual int max_records() const = 0;
  [[nodiscard]] virtual bool at_timestamp() const { return true; }
  // Whether `error` says the position is older than the stream's retention (the records between
  // the checkpoint and the oldest kept one are gone: the shard goes on from TRIM_HORIZON).
  [[nodiscard]] virtual bool is_trimmed(const Error&) const { return false; }
  // What the source's leases record as their stream (Lease::stream): empty for Kinesis (the
  // lease table names the stream, as it always did), the ARN for a DynamoDB stream.
  [[nodiscard]] virtual std::string lease_stream() const { return {}; }
};

// A Kinesis data stream (by name), through `client`, which must outlive the source.
std::unique_ptr<ShardSource> kinesis_source(kinesis::Client& client, std::string stream);

// A table's DynamoDB stream (by ARN), through `client`, which must outlive the source.
// MillisBehindLatest is not in this API: it is 0 after an empty page and else the age of the
// page's last record (ApproximateCreationDateTime), so caught_up() and lag still mean something.
std::unique_ptr<ShardSource> dynamodb_streams_source(ddbstreams::Client& client, std::string stream_arn,
                                                     Clock& clock = SystemClock::instance());

// The DynamoDB stream of `table` (DescribeTable's LatestStreamArn). An error naming the table,
// with the command that enables one, when it has none (or it was disabled).
Result<std::string> table_stream_arn(dynamodb::Client& db, const std::string& table);

// The default lease table of a DynamoDB stream: "dynarep-leases-<table>-<stream label>" (':' of
// the label as '-'), one per stream, so a re-enabled stream (a new ARN) starts a new one.
std::string default_stream_lease_table(std::string_view stream_arn);

}  // namespace dynarep::lease
