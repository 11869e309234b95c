// Retries in the AWS SDKs' "standard" mode: capped exponential backoff with full jitter, a
// retry quota (token bucket) shared by every call of one client, throttling backed off on its
// own (slower) schedule, Retry-After honoured, and deadlines that cap a call's total time so
// that retries cannot outlive a shutdown. Sleeps go through the injected Clock.
//
// Reference: SDKs and Tools Reference Guide, "Retry behavior" (standard mode: 3 attempts,
// max backoff 20 s; quota of 500 tokens, 5 per retry, 10 per retry after a timeout, 1 returned
// for a call that succeeds at once, a retry's cost returned when it succeeds), and the SDKs'
// base delays (100 ms, 500 ms for throttling).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "core/clock.h"
#include "core/result.h"

namespace dynarep::aws {

struct RetryPolicy {
  // Attempts per call, the first included (standard mode: 3). 1 disables retries.
  int max_attempts = 3;
  // Retry n (1-based) waits random(0, min(max_backoff, base * 2^(n-1))) after a transient error.
  std::chrono::milliseconds base{100};
  // The same after a throttling error: the service asked us to slow down, so wait longer.
  std::chrono::milliseconds throttle_base{500};
  std::chrono::milliseconds max_backoff{20000};
  // A Retry-After header replaces the computed delay, up to this long.
  std::chrono::milliseconds max_retry_after{60000};

