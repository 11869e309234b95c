#include "aws/retry.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>

#include "aws/dates.h"

namespace dynarep::aws {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

// Longest single sleep while a cancel flag is being watched.
constexpr auto kCancelPollInterval = milliseconds(100);

bool is_cancelled(const CallOptions& options) {
  return options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed);
}

Error cancelled_error(int attempts) {
  return Error(ErrorKind::kCancelled, "Cancelled",
               attempts == 0 ? "cancelled before the first attempt"
                             : fmt::format("cancelled after {} attempt{}", attempts, attempts == 1 ? "" : "s"));
}

// The final error of a call whose write may have been applied (CallOptions::report_unknown_outcome):
// what the last attempt said stays in the message, the kind says the outcome is unknown.
Error unknown_outcome(Error last) {
  Error e(ErrorKind::kUnknownOutcome, "UnknownOutcome",
          fmt::format("the write may or may not have been applied: an attempt's answer was lost; last "
                      "answer: {}{}",
                      last.code.empty() ? "" : last.code + ": ", last.message));
  e.http_status = last.http_status;
  e.request_id = std::move(last.request_id);
  e.context = std::move(last.context);
  return e;
}

// "... (3 attempts)" on the message, so the person reading it knows retries happened.
void note_attempts(Error& error, int attempts, std::string_view why = "") {
  if (attempts <= 1 && why.empty()) return;
  error.message += fmt::format(" ({} attempt{}{}{})", attempts, attempts == 1 ? "" : "s", why.empty() ? "" : "; ", why);
}

}  // namespace

RetryCounters RetryStats::snapshot() const {
  RetryCounters c;
  c.calls = calls();
  c.attempts = attempts();
  c.retries = retries();
  c.throttles = throttles();
  c.transient_errors = transient_errors();
  c.quota_refusals = quota_refusals();
  c.failures = failures();
  c.backoff = backoff();
  return c;
}

Retrier::Retrier(RetryPolicy policy, Clock& clock, std::function<double()> uniform01)
    : policy_(policy),
      clock_(clock),
      uniform01_(std::move(uniform01)),
      quota_(policy.quota_capacity),
      rng_(std::random_device{}()) {
  if (policy_.max_attempts < 1) policy_.max_attempts = 1;
}

int Retrier::quota_available() const {
  std::lock_guard lock(mu_);
  return quota_;
}

