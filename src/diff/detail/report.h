// diff-tables, reporting: where the re-reads' findings go. Re-check workers hand over each
// batch's outcome; the counts land in the run's summary and each confirmed discrepancy goes to
// the caller's on_discrepancy, one at a time under one lock (it is never called concurrently).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "diff/table_diff.h"

namespace dynarep::diff::detail {

class Reporter {
 public:
  Reporter(DiffSummary& summary, const std::function<void(const Discrepancy&)>& on_discrepancy)
      : summary_(summary), on_discrepancy_(on_discrepancy) {}

  // Consumed capacity, from any thread.
  void add_units(double read, double write);
  // One re-checked batch: `settled` suspects found equal, `found` confirmed (repaired or not).
  void report(int64_t settled, const std::vector<Discrepancy>& found);
  // Discrepancies reported so far.
  int64_t confirmed();

 private:
  std::mutex mu_;
  DiffSummary& summary_;
  const std::function<void(const Discrepancy&)>& on_discrepancy_;
};

}  // namespace dynarep::diff::detail
