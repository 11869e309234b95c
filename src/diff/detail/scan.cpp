#include "diff/detail/scan.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "model/codec.h"

namespace dynarep::diff::detail {

size_t partition_of(const Hash128& key, int shift, int bits) {
  if (bits == 0) return 0;
  uint64_t v = shift == 0 ? key.hi : (key.hi << shift);
  return static_cast<size_t>(v >> (64 - bits));
}

dynamodb::ParallelScanOptions scan_options(const TableRef& table, const ScanPlan& plan) {
  dynamodb::ParallelScanOptions o;
  o.table = table.table;
  o.total_segments = plan.total_segments;
  o.segments = plan.segments;
  o.parallel = std::max(1, plan.parallel);
  if (plan.page_limit > 0) o.page_limit = plan.page_limit;
  o.rate_limiter = plan.limiter;
  return o;
}

int partition_bits(int64_t expected_items, size_t partition_bytes, int forced_bits) {
  const double want = static_cast<double>(expected_items) * static_cast<double>(kRecordEstimate) /
                      static_cast<double>(std::max<size_t>(partition_bytes, 4096));
  int bits = 0;
  while (bits < kMaxPartitionBits && static_cast<double>(size_t{1} << bits) < want) ++bits;
  if (forced_bits >= 0) bits = std::min(forced_bits, kMaxPartitionBits);
  return bits;
}

namespace {

Error cancelled() { return Error(ErrorKind::kCancelled, "Cancelled", "stopped after another worker failed"); }

struct Side {
  const TableRef* table = nullptr;
  std::string_view role;
  std::vector<std::unique_ptr<SpillFile>> parts;
  std::mutex mu;
};

Result<dynamodb::ScanTotals> scan_side(Side& side, const model::KeySchema& schema, const ScanPlan& plan, int bits,
                                       std::atomic<bool>& stop, Progress* progress) {
  const size_t parts = side.parts.size();
  auto totals = dynamodb::parallel_scan(*side.table->client, scan_options(*side.table, plan),
                                        [&](int, dynamodb::ScanPage& page) -> Status {
    if (stop.load()) return cancelled();
    std::vector<std::string> staged(parts);
    for (const model::Item& item : page.items) {
      auto key = model::extract_key(item, schema);
      if (!key.ok()) {
        return Error(key.error()).with_context(fmt::format("an item of {} table {}", side.role, side.table->display));
      }
      const Hash128 id = key_id(*key);
      const Hash128 fp = item_fingerprint(item);
      const auto size = static_cast<uint32_t>(std::min<size_t>(model::item_size(item), UINT32_MAX));
      append_scan_record(staged[partition_of(id, 0, bits)], id, fp, size, model::canonical_key_json(*key));
    }
    {
      std::lock_guard lock(side.mu);
      for (size_t i = 0; i < parts; ++i) {
        if (!staged[i].empty()) DR_TRY(side.parts[i]->append(staged[i]));
      }
    }
    if (progress != nullptr) progress->add(static_cast<int64_t>(page.items.size()));
    return {};
  });
  if (!totals.ok() && totals.error().kind != ErrorKind::kCancelled) {
    return Error(totals.error()).with_context(fmt::format("{} table {}", side.role, side.table->display));
  }
  return totals;
}

}  // namespace

Result<SpilledScans> scan_both(const TableRef& primary_table, const TableRef& replica_table,
                               const model::KeySchema& schema, const ScanPlan& plan, int bits, TempDir& tmp,
                               Clock& clock, Progress* progress) {
  const size_t parts = size_t{1} << bits;
  // Write buffers: about 4 MB per table in all, at least 4 KB each.
  const size_t buffer = std::max<size_t>(4096, (size_t{4} << 20) / parts);
  Side primary, replica;
  primary.table = &primary_table;
  primary.role = "primary";
  replica.table = &replica_table;
  replica.role = "replica";
  for (Side* s : {&primary, &replica}) {
    for (size_t i = 0; i < parts; ++i) {
      DR_ASSIGN(auto f, tmp.new_file(fmt::format("{}-{}", s->role, i), buffer));
      s->parts.push_back(std::move(f));
    }
  }

  std::atomic<bool> stop{false};
  std::optional<Result<dynamodb::ScanTotals>> replica_totals;
  std::thread replica_thread([&] {
    replica_totals.emplace(scan_side(replica, schema, plan, bits, stop, progress));
    if (!replica_totals->ok()) stop.store(true);
  });
  Result<dynamodb::ScanTotals> primary_totals = scan_side(primary, schema, plan, bits, stop, progress);
  if (!primary_totals.ok()) stop.store(true);
  replica_thread.join();
  SpilledScans out;
  out.end = clock.steady_now();
  // The first real error, not the cancellation it caused on the other side.
  for (auto* r : {&primary_totals, &*replica_totals}) {
    if (!r->ok() && r->error().kind != ErrorKind::kCancelled) return r->error();
  }
  if (!primary_totals.ok()) return primary_totals.error();
  if (!replica_totals->ok()) return replica_totals->error();
  out.primary_items = primary_totals->items;
  out.replica_items = (*replica_totals)->items;
  out.read_units = primary_totals->read_units + (*replica_totals)->read_units;
  for (Side* s : {&primary, &replica}) {
    for (auto& f : s->parts) DR_TRY(f->finish());
  }
  out.primary = std::move(primary.parts);
  out.replica = std::move(replica.parts);
  return out;
}

}  // namespace dynarep::diff::detail
