// AWS clients for tests: the local stack's credentials, a retry policy with millisecond delays,
// and an AwsClient for one service at a URL (the local stack's, or a fault proxy's in front of
// it). Header-only so only the tests that include it need the aws module.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/location.h"
#include "aws/retry.h"

namespace dynarep::testing {

// The SDK-like policy with millisecond delays, so a test with retries takes milliseconds.
inline aws::RetryPolicy fast_policy(int attempts) {
  using namespace std::chrono_literals;
  aws::RetryPolicy p;
  p.max_attempts = attempts;
  p.base = 1ms;
  p.throttle_base = 2ms;
  p.max_backoff = 10ms;
  p.max_retry_after = 10ms;
  return p;
}

// The stack's credentials (s3rver checks signatures made with them; the others accept any).
inline std::shared_ptr<aws::CredentialsProvider> stack_credentials() {
  aws::Credentials c;
  c.access_key_id = "S3RVER";
  c.secret_access_key = "S3RVER";
  return std::make_shared<aws::StaticCredentialsProvider>(c);
}

// An AwsClient for `service` at `url`, signing for us-east-1 with the stack's credentials.
inline std::shared_ptr<aws::AwsClient> make_aws(aws::Service service, const std::string& url,
                                                const aws::RetryPolicy& policy) {
  aws::Endpoint endpoint;
  endpoint.url = url;
  endpoint.region = "us-east-1";
  endpoint.signing_service = std::string(aws::service_name(service));
  return std::make_shared<aws::AwsClient>(std::move(endpoint), stack_credentials(), policy);
}

}  // namespace dynarep::testing
