// diff-tables, third job: re-read the suspects with consistent reads on both tables, in
// rounds. The scans were the first observation of each suspect; a re-read at least `settle`
// after them that finds the same difference (same fingerprints on both sides) confirms it. One
// that finds the item changed (a write in flight) is observed again after another `settle`, up
// to `max_rounds` re-reads; the last round reports whatever still differs. Confirmed
// differences are repaired (with `repair`) and handed to the Reporter.
#pragma once

#include <chrono>
#include <memory>

#include "core/clock.h"
#include "core/result.h"
#include "diff/detail/report.h"
#include "diff/detail/spill.h"
#include "diff/table_diff.h"
#include "model/item.h"

namespace dynarep::diff::detail {

struct RecheckOptions {
  std::chrono::milliseconds settle{0};  // 0: one round, reported at once
  int max_rounds = 1;
  int parallel = 1;  // re-check workers, each with a batch of <= 100 keys / ~2 MB
  bool repair = false;
};

struct RoundStats {
  int rounds = 0;
  double settle_seconds = 0;  // waiting for `settle`
  double reread_seconds = 0;  // re-reading (and repairing)
};

// Runs the rounds over `suspects` (round records), the first observation having ended at
// `scan_end` (`clock`'s steady time). Next rounds' files are made in `tmp`.
Result<RoundStats> run_rounds(const TableRef& primary, const TableRef& replica, const model::KeySchema& schema,
                              const RecheckOptions& options, std::unique_ptr<SpillFile> suspects,
                              std::chrono::steady_clock::time_point scan_end, TempDir& tmp, Clock& clock,
                              Reporter& reporter);

}  // namespace dynarep::diff::detail
