// DynamoDB client: the operations dynarep needs, over the AWS JSON 1.0 protocol.
// Errors carry the table (and key, for item operations) they concern.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "aws/client.h"
#include "core/clock.h"
#include "core/result.h"
#include "model/codec.h"
#include "model/item.h"
#include "model/value.h"

namespace dynarep::dynamodb {

using model::Item;

struct TableDescription {
  std::string name;
  model::KeySchema key_schema;
  std::string status;        // ACTIVE, CREATING, UPDATING, DELETING
  int64_t item_count = -1;   // -1 when the service did not say
  int64_t size_bytes = -1;
  std::string billing_mode;  // PROVISIONED or PAY_PER_REQUEST
  std::string arn;
  // The table's DynamoDB stream: LatestStreamArn (kept by DynamoDB after the stream is
  // disabled, so check stream_enabled), StreamSpecification.StreamEnabled / StreamViewType.
  std::string latest_stream_arn;
  bool stream_enabled = false;
  std::string stream_view_type;  // KEYS_ONLY, NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES; empty when none
  std::string raw;           // the Table object as the service returned it (compact JSON)
};

// The first line of `dyno export`: DescribeTable's Table object without the fields that
// describe the table's state rather than its shape (docs/formats.md §1).
Result<std::string> export_description(const TableDescription& table);

// A CreateTable request body rebuilt from a description line (dyno export's first line or
// a backup manifest), for `table_name`. Keeps key schema, attribute definitions, indexes,
// billing mode and provisioned throughput (normalised: on-demand tables get no throughput).
Result<std::string> create_table_request(std::string_view description_json,
                                         const std::string& table_name);

struct ConsumedCapacity {
  double read_units = 0;
  double write_units = 0;
};

struct ScanRequest {
  std::string table;
  std::optional<int> segment;         // with total_segments: a parallel scan slice
  std::optional<int> total_segments;
  std::optional<int> limit;           // items per page (the service caps pages at 1 MB)
  std::optional<Item> exclusive_start_key;
  bool consistent_read = false;
};

struct ScanPage {
  std::vector<Item> items;
  std::optional<Item> last_evaluated_key;  // absent on the last page
  double consumed_read_units = 0;
  int64_t scanned_count = 0;
};

// The same page with each item kept as its wire JSON (one line of the line format), for
// callers that only copy items (backup, export) and need not build the attribute model.
struct RawScanPage {
  std::vector<std::string> items;
  std::optional<Item> last_evaluated_key;
  double consumed_read_units = 0;
  int64_t scanned_count = 0;
};

struct QueryRequest {
  std::string table;
  std::string index_name;                  // empty: the table
  std::string key_condition_expression;    // e.g. "#h = :h"
  std::vector<std::pair<std::string, std::string>> expression_attribute_names;
  Item expression_attribute_values;
  std::optional<int> limit;
  std::optional<Item> exclusive_start_key;
  bool consistent_read = false;
  bool scan_index_forward = true;
};

struct WriteRequest {
  enum class Kind { kPut, kDelete } kind = Kind::kPut;
  Item item;  // the whole item for a put, the key for a delete
};

struct BatchWriteResult {
  std::vector<WriteRequest> unprocessed;
  double consumed_write_units = 0;
};

struct BatchGetResult {
  std::vector<Item> items;
  std::vector<Item> unprocessed_keys;
  double consumed_read_units = 0;
};

struct UpdateRequest {
  std::string table;
  Item key;
  std::string update_expression;  // e.g. "SET #a = :a ADD #n :one"
  std::string condition_expression;
  std::vector<std::pair<std::string, std::string>> expression_attribute_names;
  Item expression_attribute_values;
};

// Whether applying the update twice leaves the item as applying it once does, so that a lost
// answer may be resent: SET of values (also if_not_exists(path, :v)), REMOVE of attributes and
// map entries, ADD of set elements, DELETE of set elements. Not: arithmetic, list_append, SET
// or REMOVE of a list element (indexes shift; SET past the end appends), ADD to a number, a
// value read from a path the same expression changes. Conditions do not make an update
// idempotent: a resent conditional update is failure-ambiguous (CallOptions::report_unknown_outcome).
bool update_is_idempotent(const UpdateRequest& request);

// Batch operation limits (DynamoDB API reference: BatchWriteItem 25 requests, BatchGetItem
// 100 keys).
inline constexpr size_t kMaxBatchWrite = 25;
inline constexpr size_t kMaxBatchGet = 100;
// TransactWriteItems: at most 100 actions and 4 MB in all (DynamoDB API reference).
inline constexpr size_t kMaxTransactItems = 100;
inline constexpr size_t kMaxTransactBytes = size_t{4} << 20;

// One action of a TransactWriteItems call.
struct TransactItem {
  enum class Kind { kPut, kDelete, kConditionCheck } kind = Kind::kPut;
  std::string table;
  Item item;  // kPut: the item; kDelete, kConditionCheck: the key
  std::string condition_expression;  // required for kConditionCheck
  std::vector<std::pair<std::string, std::string>> expression_attribute_names;
  Item expression_attribute_values;
};

// The per-action codes of a TransactionCanceledException, in the order of the actions ("None",
// "ConditionalCheckFailed", "ValidationError", "TransactionConflict", ...), read from the
// error's message ("... specific reasons [ConditionalCheckFailed, None]", as DynamoDB words
// it). Empty when the error is not a cancellation or carries no list.
std::vector<std::string> cancellation_reasons(const Error& error);

class Client {
 public:
  explicit Client(std::shared_ptr<aws::AwsClient> aws, Clock& clock = SystemClock::instance());
  // A client for the endpoint of a table location, with the default credentials chain.
  static std::shared_ptr<Client> connect(const aws::Endpoint& endpoint);

