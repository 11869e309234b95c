// diff-tables, first job: scan both tables with the same slicing and spill one small record
// per item (key id, fingerprint, size, key JSON) into partition files by key id.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/progress.h"
#include "core/result.h"
#include "diff/detail/spill.h"
#include "diff/table_diff.h"
#include "dynamodb/parallel.h"
#include "model/item.h"

namespace dynarep::diff::detail {

inline constexpr int kMaxPartitionBits = 8;  // 256 partitions per table: 512 open spill files
// Bytes a spill record takes besides its key JSON, plus a typical short key.
inline constexpr size_t kRecordEstimate = kScanHeader + 32;

// Bits [shift, shift + bits) of the key id, counted from the top: the partition at that level.
size_t partition_of(const Hash128& key, int shift, int bits);

// How both tables are scanned (the same slicing for both, so their scans see the same key
// ranges at about the same time).
struct ScanPlan {
  int total_segments = 1;
  std::vector<int> segments;
  int parallel = 1;
  int page_limit = 0;  // 0: the service's own pages
  RateLimiter* limiter = nullptr;
};
dynamodb::ParallelScanOptions scan_options(const TableRef& table, const ScanPlan& plan);

// Partitions (2^bits) so that one, both tables' records together, is about `partition_bytes`
// for `expected_items`; `forced_bits` >= 0 overrides. A stale or missing item count only
// costs a split when comparing.
int partition_bits(int64_t expected_items, size_t partition_bytes, int forced_bits);

struct SpilledScans {
  std::vector<std::unique_ptr<SpillFile>> primary;  // 2^bits partition files each, finished
  std::vector<std::unique_ptr<SpillFile>> replica;
  int64_t primary_items = 0;
  int64_t replica_items = 0;
  double read_units = 0;
  std::chrono::steady_clock::time_point end;  // `clock`'s steady time when both scans ended
};

// Scans both tables at once into 2^bits partitions each. The first real error wins (not the
// cancellation it caused on the other side); errors name the table.
Result<SpilledScans> scan_both(const TableRef& primary, const TableRef& replica, const model::KeySchema& schema,
                               const ScanPlan& plan, int bits, TempDir& tmp, Clock& clock, Progress* progress);

}  // namespace dynarep::diff::detail
