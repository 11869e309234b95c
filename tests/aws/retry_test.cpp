#include "aws/retry.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace dynarep::aws {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Error transient_error() { return Error(ErrorKind::kTransient, "InternalServerError", "boom"); }
Error throttle_error() { return Error(ErrorKind::kThrottled, "ProvisionedThroughputExceededException", "slow down"); }

// A Retrier whose jitter is fixed at `j`, so delays are exact.
Retrier make(RetryPolicy p, ManualClock& clock, double j = 1.0) {
  return Retrier(p, clock, [j] { return j; });
}

// Runs a call that fails with `errors` in turn (then succeeds), recording when each attempt ran.
struct Script {
  std::vector<Error> errors{};
  std::vector<ManualClock::Duration> attempt_times{};
  std::optional<milliseconds> retry_after{};
  ManualClock* clock = nullptr;
  Result<int> operator()(AttemptInfo& info) {
    attempt_times.push_back(clock->total_slept());
    if (retry_after) info.retry_after = retry_after;
    const size_t i = attempt_times.size() - 1;
    if (i < errors.size()) return errors[i];
    return 42;
  }
};

std::vector<milliseconds> gaps(const std::vector<ManualClock::Duration>& times) {
  std::vector<milliseconds> out;
  for (size_t i = 1; i < times.size(); ++i) {
    out.push_back(std::chrono::duration_cast<milliseconds>(times[i] - times[i - 1]));
  }
  return out;
}

TEST(AwsRetrier, TransientErrorsBackOffExponentiallyFromBase) {
  ManualClock clock;
  RetryPolicy p;
  p.max_attempts = 5;
  auto r = make(p, clock);
  Script s{.errors = {transient_error(), transient_error(), transient_error(), transient_error()}, .clock = &clock};
  auto result = r.run(std::ref(s));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, 42);
  EXPECT_EQ(gaps(s.attempt_times), (std::vector<milliseconds>{milliseconds(100), milliseconds(200), milliseconds(400),
                                                                milliseconds(800)}));
  EXPECT_EQ(r.stats().retries(), 4u);
  EXPECT_EQ(r.stats().attempts(), 5u);
  EXPECT_EQ(r.stats().transient_errors(), 4u);
  EXPECT_EQ(r.stats().calls(), 1u);
  EXPECT_EQ(r.stats().failures(), 0u);
  EXPECT_EQ(r.stats().backoff(), milliseconds(1500));
}

TEST(AwsRetrier, ThrottlingUsesItsOwnLargerBaseAndIsCounted) {
  ManualClock clock;
  RetryPolicy p;
  p.max_attempts = 4;
  auto r = make(p, clock);
  Script s{.errors = {throttle_error(), throttle_error(), throttle_error()}, .clock = &clock};
  ASSERT_TRUE(r.run(std::ref(s)).ok());
  EXPECT_EQ(gaps(s.attempt_times), (std::vector<milliseconds>{milliseconds(500), milliseconds(1000), milliseconds(2000)}));
  EXPECT_EQ(r.stats().throttles(), 3u);
  EXPECT_EQ(r.stats().transient_errors(), 0u);
}

TEST(AwsRetrier, BackoffIsCappedAndJittered) {
  ManualClock clock;
  RetryPolicy p;
  p.max_attempts = 6;
  p.max_backoff = milliseconds(300);
  auto capped = make(p, clock);
  Script s{.errors = {transient_error(), transient_error(), transient_error(), transient_error()}, .clock = &clock};
  ASSERT_TRUE(capped.run(std::ref(s)).ok());
  EXPECT_EQ(gaps(s.attempt_times), (std::vector<milliseconds>{milliseconds(100), milliseconds(200), milliseconds(300),
                                                                milliseconds(300)}));
  // Full jitter: the delay is the ceiling times the random factor.
  auto half = make(RetryPolicy{}, clock, 0.5);
  EXPECT_EQ(half.backoff(transient_error(), 1), milliseconds(50));
  EXPECT_EQ(half.backoff(transient_error(), 2), milliseconds(100));
  EXPECT_EQ(half.backoff(throttle_error(), 3), milliseconds(1000));
  // Huge retry numbers stay at the cap instead of overflowing.
  EXPECT_EQ(half.backoff(throttle_error(), 500), milliseconds(10000));
  // The default jitter stays within [0, ceiling].
  Retrier random_jitter(RetryPolicy{}, clock);
  for (int i = 0; i < 200; ++i) {
    const auto d = random_jitter.backoff(transient_error(), 3);
    EXPECT_GE(d, ManualClock::Duration::zero());
    EXPECT_LE(d, milliseconds(400));
  }
}

