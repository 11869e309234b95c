// Bounded parallelism for the backup module: a fixed number of threads work through indexes;
// the first error stops the others and is returned (bounded parallelism: the first
// worker error handed back to the coordinator).
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>

#include "core/result.h"

namespace dynarep::backup::detail {

// Calls fn(i) for i in [0, n) on at most `threads` threads (the caller's among them). After an
// error no new index is started; the first error is returned.
Status parallel_for(std::size_t n, int threads, const std::function<Status(std::size_t)>& fn);

}  // namespace dynarep::backup::detail