  // Retry quota, shared by all calls of one client: a retry needs tokens, so a failing service
  // stops being hammered by retries while first attempts still go out.
  int quota_capacity = 500;
  int retry_cost = 5;           // after a transient error (5xx, reset connection, ...)
  int timeout_retry_cost = 10;  // after a timeout or a failed connection
  // After a throttling error. Default 0: throttling is the service pacing us, not failing, and
  // a table copy running at its provisioned capacity must not lose the ability to retry
  // anything else; the longer throttle backoff and max_attempts bound these retries instead.
  int throttle_retry_cost = 0;
  int success_refund = 1;  // returned when a call succeeds at its first attempt
};

// Per-call settings.
struct CallOptions {
  // No attempt starts, and no backoff sleeps, past this point (Clock::steady_now time). A call
  // that would have to is stopped with an Error of kind kCancelled, code "DeadlineExceeded",
  // carrying the last error. Nest deadlines with earliest().
  std::optional<std::chrono::steady_clock::time_point> deadline{};
  // Set (by another thread) to stop retrying: Error kind kCancelled, code "Cancelled".
  const std::atomic<bool>* cancel = nullptr;
  // False for operations that must not run twice (an UpdateItem with ADD): then only failures
  // where the request cannot have been processed are retried (throttling, connection refused).
  bool idempotent = true;
  // For writes whose result the caller acts on (conditional writes, non-idempotent updates):
  // when an attempt may have been applied without its answer arriving (timeout, reset, 5xx)
  // and the call then ends in failure, the final error is kUnknownOutcome instead of the last
  // attempt's. A resent conditional write that the first attempt applied fails its condition,
  // and "condition failed" would say the write did not happen when it did.
  bool report_unknown_outcome = false;
  // HTTP timeouts of each attempt (JSON calls; REST calls take them from their http::Request).
  std::chrono::milliseconds attempt_timeout{60000};
  std::chrono::milliseconds connect_timeout{5000};
};

// The earlier of two optional deadlines (nesting: a shard's deadline within the shutdown's).
inline std::optional<std::chrono::steady_clock::time_point> earliest(
    std::optional<std::chrono::steady_clock::time_point> a, std::optional<std::chrono::steady_clock::time_point> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

// A snapshot of RetryStats.
struct RetryCounters {
  uint64_t calls = 0;             // calls started
  uint64_t attempts = 0;          // attempts made (calls + retries)
  uint64_t retries = 0;           // attempts after the first
  uint64_t throttles = 0;         // throttling errors received
  uint64_t transient_errors = 0;  // transient errors received (network, 5xx)
  uint64_t quota_refusals = 0;    // retries refused because the quota was empty
  uint64_t failures = 0;          // calls that ended in an error
  std::chrono::nanoseconds backoff{0};  // total time slept between attempts
};

// Counters callers read for metrics; updated atomically by the Retrier.
class RetryStats {
 public:
  [[nodiscard]] uint64_t calls() const { return calls_.load(std::memory_order_relaxed); }
  [[nodiscard]] uint64_t attempts() const { return attempts_.load(std::memory_order_relaxed); }
  [[nodiscard]] uint64_t retries() const { return retries_.load(std::memory_order_relaxed); }
  [[nodiscard]] uint64_t throttles() const { return throttles_.load(std::memory_order_relaxed); }
  [[nodiscard]] uint64_t transient_errors() const { return transient_.load(std::memory_order_relaxed); }
  [[nodiscard]] uint64_t quota_refusals() const { return quota_refusals_.load(std::memory_order_relaxed); }
  [[nodiscard]] uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::chrono::nanoseconds backoff() const {
    return std::chrono::nanoseconds(backoff_ns_.load(std::memory_order_relaxed));
  }
  [[nodiscard]] RetryCounters snapshot() const;

 private:
  friend class Retrier;
  std::atomic<uint64_t> calls_{0}, attempts_{0}, retries_{0}, throttles_{0}, transient_{0},
      quota_refusals_{0}, failures_{0};
  std::atomic<int64_t> backoff_ns_{0};
};

// What one attempt reports besides its result.
struct AttemptInfo {
  int attempt = 1;  // 1 for the first attempt (set by the Retrier)
  // From a Retry-After header of the failed answer.
  std::optional<std::chrono::milliseconds> retry_after{};
  // False when the request certainly never reached the service (so even a non-idempotent call
  // may be retried). Errors with code "ConnectFailed" count as not sent as well.
  bool request_sent = true;
  // False when this failure must not be retried whatever its kind: part of a streamed request
  // body was consumed, or part of a streamed response already handed on.
  bool may_retry = true;
};

// Runs calls with retries. Thread-safe; one per client (its quota and stats are shared by
// every call through it).
class Retrier {
 public:
  // `uniform01` returns the jitter factor in [0, 1]; default: a seeded Mersenne Twister.
  explicit Retrier(RetryPolicy policy = {}, Clock& clock = SystemClock::instance(),
                   std::function<double()> uniform01 = {});

  // Calls attempt(AttemptInfo&) -> Result<T> until it succeeds, fails for good, runs out of
  // attempts or quota, or reaches the deadline; returns the last result. The final Error's
  // message notes the attempts made ("... (3 attempts)").
  template <class F>
  auto run(F&& attempt, const CallOptions& options = {}) -> std::invoke_result_t<F&, AttemptInfo&> {
    if (auto stop = begin_call(options); !stop.ok()) return std::move(stop).error();
    CallState state;
    for (;;) {
      AttemptInfo info;
      info.attempt = ++state.attempts;
      auto result = attempt(info);
      if (result.ok()) {
        on_success(state);
        return result;
      }
      Error error = std::move(result).error();
      if (auto next = after_failure(state, error, info, options); !next.ok()) return std::move(next).error();
    }
  }

  // The building blocks of run(), public for tests and hand-written loops.
  // Counts the call; an Error if the deadline already passed or the call was cancelled.
  Status begin_call(const CallOptions& options);
  struct CallState {
    int attempts = 0;   // attempts made so far
    int last_cost = 0;  // quota tokens taken by the latest retry
    bool maybe_applied = false;  // a failed attempt may have been applied (its answer was lost)
  };
  // Records a success and refunds the quota (the last retry's cost, or success_refund).
  void on_success(const CallState& state);
  // After a failed attempt: sleeps and returns ok when another attempt should follow, else
  // the final Error (built from `error`). Counts what happened.
  Status after_failure(CallState& state, Error& error, const AttemptInfo& info, const CallOptions& options);
  // The backoff before retry number `retry` (1-based) after `error`, before Retry-After.
  [[nodiscard]] Clock::Duration backoff(const Error& error, int retry);

  [[nodiscard]] const RetryPolicy& policy() const { return policy_; }
  [[nodiscard]] const RetryStats& stats() const { return stats_; }
  [[nodiscard]] int quota_available() const;

 private:
  int cost_of(const Error& error) const;
  double jitter();

  RetryPolicy policy_;
  Clock& clock_;
  std::function<double()> uniform01_;
  RetryStats stats_;
  mutable std::mutex mu_;  // guards quota_ and rng_
  int quota_;
  std::mt19937_64 rng_;
};

// Parses a Retry-After header value: delta seconds ("120") or an HTTP date
// ("Wed, 21 Oct 2015 07:28:00 GMT", relative to `now`). nullopt if unparsable.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

}  // namespace dynarep::aws
