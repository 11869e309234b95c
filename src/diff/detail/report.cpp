#include "diff/detail/report.h"

namespace dynarep::diff::detail {

void Reporter::add_units(double read, double write) {
  std::lock_guard lock(mu_);
  summary_.read_units += read;
  summary_.write_units += write;
}

void Reporter::report(int64_t settled, const std::vector<Discrepancy>& found) {
  std::lock_guard lock(mu_);
  summary_.settled += settled;
  for (const auto& d : found) {
    switch (d.kind) {
      case Kind::kMissing: ++summary_.missing; break;
      case Kind::kDifferent: ++summary_.different; break;
      case Kind::kExtraneous: ++summary_.extraneous; break;
    }
    if (d.repaired) ++summary_.repaired;
    if (on_discrepancy_) on_discrepancy_(d);
  }
}

int64_t Reporter::confirmed() {
  std::lock_guard lock(mu_);
  return summary_.discrepancies();
}

}  // namespace dynarep::diff::detail