TEST(AwsRetrier, GivesUpAfterMaxAttemptsWithTheLastError) {
  ManualClock clock;
  auto r = make(RetryPolicy{}, clock);
  Script s{.errors = {transient_error(), transient_error(), Error(ErrorKind::kTransient, "ServiceUnavailable", "down")},
           .clock = &clock};
  auto result = r.run(std::ref(s));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(s.attempt_times.size(), 3u);
  EXPECT_EQ(result.error().code, "ServiceUnavailable");
  EXPECT_EQ(result.error().kind, ErrorKind::kTransient);
  EXPECT_EQ(result.error().message, "down (3 attempts)");
  EXPECT_EQ(r.stats().failures(), 1u);
}

TEST(AwsRetrier, NonRetryableKindsAreNeverRetried) {
  for (ErrorKind kind : {ErrorKind::kInvalidInput, ErrorKind::kAuth, ErrorKind::kNotFound, ErrorKind::kConditionFailed,
                         ErrorKind::kFatal, ErrorKind::kCancelled}) {
    ManualClock clock;
    auto r = make(RetryPolicy{}, clock);
    Script s{.errors = {Error(kind, "X", "no")}, .clock = &clock};
    auto result = r.run(std::ref(s));
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(s.attempt_times.size(), 1u) << to_string(kind);
    EXPECT_EQ(result.error().kind, kind);
    EXPECT_EQ(result.error().message, "no");
    EXPECT_EQ(clock.total_slept(), ManualClock::Duration::zero());
  }
}

TEST(AwsRetrier, RetryAfterReplacesTheBackoffUpToItsCap) {
  ManualClock clock;
  RetryPolicy p;
  p.max_retry_after = milliseconds(5000);
  auto r = make(p, clock);
  Script s{.errors = {throttle_error()}, .retry_after = milliseconds(3000), .clock = &clock};
  ASSERT_TRUE(r.run(std::ref(s)).ok());
  EXPECT_EQ(gaps(s.attempt_times), std::vector<milliseconds>{milliseconds(3000)});
  Script capped{.errors = {throttle_error()}, .retry_after = milliseconds(90000), .clock = &clock};
  ASSERT_TRUE(r.run(std::ref(capped)).ok());
  EXPECT_EQ(gaps(capped.attempt_times), std::vector<milliseconds>{milliseconds(5000)});
}

