// Progress of a long job (docs/formats.md §5): on a TTY a line redrawn about once a second with
// items, rate, elapsed and ETA (when the total is known); otherwise a log line every
// `log_interval`. Counters are atomics so worker threads add without locks.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>

namespace dynarep {

class Progress {
 public:
  struct Options {
    std::string label;                  // "scan us-east-1/orders"
    std::string unit = "items";
    int64_t total = -1;                 // for the ETA; -1 when unknown
    bool tty = false;
    std::chrono::milliseconds tty_interval{1000};
    std::chrono::milliseconds log_interval{10000};
  };
  Progress(std::ostream& out, Options options);
  ~Progress();  // stops the reporter thread; does not print a final line
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void add(int64_t n) { done_.fetch_add(n, std::memory_order_relaxed); }
  // A second counter shown beside the first ("12,000 compared"), optional.
  void add_secondary(int64_t n) { secondary_.fetch_add(n, std::memory_order_relaxed); }
  void set_secondary_label(std::string label);
  int64_t done() const { return done_.load(std::memory_order_relaxed); }
  double elapsed_seconds() const;
  // Stops reporting and clears the TTY line, so a summary can follow.
  void stop();

  // "1,234,567"
  static std::string group_digits(int64_t n);

 private:
  void loop();
  std::string line() const;
  std::ostream& out_;
  Options opt_;
  std::string secondary_label_;
  std::atomic<int64_t> done_{0};
  std::atomic<int64_t> secondary_{0};
  std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

// Token bucket for --rate-limit: acquire(n) blocks until n tokens are available.
class RateLimiter {
 public:
  explicit RateLimiter(double per_second);  // <= 0: unlimited
  void acquire(int64_t n);

 private:
  std::mutex mu_;
  double rate_;
  double tokens_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace dynarep
