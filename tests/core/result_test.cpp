#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/result.h"

namespace dynarep {
namespace {

Result<int> half(int x) {
  if (x % 2 != 0) return invalid_input("odd number " + std::to_string(x));
  return x / 2;
}

Result<int> quarter(int x) {
  int h = 0;
  DR_ASSIGN(h, half(x));
  DR_ASSIGN(int q, half(h));
  return q;
}

Status check_even(int x) {
  DR_TRY(half(x));
  return {};
}

TEST(Result, CarriesValueOrError) {
  auto ok = half(8);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 4);
  auto bad = half(3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(bad.error().message, "odd number 3");
  EXPECT_THROW(bad.value(), std::logic_error);
}

TEST(Result, MacrosPropagateTheFirstError) {
  EXPECT_EQ(*quarter(8), 2);
  auto r = quarter(6);  // 6 -> 3 -> odd
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "odd number 3");
  EXPECT_TRUE(check_even(2).ok());
  EXPECT_FALSE(check_even(1).ok());
}

TEST(Error, DescribeNamesContextCodeStatusAndRequestId) {
  Error e(ErrorKind::kNotFound, "ResourceNotFoundException", "Requested resource not found");
  e.http_status = 400;
  e.request_id = "ABC";
  e.with_context("table us-east-1/orders").with_context("scan");
  EXPECT_EQ(e.describe(),
            "scan: table us-east-1/orders: ResourceNotFoundException: Requested resource not "
            "found (HTTP 400, request id ABC)");
  EXPECT_FALSE(e.retryable());
  EXPECT_TRUE(Error(ErrorKind::kThrottled, "x", "y").retryable());
  EXPECT_TRUE(Error(ErrorKind::kTransient, "x", "y").retryable());
}

TEST(ManualClock, SleepAdvancesBothClocks) {
  ManualClock clock(std::chrono::system_clock::time_point(std::chrono::seconds(1000)));
  auto s0 = clock.steady_now();
  clock.sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(clock.now().time_since_epoch(), std::chrono::milliseconds(1001500));
  EXPECT_EQ(clock.steady_now() - s0, std::chrono::milliseconds(1500));
  EXPECT_EQ(clock.total_slept(), std::chrono::milliseconds(1500));
}

}  // namespace
}  // namespace dynarep
