// Loading items into a table: the part that `put`, `import` and `restore` share, so that the
// three agree on when a table is created, when an existing one is refused, and which items
// are refused before BatchWriteItem sees them.
//
//   prepare_load_table   makes the table ready: creates it from a description line (dyno
//                        export's line 1, a backup manifest's) or a key, or checks that the
//                        existing table has the key the items carry. A table with another key
//                        would reject every item (or, worse, accept items whose key attribute
//                        happens to exist under another role), so it is an error before
//                        anything is written, naming the table and both keys.
//   check_load_item      one item as BatchWriteItem would judge it: its key (present, of the
//                        schema's types) and its size (<= 400 KB), errors naming the key.
//
// The writing itself stays with the caller's batch writer (the CLI's publishes change records,
// restore's does not).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "model/item.h"

namespace dynarep::dynamodb {

class Client;

// The key schema of a table description line (DescribeTable's Table object, dyno export's
// first line, a backup manifest's description).
Result<model::KeySchema> key_schema_from_description(std::string_view json);

// True when `line` is a table description rather than an item: a JSON object whose KeySchema
// is an array (in an item every value is a typed object).
bool is_description_line(std::string_view line);

struct LoadTableOptions {
  enum class Create {
    kIfMissing,  // create when missing (from the description, else from `key`); load into an existing one
    kMustCreate, // create; an existing table is an error (restore --create-table)
    kNever,      // the table must exist (put)
  };
  std::string table;
  std::string display;      // "us-east-1/orders", for messages
  // A description line: the table is created from it, and an existing table must have its key.
  std::string description;
  // Without a description: the key to create the table with (on-demand), and to check an
  // existing table against. Neither given: an existing table is taken as it is.
  std::optional<model::KeySchema> key;
  // Who says what the key is, for the mismatch message ("table T has key A but SOURCE has key
  // B"): "the description line", "the backup".
  std::string key_source = "the input";
  Create create = Create::kIfMissing;
  // Appended to "table X does not exist" when it cannot be created (no description, no key, or kNever).
  std::string missing_hint;
  // Appended to "table X already exists" under kMustCreate.
  std::string exists_hint;
  // What was done, a line each ("creating table ...", "table ... exists; loading items into it").
  std::function<void(const std::string&)> log;
};

struct LoadTable {
  model::KeySchema key_schema;  // the table's, as DescribeTable reports it
  bool created = false;
};

// Errors: the table's key differs from the description's / `key` (kInvalidInput); the table
// is missing and cannot be created (kNotFound); it exists under kMustCreate (kInvalidInput);
// a bad description line (kInvalidInput); service errors as they come.
Result<LoadTable> prepare_load_table(Client& client, const LoadTableOptions& options);

// The key of `item` under `schema`, or why BatchWriteItem would refuse it: a missing or
// mistyped key attribute (the error names what the item has of its key, so it can be found),
// or a size over DynamoDB's 400 KB limit (naming the key).
Result<model::Item> check_load_item(const model::Item& item, const model::KeySchema& schema);

}  // namespace dynarep::dynamodb
