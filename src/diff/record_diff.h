// diff-record and replicate-record: one key, consistent reads of both tables, the difference
// attribute by attribute, and (replicate-record) the write that makes the replica match.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "diff/table_diff.h"
#include "model/value.h"

namespace dynarep::diff {

struct AttributeDifference {
  enum class Kind { kChanged, kOnlyInPrimary, kOnlyInReplica };
  Kind kind = Kind::kChanged;
  // Where: a top-level name, then ".name" into maps and "[i]" into lists: "m.k", "l[2].x".
  std::string path;
  std::string primary;  // the value's wire JSON ({"N":"1"}); empty when absent
  std::string replica;
  // Sets: the members on one side only, e.g. `only in primary: "a", "b"; only in replica: "c"`.
  std::string note;
};

// The differences between two items under docs/formats.md §1 equality (numbers by value, sets and
// maps unordered), sorted by path; empty when the items are equal. Maps are compared member by
// member, lists element by element when their lengths agree (otherwise as a whole).
std::vector<AttributeDifference> diff_items(const model::Item& primary, const model::Item& replica);

struct RecordComparison {
  model::Item key;
  std::optional<model::Item> primary;
  std::optional<model::Item> replica;
  std::vector<AttributeDifference> differences;  // when both exist
  bool equal() const;
  // What is wrong with the replica; nullopt when equal.
  std::optional<Kind> kind() const;
};

// The key as the tables know it: `key` must hold exactly the key attributes of `schema`, of
// the right types (usage error, code "Usage", otherwise).
Result<model::Item> key_for_schema(const model::Item& key, const model::KeySchema& schema);

// Consistent reads of `key` on both tables (after check_tables).
Result<RecordComparison> compare_record(const TableRef& primary, const TableRef& replica,
                                        const model::Item& key);

// A readable report: both versions, then the verdict and the differences.
std::string format_comparison(const RecordComparison& c, std::string_view primary_display,
                              std::string_view replica_display);

struct ReplicateOutcome {
  enum class Action { kNone, kPut, kDelete };
  RecordComparison before;
  Action action = Action::kNone;
};

// Makes the replica's item for `key` match the primary's: put it when the primary has it,
// delete it when the primary does not; nothing when they are equal already.
Result<ReplicateOutcome> replicate_record(const TableRef& primary, const TableRef& replica,
                                          const model::Item& key);

}  // namespace dynarep::diff
