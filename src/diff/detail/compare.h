// diff-tables, second job: compare the spilled scans partition by partition. The primary's
// records go into a hash table and the replica's stream past it; a key seen on one side only,
// or with different fingerprints, is a suspect, written as a round record (with what each scan
// saw) for the re-reads.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/progress.h"
#include "core/result.h"
#include "diff/detail/spill.h"

namespace dynarep::diff::detail {

struct CompareCounts {
  int64_t compared = 0;  // distinct keys (present in either table)
  int64_t suspects = 0;  // round records written
};

// Compares one partition pair. `shift` is how many key-id bits the partitioning used so far;
// a pair larger than 3 x `partition_bytes` is split 16 ways (in `tmp`) rather than loaded
// whole. Suspects are appended to `suspects`; `progress`'s secondary count gets the keys
// compared (when set).
Status compare_partition(const SpillFile& primary, const SpillFile& replica, int shift, size_t partition_bytes,
                         TempDir& tmp, SpillFile& suspects, CompareCounts& counts, Progress* progress);

}  // namespace dynarep::diff::detail
