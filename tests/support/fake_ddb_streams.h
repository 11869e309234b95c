// An in-process DynamoDB Streams server (on testing::TestHttpServer) for what the local stacks
// cannot show: moto's stream has one shard that never rolls over and iterators that never
// expire. It follows the API reference (DynamoDBStreams_20120810): DescribeStream pages shards
// with ExclusiveStartShardId / LastEvaluatedShardId (page_size shards a page), GetShardIterator
// (TRIM_HORIZON, LATEST, AT_/AFTER_SEQUENCE_NUMBER), GetRecords (Limit <= 1000,
// NextShardIterator absent at the end of a closed shard), and the errors
// ExpiredIteratorException, TrimmedDataAccessException, ResourceNotFoundException.
// Tests drive it: add records, close a shard and open its child, trim, expire iterators.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "http/test_server.h"

namespace dynarep::testing {

class FakeDynamoDbStreams {
 public:
  FakeDynamoDbStreams();
  ~FakeDynamoDbStreams();
  [[nodiscard]] std::string url() const;

  // A stream of `table` with label `label` ("2026-12-03T10:00:00.000"); returns its ARN.
  std::string add_stream(const std::string& table, const std::string& label,
                         const std::string& view_type = "NEW_AND_OLD_IMAGES");
  // Opens a shard; `parent` may name a shard this server never listed (trimmed long ago).
  void add_shard(const std::string& arn, const std::string& shard, const std::optional<std::string>& parent = {});
  // Appends a change of item {"id":{"S":id}} to an open shard: INSERT/MODIFY carry NewImage
  // {"id":id,"v":v} (per the view type), REMOVE carries OldImage. Returns its sequence number.
  std::string put(const std::string& arn, const std::string& shard, const std::string& event, const std::string& id,
                  int v, std::chrono::system_clock::time_point created = std::chrono::system_clock::now());
  // Closes a shard (EndingSequenceNumber = its last record's).
  void close_shard(const std::string& arn, const std::string& shard);
  // Drops a shard from DescribeStream and its records (past the 24 h retention).
  void remove_shard(const std::string& arn, const std::string& shard);
  // Drops the first `n` records of a shard (past retention): positions before the first kept
  // record give TrimmedDataAccessException.
  void trim(const std::string& arn, const std::string& shard, size_t n);
  // Appends `n` records and trims the shard past them at once: records written and gone before
  // any reader got to them (a consumer stopped for longer than the retention).
  void lose(const std::string& arn, const std::string& shard, int n);
  // Every iterator handed out so far is expired (as 15 minutes later).
  void expire_iterators();

  [[nodiscard]] int calls(const std::string& op) const;
  [[nodiscard]] int errors(const std::string& code) const;

 private:
  struct Rec {
    std::string seq;
    std::string json;
  };
  struct ShardState {
    std::string id;
    std::optional<std::string> parent;
    std::vector<Rec> records;
    size_t trimmed = 0;  // records[0..trimmed) are gone
    std::string starting;
    std::optional<std::string> ending;
    bool listed = true;
  };
  struct Stream {
    std::string arn, table, label, view_type;
    std::vector<ShardState> shards;
  };
  CannedResponse handle(const RecordedRequest& req);
  ShardState* find(const std::string& arn, const std::string& shard);
  std::string put_locked(const std::string& arn, const std::string& shard, const std::string& event,
                         const std::string& id, int v, std::chrono::system_clock::time_point created);

  mutable std::mutex mu_;
  std::map<std::string, Stream> streams_;
  uint64_t next_seq_ = 0;
  uint64_t iterator_generation_ = 0;  // iterators of an older generation are expired
  std::map<std::string, int> calls_, errors_;
  std::unique_ptr<TestHttpServer> server_;

 public:
  int page_size = 2;  // shards per DescribeStream page (small, so tests page)
};

}  // namespace dynarep::testing
