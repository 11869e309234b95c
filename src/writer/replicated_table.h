// ReplicatedTable: the client an application writes through to keep a table redundant
// (seeds/003: "all writes go to the DynamoDB primary table; when an item's write is
// confirmed, the item key is written to the Kinesis stream"), re-implementing the multi-table
// dyno client configured with a Kinesis stream.
//
//   writes  put, update, remove, write_batch -> the write table (the primary); after each
//           CONFIRMED write, one KEYS_ONLY change record per item (INSERT for a put, MODIFY
//           for an update, REMOVE for a delete) goes to the stream, if one is configured.
//   reads   get, batch_get, query, scan -> the read table (a replica; default the primary).
//
// A write whose record cannot be published (after the publisher's retries) returns a
// WriteError with the change in `unpublished`: the item IS on the primary; republish the
// change (publisher()->republish(error.unpublished)) or the replica misses it until the key
// is written again or `diff-tables --repair` runs. A write that failed publishes nothing.
//
// Thread-safe: any number of threads may call one ReplicatedTable.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "dynamodb/client.h"
#include "model/item.h"
#include "writer/batch_writer.h"
#include "writer/change.h"
#include "writer/publisher.h"
#include "writer/write_result.h"

namespace dynarep::writer {

struct TableRef {
  std::shared_ptr<dynamodb::Client> client;
  std::string table;
};

struct ReplicatedTableConfig {
  TableRef write;                              // the primary: every write goes here (required)
  std::optional<TableRef> read;                // reads; default: the write table
  std::optional<model::KeySchema> key_schema;  // default: from DescribeTable of the write table
  std::shared_ptr<StreamPublisher> publisher;  // none: writes are not published
  std::string aws_region;                      // the records' awsRegion; default: the write endpoint's region
  int batch_parallel = 4;                      // BatchWriteItem calls at once in write_batch (default 4)
};

class ReplicatedTable {
 public:
  // Fills in the key schema from DescribeTable when the config has none.
  static Result<std::unique_ptr<ReplicatedTable>> open(ReplicatedTableConfig config);
  ReplicatedTable(ReplicatedTableConfig config, model::KeySchema key_schema);

  // --- writes: to the write table, then the change record to the stream ---
  WriteStatus put(const model::Item& item);
  // UpdateItem on the write table (request.table is set here); returns the item as it is
  // after the update (ALL_NEW). Publishes MODIFY, also when the outcome is unknown (an
  // answer lost, then the condition failed on the retry, or a non-idempotent update not
  // resent: WriteError::write_error of kind kUnknownOutcome).
  WriteResult<model::Item> update(dynamodb::UpdateRequest request);
  // DeleteItem; `key` must hold exactly the key attributes. Publishes REMOVE.
  WriteStatus remove(const model::Item& key);
  // BatchWriteItem in parallel calls of 25, unprocessed items re-sent until written; one
  // record per item the table confirmed. On a failed call the WriteError says how many were
  // written; their records are published all the same.
  WriteResult<BatchWriteSummary> write_batch(std::vector<dynamodb::WriteRequest> requests);

  // --- reads: from the read table ---
  Result<std::optional<model::Item>> get(const model::Item& key, bool consistent_read = true);
  // Items that exist, in no particular order.
  Result<std::vector<model::Item>> batch_get(const std::vector<model::Item>& keys, bool consistent_read = true);
  // One page; request.table is set here.
  Result<dynamodb::ScanPage> scan(dynamodb::ScanRequest request);
  Result<dynamodb::ScanPage> query(dynamodb::QueryRequest request);

  [[nodiscard]] const model::KeySchema& key_schema() const { return key_schema_; }
  [[nodiscard]] const TableRef& write_table() const { return write_; }
  [[nodiscard]] const TableRef& read_table() const { return read_; }
  [[nodiscard]] StreamPublisher* publisher() const { return publisher_.get(); }
  [[nodiscard]] const std::string& aws_region() const { return region_; }

 private:
  // Publishes one confirmed write's change, or returns the WriteError listing it.
  WriteStatus publish_one(model::Item key, Event event);

  TableRef write_;
  TableRef read_;
  model::KeySchema key_schema_;
  std::shared_ptr<StreamPublisher> publisher_;
  std::string region_;
  int batch_parallel_;
};

}  // namespace dynarep::writer