TEST(AwsRetrier, QuotaDrainsOnRetriesAndRefillsOnSuccess) {
  ManualClock clock;
  RetryPolicy p;
  p.quota_capacity = 20;
  p.max_attempts = 10;
  auto r = make(p, clock);
  // 5 tokens a retry: 4 retries, then the quota refuses the 5th.
  Script s{.errors = std::vector<Error>(9, transient_error()), .clock = &clock};
  auto result = r.run(std::ref(s));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(s.attempt_times.size(), 5u);
  EXPECT_EQ(r.quota_available(), 0);
  EXPECT_EQ(r.stats().quota_refusals(), 1u);
  EXPECT_NE(result.error().message.find("retry quota exhausted"), std::string::npos) << result.error().message;
  // A first-attempt success returns 1 token.
  Script ok{.clock = &clock};
  ASSERT_TRUE(r.run(std::ref(ok)).ok());
  EXPECT_EQ(r.quota_available(), 1);
  // Timeouts cost 10.
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(r.run(std::ref(ok)).ok()) << i;
  EXPECT_EQ(r.quota_available(), 20) << "never above capacity";
  Script timeout{.errors = {Error(ErrorKind::kTransient, "Timeout", "slow")}, .clock = &clock};
  ASSERT_TRUE(r.run(std::ref(timeout)).ok());
  // 20 - 10 for the retry, + 10 back because that retry succeeded.
  EXPECT_EQ(r.quota_available(), 20);
  Script fails_then_timeout{.errors = {Error(ErrorKind::kTransient, "ConnectFailed", "refused"), transient_error()},
                            .clock = &clock};
  ASSERT_TRUE(r.run(std::ref(fails_then_timeout)).ok());
  // -10 (connect failure), -5 (5xx), +5 (the last retry's cost back).
  EXPECT_EQ(r.quota_available(), 10);
}

TEST(AwsRetrier, ThrottlingDoesNotDrainTheQuotaByDefault) {
  ManualClock clock;
  RetryPolicy p;
  p.quota_capacity = 10;
  p.max_attempts = 20;
  auto r = make(p, clock, 0.0);
  Script s{.errors = std::vector<Error>(15, throttle_error()), .clock = &clock};
  ASSERT_TRUE(r.run(std::ref(s)).ok());
  EXPECT_EQ(s.attempt_times.size(), 16u);
  EXPECT_EQ(r.quota_available(), 10);
  // With a cost configured, throttles do count.
  p.throttle_retry_cost = 5;
  auto costly = make(p, clock, 0.0);
  Script t{.errors = std::vector<Error>(15, throttle_error()), .clock = &clock};
  ASSERT_FALSE(costly.run(std::ref(t)).ok());
  EXPECT_EQ(t.attempt_times.size(), 3u);
}

TEST(AwsRetrier, DeadlineCapsTheTotalTime) {
  ManualClock clock;
  RetryPolicy p;
  p.max_attempts = 10;
  auto r = make(p, clock);
  CallOptions o;
  o.deadline = clock.steady_now() + milliseconds(250);
  Script s{.errors = std::vector<Error>(9, transient_error()), .clock = &clock};
  auto result = r.run(std::ref(s), o);
  ASSERT_FALSE(result.ok());
  // Attempt at 0, sleep 100, attempt at 100; the next sleep (200) would pass the deadline.
  EXPECT_EQ(s.attempt_times.size(), 2u);
  EXPECT_EQ(clock.total_slept(), milliseconds(100));
  EXPECT_EQ(result.error().kind, ErrorKind::kCancelled);
  EXPECT_EQ(result.error().code, "DeadlineExceeded");
  EXPECT_NE(result.error().message.find("InternalServerError: boom"), std::string::npos) << result.error().message;
}

TEST(AwsRetrier, PassedDeadlineStopsBeforeTheFirstAttempt) {
  ManualClock clock;
  clock.advance(seconds(10));
  auto r = make(RetryPolicy{}, clock);
  CallOptions o;
  o.deadline = clock.steady_now() - seconds(1);
  Script s{.clock = &clock};
  auto result = r.run(std::ref(s), o);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(s.attempt_times.empty());
  EXPECT_EQ(result.error().code, "DeadlineExceeded");
}

TEST(AwsRetrier, NestedDeadlinesTakeTheEarliest) {
  const auto t0 = std::chrono::steady_clock::time_point{} + seconds(5);
  EXPECT_EQ(earliest(std::nullopt, std::nullopt), std::nullopt);
  EXPECT_EQ(earliest(t0, std::nullopt), t0);
  EXPECT_EQ(earliest(std::nullopt, t0), t0);
  EXPECT_EQ(earliest(t0, t0 + seconds(1)), t0);
  EXPECT_EQ(earliest(t0 + seconds(1), t0), t0);
}

