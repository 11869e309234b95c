#include "diff/table_diff.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "core/progress.h"
#include "diff/detail/compare.h"
#include "diff/detail/recheck.h"
#include "diff/detail/repair.h"
#include "diff/detail/report.h"
#include "diff/detail/scan.h"

namespace dynarep::diff {

using dynamodb::TableDescription;

std::string_view to_string(Kind kind) {
  switch (kind) {
    case Kind::kMissing: return "missing";
    case Kind::kDifferent: return "different";
    case Kind::kExtraneous: return "extraneous";
  }
  return "unknown";
}

namespace {

Result<TableDescription> describe(const TableRef& t, std::string_view role) {
  auto d = t.client->describe_table(t.table);
  if (d.ok()) return std::move(d).value();
  Error e = std::move(d).error();
  if (e.kind == ErrorKind::kNotFound) {
    e.message = fmt::format("{} table {} does not exist", role, t.display);
    e.context.clear();
    return e;
  }
  return e.with_context(fmt::format("{} table {}", role, t.display));
}

}  // namespace

Result<model::KeySchema> check_tables(const TableRef& primary, const TableRef& replica,
                                      TableDescription* primary_desc, TableDescription* replica_desc) {
  DR_ASSIGN(TableDescription p, describe(primary, "primary"));
  DR_ASSIGN(TableDescription r, describe(replica, "replica"));
  if (!model::same_key_schema(p.key_schema, r.key_schema)) {
    return Error(ErrorKind::kInvalidInput, "KeySchemaMismatch",
                 fmt::format("key schemas differ: primary table {} has key {}, replica table {} has key "
                             "{}; a replica must have the primary's key schema",
                             primary.display, model::describe_key_schema(p.key_schema), replica.display,
                             model::describe_key_schema(r.key_schema)));
  }
  model::KeySchema schema = p.key_schema;
  if (primary_desc != nullptr) *primary_desc = std::move(p);
  if (replica_desc != nullptr) *replica_desc = std::move(r);
  return schema;
}

namespace {

int auto_segments(const TableDescription& d, int parallel) {
  int64_t by_size = d.size_bytes > 0 ? (d.size_bytes + (128LL << 20) - 1) / (128LL << 20) : 0;
  int64_t n = std::max<int64_t>({by_size, 8, parallel});
  return static_cast<int>(std::min<int64_t>(n, 1024));
}

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// One run: checks the tables, plans the slice, then either backfills or scans, compares and
// re-checks (detail/scan.h, detail/compare.h, detail/recheck.h), tallying into the summary.
class DiffRun {
 public:
  DiffRun(const TableRef& primary, const TableRef& replica, const DiffOptions& opt)
      : primary_(primary), replica_(replica), opt_(opt),
        clock_(opt.clock != nullptr ? *opt.clock : SystemClock::instance()),
        reporter_(summary_, opt.on_discrepancy) {}

  Result<DiffSummary> run() {
    auto start = std::chrono::steady_clock::now();
    TableDescription pd, rd;
    DR_ASSIGN(schema_, check_tables(primary_, replica_, &pd, &rd));
    summary_.total_segments = opt_.total_segments > 0 ? opt_.total_segments : auto_segments(pd, opt_.parallel);
    summary_.segments = opt_.segments;
    if (summary_.segments.empty()) {
      for (int i = 0; i < summary_.total_segments; ++i) summary_.segments.push_back(i);
    }
    for (int s : summary_.segments) {
      if (s < 0 || s >= summary_.total_segments) {
        return Error(ErrorKind::kInvalidInput, "Usage",
                     fmt::format("segment {} is outside 0..{}", s, summary_.total_segments - 1));
      }
    }
    const double fraction =
        static_cast<double>(summary_.segments.size()) / static_cast<double>(summary_.total_segments);
    auto scaled = [&](int64_t n) { return n < 0 ? int64_t{-1} : static_cast<int64_t>(std::ceil(static_cast<double>(n) * fraction)); };
    int64_t expected_primary = scaled(pd.item_count);
    int64_t expected_replica = scaled(rd.item_count);

    if (opt_.progress != nullptr) {
      int64_t total = -1;
      if (opt_.backfill) {
        total = expected_primary;
      } else if (expected_primary >= 0 && expected_replica >= 0) {
        total = expected_primary + expected_replica;
      }
      progress_.emplace(*opt_.progress, Progress::Options{.label = opt_.progress_label,
                                                          .unit = "items",
                                                          .total = total,
                                                          .tty = opt_.progress_tty});
      if (!opt_.backfill) progress_->set_secondary_label("compared");
    }

    if (opt_.rate_limit > 0) limiter_.emplace(opt_.rate_limit);
    plan_ = detail::ScanPlan{.total_segments = summary_.total_segments,
                             .segments = summary_.segments,
                             .parallel = std::max(1, opt_.parallel),
                             .page_limit = opt_.page_limit,
                             .limiter = limiter_ ? &*limiter_ : nullptr};
    Status st = opt_.backfill ? backfill() : compare(std::max<int64_t>(expected_primary, 0) +
                                                     std::max<int64_t>(expected_replica, 0));
    if (progress_) progress_->stop();
    summary_.elapsed_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!st.ok()) return st.error();
    return summary_;
  }

