#include "lease/lease.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace dynarep::lease {

bool Lease::has_sequence_checkpoint() const {
  return !checkpoint.empty() &&
         std::all_of(checkpoint.begin(), checkpoint.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string describe(const Lease& lease) {
  std::string s = fmt::format("{} owner={} counter={} checkpoint={}", lease.key,
                              lease.owned() ? lease.owner : "(none)", lease.counter, lease.checkpoint);
  if (lease.start_timestamp_ms) s += fmt::format(" start={}ms", *lease.start_timestamp_ms);
  if (!lease.parent_shard_ids.empty()) s += fmt::format(" parents={}", fmt::join(lease.parent_shard_ids, ","));
  return s;
}

}  // namespace dynarep::lease
