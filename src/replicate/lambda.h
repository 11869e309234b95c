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
//   POST /2018-06-01/runtime/invocation/{id}/response    <- {"received":N,"applied":N,...}, or
//                                                           {"batchItemFailures":[...]} (partial
//                                                           batch responses, see below)
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

// Partial batch responses (the event source mapping's FunctionResponseTypes:
// [ReportBatchItemFailures]): what an event left unapplied, as Lambda wants it.
struct PartialBatchOutcome {
  ApplyResult applied;  // what the applied records did
  // Sequence numbers of the records NOT applied, in event order: per shard, the first record
  // that could not be applied and every record after it in that shard. Lambda resumes a shard
  // from the lowest sequence number reported, and nothing after a failure is applied ahead of
  // it, so the changes to one key still reach the replica in order.
  std::vector<std::string> failed_sequence_numbers;
  std::optional<Error> first_error;  // why the first reported record failed
};

// Applies one event as apply_lambda_event does (retries for half the time left to `deadline`);
// when it still fails,
// finds per shard the longest prefix of records that applies (bisecting: applying is
// idempotent) and reports the rest instead of failing the whole event. An error only when the
// event is not a {"Records":[...]} object (nothing to report item by item), or when a record
// to report has no sequence number.
Result<PartialBatchOutcome> apply_lambda_event_partial(
    Replicator& replicator, std::string_view event_json, Clock& clock,
    std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

// {"batchItemFailures":[{"itemIdentifier":"<sequence number>"},...]}; an empty list when all
// were applied (AWS Lambda Developer Guide, "Configuring partial batch response").
std::string batch_item_failures_json(const PartialBatchOutcome& outcome);

struct RuntimeOptions {
  std::string api;  // host:port from AWS_LAMBDA_RUNTIME_API
  // Builds the replicator once, at init. An error is reported to /runtime/init/error.
  std::function<Result<std::unique_ptr<Replicator>>()> init;
  // How long a failed GET /next waits before trying again. Default 500 ms.
  std::chrono::milliseconds next_retry{500};
  // Stop after this many invocations (0, the default: never). For tests.
  int max_invocations = 0;
  // Answer {"batchItemFailures":[...]} (apply_lambda_event_partial) instead of failing the
  // invocation: set when the event source mapping has ReportBatchItemFailures
  // (REPORT_BATCH_ITEM_FAILURES=true in deploy/lambda/template.yaml).
  bool report_batch_item_failures = false;
};

// Runs the runtime loop until `stop` is set (checked between invocations) or max_invocations.
// Returns 0 after a stop, 1 after an init error.
int run_lambda_runtime(const RuntimeOptions& options, const std::atomic<bool>& stop, Clock& clock);

}  // namespace dynarep::replicate
