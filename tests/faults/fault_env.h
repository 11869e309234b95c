// Shared pieces of the fault tests: AWS clients pointed at a FaultProxy with a fast retry
// policy, rule builders, and the checks every persistent-fault test makes.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/location.h"
#include "aws/retry.h"
#include "core/error.h"
#include "support/aws_clients.h"
#include "support/fault_proxy.h"
#include "support/stack.h"

namespace dynarep::faults {

using namespace std::chrono_literals;

// Attempts per call in these tests (the first included). A fault with "count" below this is
// survived; an unlimited one is seen exactly this many times.
inline constexpr int kAttempts = 4;

using testing::stack_credentials;

// support/aws_clients.h with this file's default of kAttempts attempts.
inline aws::RetryPolicy fast_policy(int attempts = kAttempts) { return testing::fast_policy(attempts); }

// An AwsClient for `service` at `url` (the proxy's, or the upstream's for setup and checks).
inline std::shared_ptr<aws::AwsClient> make_aws(aws::Service service, const std::string& url,
                                                const aws::RetryPolicy& policy = fast_policy()) {
  return testing::make_aws(service, url, policy);
}

// {"rules":[<rule>]} for one rule given as the inside of its JSON object:
//   one_rule(R"("match":{"method":"GET"},"fault":"drop","count":2)")
inline std::string one_rule(std::string_view body) { return "{\"rules\":[{" + std::string(body) + "}]}"; }

// A rule matching one JSON-protocol operation ("DynamoDB_20120810.PutItem").
inline std::string target_rule(std::string_view target, std::string_view fault_fields) {
  return one_rule("\"match\":{\"target\":\"" + std::string(target) + "\"}," + std::string(fault_fields));
}

inline bool contains(std::string_view text, std::string_view what) { return text.find(what) != std::string_view::npos; }

// What every persistent-fault test checks of the final error: its kind, that it names what it
// concerns (each of `names`), and that it reports the attempts made.
inline void expect_final_error(const Error& e, ErrorKind kind, std::initializer_list<std::string_view> names,
                               int attempts = kAttempts) {
  const std::string text = e.describe();
  EXPECT_EQ(e.kind, kind) << "kind " << to_string(e.kind) << ": " << text;
  for (std::string_view n : names) EXPECT_TRUE(contains(text, n)) << "error does not name '" << n << "': " << text;
  if (attempts > 1) {
    EXPECT_TRUE(contains(text, "(" + std::to_string(attempts) + " attempts")) << "attempts not reported: " << text;
  }
}

}  // namespace dynarep::faults
