// The two Lambda modes.
//
// One event (`dynarep replicate --event FILE|-`): {"Records":[...]} as Lambda hands it to a
// function, Kinesis records (base64 data) or DynamoDB Streams records. Bad records are
// dead-lettered and do NOT fail the event; the event fails only when something must be retried
// (throttling, 5xx, network, a missing table), so Lambda retries the batch.
//
// The custom runtime (`bootstrap`, or `dynarep replicate --lambda-runtime`): loops on the Lambda
// Runtime API at $AWS_LAMBDA_RUNTIME_API:
//   GET  /2018-06-01/runtime/invocation/next             -> the event; Lambda-Runtime-Aws-Request-Id,
//                                                           Lambda-Runtime-Deadline-Ms headers
//   POST /2018-06-01/runtime/invocation/{id}/response    <- {"received":N,"applied":N,...}
//   POST /2018-06-01/runtime/invocation/{id}/error       <- {"errorMessage":..,"errorType":..}
//   POST /2018-06-01/runtime/init/error                  <- when the configuration is unusable
// (AWS Lambda Developer Guide, "Using the Lambda runtime API for custom runtimes".)
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "replicate/replicator.h"

namespace dynarep::replicate {

// Applies one event, retrying the whole event (idempotent) on retryable errors with backoff
// until `deadline` (default: 5 attempts). Errors: the event is not a {"Records":[...]} object
// (kInvalidInput), or a failure that needs Lambda to retry.
Result<ApplyResult> apply_lambda_event(Replicator& replicator, std::string_view event_json, Clock& clock,
                                       std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

// {"received":10,"applied":9,"superseded":2,"skipped":0,"deadLettered":1,"puts":6,"deletes":1}
std::string apply_result_json(const ApplyResult& r);

struct RuntimeOptions {
  std::string api;  // host:port from AWS_LAMBDA_RUNTIME_API
  // Builds the replicator once, at init. An error is reported to /runtime/init/error.
  std::function<Result<std::unique_ptr<Replicator>>()> init;
  // How long a failed GET /next waits before trying again. Default 500 ms.
  std::chrono::milliseconds next_retry{500};
  // Stop after this many invocations (0, the default: never). For tests.
  int max_invocations = 0;
};

// Runs the runtime loop until `stop` is set (checked between invocations) or max_invocations.
// Returns 0 after a stop, 1 after an init error.
int run_lambda_runtime(const RuntimeOptions& options, const std::atomic<bool>& stop, Clock& clock);

}  // namespace dynarep::replicate
