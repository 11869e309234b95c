// Capped exponential backoff with full jitter, for re-sending unprocessed batch items. The AWS
// layer already retried each call itself; this is the outer loop over partial results, shared
// by Client's batch_get_all/batch_write_all and BatchWriter.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

#include "core/clock.h"

namespace dynarep::dynamodb::detail {

class BatchBackoff {
 public:
  explicit BatchBackoff(Clock& clock) : clock_(clock), rng_(std::random_device{}()) {}
  // Sleeps up to 25 ms x 2^attempt, capped at 2 s.
  void wait() {
    auto cap = std::min<int64_t>(2000, int64_t{25} << std::min(attempt_, 10));
    std::uniform_int_distribution<int64_t> dist(0, cap);
    clock_.sleep_for(std::chrono::milliseconds(dist(rng_)));
    ++attempt_;
  }
  void reset() { attempt_ = 0; }

 private:
  Clock& clock_;
  std::mt19937_64 rng_;
  int attempt_ = 0;
};

}  // namespace dynarep::dynamodb::detail
