#include "core/clock.h"

#include <thread>

namespace dynarep {

void SystemClock::sleep_for(Duration d) { std::this_thread::sleep_for(d); }

SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

std::chrono::system_clock::time_point ManualClock::now() const {
  std::lock_guard lock(mu_);
  return wall_;
}
std::chrono::steady_clock::time_point ManualClock::steady_now() const {
  std::lock_guard lock(mu_);
  return steady_;
}
void ManualClock::advance(Duration d) {
  std::lock_guard lock(mu_);
  wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  steady_ += d;
  slept_ += d;
}
ManualClock::Duration ManualClock::total_slept() const {
  std::lock_guard lock(mu_);
  return slept_;
}

}  // namespace dynarep
