// Injected time. Signing dates, lease expiry and backoff sleeps all read a Clock so tests can
// run them deterministically and fast (time is injected).
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>

namespace dynarep {

class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  virtual ~Clock() = default;
  // Wall-clock time, for signatures, timestamps and record ages.
  virtual std::chrono::system_clock::time_point now() const = 0;
  // Monotonic time, for timeouts, lease expiry and rates.
  virtual std::chrono::steady_clock::time_point steady_now() const = 0;
  virtual void sleep_for(Duration d) = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::now();
  }
  void sleep_for(Duration d) override;
  static SystemClock& instance();
};

// A clock that only moves when told to; sleep_for advances it instead of waiting.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::chrono::system_clock::time_point start = {}) : wall_(start) {}
  std::chrono::system_clock::time_point now() const override;
  std::chrono::steady_clock::time_point steady_now() const override;
  void sleep_for(Duration d) override { advance(d); }
  void advance(Duration d);
  Duration total_slept() const;

 private:
  mutable std::mutex mu_;
  std::chrono::system_clock::time_point wall_;
  std::chrono::steady_clock::time_point steady_{};
  Duration slept_{0};
};

}  // namespace dynarep