double Retrier::jitter() {
  if (uniform01_) return std::clamp(uniform01_(), 0.0, 1.0);
  std::lock_guard lock(mu_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

Clock::Duration Retrier::backoff(const Error& error, int retry) {
  const milliseconds base = error.kind == ErrorKind::kThrottled ? policy_.throttle_base : policy_.base;
  // base * 2^(retry-1), capped; computed in double so large retry numbers cannot overflow.
  const double ceiling_ms = std::min(static_cast<double>(policy_.max_backoff.count()),
                                     static_cast<double>(base.count()) * std::ldexp(1.0, std::max(0, retry - 1)));
  return duration_cast<Clock::Duration>(std::chrono::duration<double, std::milli>(ceiling_ms * jitter()));
}

int Retrier::cost_of(const Error& error) const {
  if (error.kind == ErrorKind::kThrottled) return policy_.throttle_retry_cost;
  if (error.code == "Timeout" || error.code == "ConnectFailed" || error.code == "RequestTimeout" ||
      error.code == "RequestTimeoutException") {
    return policy_.timeout_retry_cost;
  }
  return policy_.retry_cost;
}

Status Retrier::begin_call(const CallOptions& options) {
  stats_.calls_.fetch_add(1, std::memory_order_relaxed);
  if (is_cancelled(options)) {
    stats_.failures_.fetch_add(1, std::memory_order_relaxed);
    return cancelled_error(0);
  }
  if (options.deadline && clock_.steady_now() >= *options.deadline) {
    stats_.failures_.fetch_add(1, std::memory_order_relaxed);
    return Error(ErrorKind::kCancelled, "DeadlineExceeded", "deadline passed before the first attempt");
  }
  return {};
}

void Retrier::on_success(const CallState& state) {
  stats_.attempts_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  const int refund = state.attempts <= 1 ? policy_.success_refund : state.last_cost;
  quota_ = std::min(policy_.quota_capacity, quota_ + refund);
}

Status Retrier::after_failure(CallState& state, Error& error, const AttemptInfo& info, const CallOptions& options) {
  stats_.attempts_.fetch_add(1, std::memory_order_relaxed);
  if (error.kind == ErrorKind::kThrottled) stats_.throttles_.fetch_add(1, std::memory_order_relaxed);
  if (error.kind == ErrorKind::kTransient) stats_.transient_.fetch_add(1, std::memory_order_relaxed);
  // A retryable failure of a request that may have reached the service: it may have been
  // applied although no answer says so.
  const bool not_processed = !info.request_sent || error.code == "ConnectFailed" || error.kind == ErrorKind::kThrottled;
  if (error.retryable() && !not_processed) state.maybe_applied = true;
  auto fail = [&](Error e) -> Status {
    stats_.failures_.fetch_add(1, std::memory_order_relaxed);
    if (options.report_unknown_outcome && state.maybe_applied) return unknown_outcome(std::move(e));
    return e;
  };

  if (!error.retryable()) {
    note_attempts(error, state.attempts);
    return fail(std::move(error));
  }
  if (!info.may_retry) {
    note_attempts(error, state.attempts, "not retried: part of a streamed body was already transferred");
    return fail(std::move(error));
  }
  // A non-idempotent request is resent only when the service cannot have acted on it.
  if (!options.idempotent && !not_processed) {
    note_attempts(error, state.attempts, "not retried: the operation is not idempotent");
    return fail(std::move(error));
  }
  if (state.attempts >= policy_.max_attempts) {
    note_attempts(error, state.attempts);
    return fail(std::move(error));
  }
  if (is_cancelled(options)) {
    Error c = cancelled_error(state.attempts);
    c.message += "; last error: " + error.describe();
    return fail(std::move(c));
  }

  // The delay: Retry-After when the service gave one, else capped exponential full jitter.
  Clock::Duration delay = backoff(error, state.attempts);
  if (info.retry_after) delay = std::min(*info.retry_after, policy_.max_retry_after);
  if (options.deadline && clock_.steady_now() + delay >= *options.deadline) {
    Error d(ErrorKind::kCancelled, "DeadlineExceeded",
            fmt::format("deadline reached after {} attempt{}; last error: {}", state.attempts,
                        state.attempts == 1 ? "" : "s", error.describe()));
    d.http_status = error.http_status;
    d.request_id = error.request_id;
    return fail(std::move(d));
  }

  const int cost = cost_of(error);
  bool quota_refused = false;
  {
    std::lock_guard lock(mu_);
    if (cost > quota_) {
      stats_.quota_refusals_.fetch_add(1, std::memory_order_relaxed);
      note_attempts(error, state.attempts, "retry quota exhausted: the service keeps failing");
      quota_refused = true;
    } else {
      quota_ -= cost;
    }
  }
  if (quota_refused) return fail(std::move(error));
  state.last_cost = cost;

  spdlog::debug("retrying after {} ({} of {} attempts made), waiting {} ms", error.describe(), state.attempts,
                policy_.max_attempts, duration_cast<milliseconds>(delay).count());
  // Sleep, in slices when a cancel flag is watched.
  Clock::Duration left = delay;
  while (left > Clock::Duration::zero()) {
    const Clock::Duration slice = options.cancel != nullptr ? std::min<Clock::Duration>(left, kCancelPollInterval) : left;
    clock_.sleep_for(slice);
    stats_.backoff_ns_.fetch_add(duration_cast<nanoseconds>(slice).count(), std::memory_order_relaxed);
    left -= slice;
    if (is_cancelled(options)) {
      Error c = cancelled_error(state.attempts);
      c.message += "; last error: " + error.describe();
      return fail(std::move(c));
    }
  }
  stats_.retries_.fetch_add(1, std::memory_order_relaxed);
  return {};
}

std::optional<milliseconds> parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now) {
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.remove_prefix(1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(value.front()))) {
    long long seconds = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || ptr != value.data() + value.size() || seconds < 0) return std::nullopt;
    return milliseconds(std::min<long long>(seconds, 86400) * 1000);
  }
  const auto when = parse_http_date(value);  // IMF-fixdate: "Wed, 21 Oct 2015 07:28:00 GMT"
  if (!when) return std::nullopt;
  if (*when <= now) return milliseconds(0);
  return duration_cast<milliseconds>(*when - now);
}

}  // namespace dynarep::aws
