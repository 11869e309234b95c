// diff-tables, the writes to the replica: repairing confirmed discrepancies, and --backfill
// (every primary item copied, without comparing).
#pragma once

#include <cstdint>
#include <span>

#include "core/progress.h"
#include "core/result.h"
#include "diff/detail/scan.h"
#include "diff/table_diff.h"
#include "model/item.h"

namespace dynarep::diff::detail {

struct Confirmed {
  Kind kind = Kind::kMissing;
  const model::Item* key = nullptr;
  const model::Item* primary = nullptr;  // the primary's version; null for kExtraneous
};

// Makes the replica hold the primary's version of each confirmed key, and delete the
// extraneous ones, in BatchWriteItem calls that re-send unprocessed (throttled) writes until
// every one is written. Returns the write units consumed; errors name the replica table.
Result<double> repair(const TableRef& replica, std::span<const Confirmed> found);

struct BackfillTotals {
  int64_t scanned = 0;  // primary items
  int64_t written = 0;  // replica items
  double read_units = 0;
  double write_units = 0;
};

// Scans the primary (as `plan` says) and puts every item into the replica; `progress` counts
// scanned items. Errors name the table.
Result<BackfillTotals> backfill(const TableRef& primary, const TableRef& replica, const model::KeySchema& schema,
                                const ScanPlan& plan, Progress* progress);

}  // namespace dynarep::diff::detail