  Result<std::vector<std::string>> list_tables();
  Result<TableDescription> describe_table(const std::string& table);
  // `request_json` is a full CreateTable request body.
  Status create_table(const std::string& request_json);
  // A table with a simple or composite key, on-demand billing.
  Status create_table(const std::string& table, const model::KeySchema& key);
  Status delete_table(const std::string& table);
  // Polls DescribeTable until ACTIVE.
  Status wait_until_active(const std::string& table,
                           std::chrono::milliseconds timeout = std::chrono::minutes(10));

  Result<std::optional<Item>> get_item(const std::string& table, const Item& key,
                                       bool consistent_read = true);
  Status put_item(const std::string& table, const Item& item, const aws::CallOptions& options = {});
  Status delete_item(const std::string& table, const Item& key, const aws::CallOptions& options = {});
  // Returns the item after the update (ReturnValues ALL_NEW).
  Result<Item> update_item(const UpdateRequest& request);

  // One BatchGetItem call (at most kMaxBatchGet keys); unprocessed keys are returned.
  Result<BatchGetResult> batch_get(const std::string& table, const std::vector<Item>& keys,
                                   bool consistent_read);
  // Reads every key, in calls of kMaxBatchGet, retrying unprocessed keys with backoff until
  // none are left. Items that do not exist are simply absent from the result.
  Result<BatchGetResult> batch_get_all(const std::string& table, const std::vector<Item>& keys,
                                       bool consistent_read);

  // One BatchWriteItem call (at most kMaxBatchWrite requests); unprocessed ones returned.
  Result<BatchWriteResult> batch_write(const std::string& table,
                                       const std::vector<WriteRequest>& requests,
                                       const aws::CallOptions& options = {});
  // Writes every request, in calls of kMaxBatchWrite, retrying unprocessed items with
  // capped backoff until all are written: never drops one. Fails only on a non-retryable
  // error (or when the AWS layer's retries for one call are exhausted). `options`, when given,
  // is asked before every call (a deadline that moves, such as a lease's).
  Result<BatchWriteResult> batch_write_all(const std::string& table,
                                           const std::vector<WriteRequest>& requests,
                                           const std::function<aws::CallOptions()>& options = {});

  // TransactWriteItems: all of `items` or none. `client_request_token` (up to 36 characters)
  // makes the AWS layer's retries of this call idempotent for 10 minutes: the same token and
  // body are applied at most once. A cancellation is an Error with code
  // "TransactionCanceledException" (cancellation_reasons() says which action failed).
  Status transact_write(const std::vector<TransactItem>& items, const std::string& client_request_token,
                        const aws::CallOptions& options = {});

  Result<ScanPage> scan(const ScanRequest& request);
  Result<RawScanPage> scan_raw(const ScanRequest& request);
  Result<ScanPage> query(const QueryRequest& request);

  aws::AwsClient& aws() { return *aws_; }

 private:
  Result<std::string> call(std::string_view operation, const std::string& body,
                           std::string_view context, const aws::CallOptions& options = {});
  std::shared_ptr<aws::AwsClient> aws_;
  Clock& clock_;
};

}  // namespace dynarep::dynamodb
