// Item-level rules: DynamoDB's size accounting, primary keys, and the canonical forms that name
// things (S3 objects, Kinesis partition keys) and that diff compares by hash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"
#include "model/value.h"

namespace dynarep::model {

// DynamoDB's item size limit, attribute names and values together (docs/formats.md §1).
constexpr size_t kMaxItemSize = 400 * 1024;

// The item size as DynamoDB counts it, per "DynamoDB item sizes and formats"
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
//   attribute names: their UTF-8 bytes;           S: UTF-8 bytes;  B: raw bytes (not base64);
//   N: 1 byte per two significant digits + 1 (AWS says "approximately"; leading and trailing
//      zeros do not count; zero counts 1 byte);
//   NULL, BOOL: 1 byte;
//   M, L: 3 bytes + for each element 1 byte + its size (+ its name's bytes in a map);
//   SS, NS, BS: the sum of the members' sizes as scalars (AWS documents no per-set overhead).
size_t item_size(const Item& item);
size_t value_size(const Value& value);

// The table's primary key: a partition (hash) key and an optional sort (range) key, each of
// type kS, kN or kB.
struct KeySchema {
  std::string hash_name;
  Type hash_type = Type::kS;
  std::string range_name;  // empty when the table has no sort key
  Type range_type = Type::kS;
  bool has_range() const { return !range_name.empty(); }
};

// Whether two tables have the same key: hash key name and type, and the same range key (name
// and type) or none. (range_type means nothing without a range key, so it is not compared then.)
bool same_key_schema(const KeySchema& a, const KeySchema& b);
// "id (S)" or "id (S), sk (N)", for messages about keys.
std::string describe_key_schema(const KeySchema& schema);

// The key attributes of `item`. Errors name the attribute: missing, of another type than the
// schema says, or an empty string/binary (DynamoDB rejects empty key values).
Result<Item> extract_key(const Item& item, const KeySchema& schema);

// Compact wire JSON with top-level attribute names sorted by byte order (UTF-8 code units),
// values written as append_value_json does, numbers exactly as their text: NOT normalized,
// so "1.50" and "1.5" give different strings. This names incremental-backup objects
// (sha256 of this text, docs/formats.md §4.2) and is the Kinesis partition key (§3), matching the
// original tool, which wrote the key it was given. Keys read from DynamoDB come back in
// DynamoDB's normalized form, so the same key gives the same name.
std::string canonical_key_json(const Item& key);

// A binary encoding such that two items are equal by docs/formats.md §1 (operator==) exactly when
// their encodings are equal: map attributes sorted by name, set members sorted and
// de-duplicated, numbers normalized (Number::canonical), every length prefixed. Not a wire
// format: it may change between versions, so never store it.
std::string canonical_bytes(const Item& item);
void append_canonical_bytes(std::string& out, const Value& value);

// 64-bit hashes of canonical_bytes (our own multiply-fold hash, not cryptographic): equal items
// hash equal; different items collide with probability about 2^-64. Diff compares by these.
uint64_t item_hash(const Item& item);
uint64_t key_hash(const Item& key);  // a different seed than item_hash
// The hash itself, for other byte strings.
uint64_t hash_bytes(std::string_view bytes, uint64_t seed = 0);

// What DynamoDB would reject in an item built in code (parsed items were checked already):
// empty sets, duplicate set members, nesting deeper than 32 levels, more than kMaxItemSize.
Status validate_item(const Item& item);

}  // namespace dynarep::model
