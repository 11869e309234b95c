#include "backup/detail/parallel.h"

#include <algorithm>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace dynarep::backup::detail {

Status parallel_for(std::size_t n, int threads, const std::function<Status(std::size_t)>& fn) {
  if (n == 0) return {};
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::optional<Error> first;
  auto work = [&] {
    while (!failed.load(std::memory_order_relaxed)) {
      std::size_t i = next.fetch_add(1);
      if (i >= n) return;
      Status st = fn(i);
      if (!st.ok()) {
        std::lock_guard lock(mu);
        if (!first) first = st.error();
        failed.store(true);
        return;
      }
    }
  };
  auto count = static_cast<std::size_t>(std::max(1, threads));
  count = std::min(count, n);
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < count; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (first) return *first;
  return {};
}

}  // namespace dynarep::backup::detail