 private:
  Progress* progress() { return progress_ ? &*progress_ : nullptr; }

  Status backfill() {
    DR_ASSIGN(auto totals, detail::backfill(primary_, replica_, schema_, plan_, progress()));
    summary_.scanned_primary = totals.scanned;
    summary_.backfilled = totals.written;
    reporter_.add_units(totals.read_units, totals.write_units);
    return {};
  }

  Status compare(int64_t expected_items) {
    const auto scan_start = std::chrono::steady_clock::now();
    DR_ASSIGN(auto tmp, detail::TempDir::create(opt_.temp_dir));
    const int bits = detail::partition_bits(expected_items, opt_.partition_bytes, opt_.partition_bits);
    const size_t parts = size_t{1} << bits;
    summary_.partitions = static_cast<int>(parts);

    // Both tables at once, with the same segments: their scans see the same key ranges at
    // about the same time, which keeps the suspects from writes in flight few.
    DR_ASSIGN(auto scans, detail::scan_both(primary_, replica_, schema_, plan_, bits, *tmp, clock_, progress()));
    summary_.scan_seconds = since(scan_start);
    summary_.scanned_primary = scans.primary_items;
    summary_.scanned_replica = scans.replica_items;
    reporter_.add_units(scans.read_units, 0);
    spdlog::debug("diff: scanned {} + {} items in {:.2f}s into {} partitions", summary_.scanned_primary,
                  summary_.scanned_replica, summary_.scan_seconds, parts);

    // Compare partition by partition; suspects go to the first round's file.
    const auto compare_start = std::chrono::steady_clock::now();
    DR_ASSIGN(auto suspects, tmp->new_file("suspects"));
    detail::CompareCounts counts;
    for (size_t i = 0; i < parts; ++i) {
      DR_TRY(detail::compare_partition(*scans.primary[i], *scans.replica[i], bits, opt_.partition_bytes, *tmp,
                                       *suspects, counts, progress()));
      scans.primary[i].reset();  // closes (and frees) the partition's files
      scans.replica[i].reset();
    }
    DR_TRY(suspects->finish());
    summary_.compared = counts.compared;
    summary_.suspects = counts.suspects;
    summary_.compare_seconds = since(compare_start);
    spdlog::debug("diff: compared {} keys in {:.2f}s: {} suspects", summary_.compared, summary_.compare_seconds,
                  summary_.suspects);

    const detail::RecheckOptions recheck{
        .settle = opt_.settle, .max_rounds = opt_.max_rounds, .parallel = opt_.parallel, .repair = opt_.repair};
    DR_ASSIGN(auto rounds, detail::run_rounds(primary_, replica_, schema_, recheck, std::move(suspects), scans.end,
                                              *tmp, clock_, reporter_));
    summary_.rounds = rounds.rounds;
    summary_.settle_seconds = rounds.settle_seconds;
    summary_.reread_seconds = rounds.reread_seconds;
    return {};
  }

  const TableRef& primary_;
  const TableRef& replica_;
  const DiffOptions& opt_;
  Clock& clock_;
  model::KeySchema schema_;
  DiffSummary summary_;
  detail::Reporter reporter_;
  std::optional<Progress> progress_;
  std::optional<RateLimiter> limiter_;
  detail::ScanPlan plan_;
};

}  // namespace

Result<DiffSummary> diff_tables(const TableRef& primary, const TableRef& replica, const DiffOptions& options) {
  if (primary.client == nullptr || replica.client == nullptr) {
    return invalid_input("diff_tables: a table has no client");
  }
  DiffRun run(primary, replica, options);
  return run.run();
}

}  // namespace dynarep::diff
