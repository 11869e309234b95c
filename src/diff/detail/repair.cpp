#include "diff/detail/repair.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "dynamodb/parallel.h"

namespace dynarep::diff::detail {

Result<double> repair(const TableRef& replica, std::span<const Confirmed> found) {
  std::vector<dynamodb::WriteRequest> writes;
  writes.reserve(found.size());
  for (const auto& f : found) {
    if (f.kind == Kind::kExtraneous) {
      writes.push_back({dynamodb::WriteRequest::Kind::kDelete, *f.key});
    } else {
      writes.push_back({dynamodb::WriteRequest::Kind::kPut, *f.primary});
    }
  }
  auto w = replica.client->batch_write_all(replica.table, writes);
  if (!w.ok()) {
    return Error(w.error()).with_context(
        fmt::format("repairing {} items of replica table {}", writes.size(), replica.display));
  }
  return w->consumed_write_units;
}

Result<BackfillTotals> backfill(const TableRef& primary, const TableRef& replica, const model::KeySchema& schema,
                                const ScanPlan& plan, Progress* progress) {
  dynamodb::BatchWriter writer(*replica.client, replica.table, schema, {.parallel = std::max(1, plan.parallel) * 2});
  auto totals = dynamodb::parallel_scan(*primary.client, scan_options(primary, plan),
                                        [&](int, dynamodb::ScanPage& page) -> Status {
    for (auto& item : page.items) {
      DR_TRY(writer.add({dynamodb::WriteRequest::Kind::kPut, std::move(item)}));
    }
    if (progress != nullptr) progress->add(static_cast<int64_t>(page.items.size()));
    return {};
  });
  Status written = writer.finish();
  if (!written.ok()) {
    return Error(written.error()).with_context(fmt::format("backfilling replica table {}", replica.display));
  }
  if (!totals.ok()) return Error(totals.error()).with_context(fmt::format("primary table {}", primary.display));
  return BackfillTotals{.scanned = totals->items,
                        .written = writer.written(),
                        .read_units = totals->read_units,
                        .write_units = writer.write_units()};
}

}  // namespace dynarep::diff::detail