TEST(AwsRetrier, CancelFlagStopsRetrying) {
  ManualClock clock;
  RetryPolicy p;
  p.max_attempts = 10;
  auto r = make(p, clock);
  std::atomic<bool> cancel{false};
  CallOptions o;
  o.cancel = &cancel;
  int attempts = 0;
  auto result = r.run(
      [&](AttemptInfo&) -> Result<int> {
        if (++attempts == 2) cancel = true;
        return transient_error();
      },
      o);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(result.error().kind, ErrorKind::kCancelled);
  EXPECT_EQ(result.error().code, "Cancelled");
  std::atomic<bool> already{true};
  o.cancel = &already;
  auto none = r.run([&](AttemptInfo&) -> Result<int> { return 1; }, o);
  EXPECT_FALSE(none.ok());
}

TEST(AwsRetrier, NonIdempotentCallsRetryOnlyWhatCannotHaveRun) {
  ManualClock clock;
  auto r = make(RetryPolicy{}, clock);
  CallOptions once;
  once.idempotent = false;
  Script five_hundred{.errors = {transient_error()}, .clock = &clock};
  auto result = r.run(std::ref(five_hundred), once);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(five_hundred.attempt_times.size(), 1u);
  EXPECT_NE(result.error().message.find("not idempotent"), std::string::npos);
  Script refused{.errors = {Error(ErrorKind::kTransient, "ConnectFailed", "refused")}, .clock = &clock};
  EXPECT_TRUE(r.run(std::ref(refused), once).ok());
  Script throttled{.errors = {throttle_error()}, .clock = &clock};
  EXPECT_TRUE(r.run(std::ref(throttled), once).ok());
  int n = 0;
  auto not_sent = r.run(
      [&](AttemptInfo& info) -> Result<int> {
        if (++n == 1) {
          info.request_sent = false;
          return transient_error();
        }
        return 7;
      },
      once);
  EXPECT_TRUE(not_sent.ok());
}

TEST(AwsRetrier, MayRetryFalseStopsAtOnce) {
  ManualClock clock;
  auto r = make(RetryPolicy{}, clock);
  int n = 0;
  auto result = r.run([&](AttemptInfo& info) -> Result<int> {
    ++n;
    info.may_retry = false;
    return transient_error();
  });
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(n, 1);
  EXPECT_EQ(result.error().kind, ErrorKind::kTransient);
}

TEST(AwsRetrier, MaxAttemptsOneDisablesRetries) {
  ManualClock clock;
  RetryPolicy p;
  p.max_attempts = 1;
  auto r = make(p, clock);
  Script s{.errors = {transient_error()}, .clock = &clock};
  auto result = r.run(std::ref(s));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "boom");
}

TEST(AwsRetrier, SharedByManyThreads) {
  ManualClock clock;
  RetryPolicy p;
  p.quota_capacity = 1000000;
  auto r = make(p, clock, 0.0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        int n = 0;
        auto result = r.run([&](AttemptInfo&) -> Result<int> {
          if (++n == 1) return transient_error();
          return 1;
        });
        ASSERT_TRUE(result.ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(r.stats().calls(), 1600u);
  EXPECT_EQ(r.stats().retries(), 1600u);
  EXPECT_EQ(r.stats().attempts(), 3200u);
  EXPECT_EQ(r.quota_available(), 1000000);
  const auto snap = r.stats().snapshot();
  EXPECT_EQ(snap.retries, 1600u);
  EXPECT_EQ(snap.transient_errors, 1600u);
}

TEST(AwsRetryAfter, Parses) {
  const auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(parse_retry_after("120", now), milliseconds(120000));
  EXPECT_EQ(parse_retry_after(" 0 ", now), milliseconds(0));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), milliseconds(30000));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now), milliseconds(0));
  EXPECT_EQ(parse_retry_after("soon", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("-5", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("1.5", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("", now), std::nullopt);
}

}  // namespace
}  // namespace dynarep::aws
