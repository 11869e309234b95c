// The signed, retried call path every service client uses (dynamodb, kinesis, s3).
//
// Each attempt: fetch credentials (cached by the provider), sign with SigV4 at the Clock's
// time, send, classify a non-2xx answer (errors.h). Retries follow retry.h. An ExpiredToken
// answer invalidates the credentials and is resent once at once with fresh ones.
// Thread-safe: many threads may call one AwsClient at once (parallel scan segments); each call
// borrows an http::Client from a pool, so keep-alive connections are reused.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/credentials.h"
#include "aws/location.h"
#include "aws/retry.h"
#include "core/clock.h"
#include "core/result.h"
#include "http/client.h"

namespace dynarep::aws {

class AwsClient {
 public:
  AwsClient(Endpoint endpoint, std::shared_ptr<CredentialsProvider> credentials, RetryPolicy policy = {},
            Clock& clock = SystemClock::instance());
  ~AwsClient();
  AwsClient(const AwsClient&) = delete;
  AwsClient& operator=(const AwsClient&) = delete;

  // JSON protocols: POST / with X-Amz-Target and Content-Type application/x-amz-json-<version>.
  // DynamoDB: target "DynamoDB_20120810.GetItem", version "1.0"; Kinesis:
  // "Kinesis_20131202.PutRecords", "1.1". Returns the 2xx body, or the classified Error after
  // retries, its context naming the operation and endpoint. A response whose x-amz-crc32
  // header does not match its body is a transient error (retried).
  Result<std::string> call_json(std::string_view target, std::string_view json_version, const std::string& body,
                                const CallOptions& options = {});

  // REST (S3). `req.url` is absolute, or a path ("/bucket/key?query", already encoded) on the
  // endpoint. Signed with S3's rules: path neither normalised nor encoded again, and an
  // x-amz-content-sha256 header with `payload_hash`, default: sha256 of req.body, or
  // "UNSIGNED-PAYLOAD" for a streamed body (req.body_reader). A streamed body is retried only
  // if the failed attempt read none of it. Returns 2xx (and 3xx) answers; other statuses are
  // classified Errors.
  Result<http::Response> call_rest(http::Request req, std::optional<std::string> payload_hash = std::nullopt,
                                   const CallOptions& options = {});
  // As call_rest, streaming the response body to on_chunk (return false to stop: kCancelled).
  // A failed attempt is retried only if no byte reached on_chunk. Error bodies are not streamed.
  Result<http::Response> call_rest_streaming(http::Request req,
                                             const std::function<bool(std::string_view)>& on_chunk,
                                             const CallOptions& options = {});

  [[nodiscard]] const RetryStats& stats() const { return retrier_.stats(); }
  [[nodiscard]] const Endpoint& endpoint() const { return endpoint_; }
  [[nodiscard]] Clock& clock() const { return clock_; }
  // TCP connections opened by this client's HTTP pool so far (keep-alive reuse adds none).
  [[nodiscard]] uint64_t connections_opened() const { return connections_opened_.load(); }

 private:
  class Lease;
  std::unique_ptr<http::Client> acquire_http();
  void release_http(std::unique_ptr<http::Client> client);
  Result<http::Response> send_signed(http::Request& req, std::string_view payload_for_hash,
                                     const std::optional<std::string>& payload_hash, bool s3_rules,
                                     const std::function<bool(std::string_view)>* on_chunk, AttemptInfo& info);
  Result<http::Response> rest(http::Request req, std::optional<std::string> payload_hash,
                              const std::function<bool(std::string_view)>* on_chunk, const CallOptions& options);

  Endpoint endpoint_;
  std::string host_header_;  // host[:port] of the endpoint, as signed
  std::shared_ptr<CredentialsProvider> credentials_;
  Clock& clock_;
  Retrier retrier_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<http::Client>> idle_;
  std::atomic<uint64_t> connections_opened_{0};
};

}  // namespace dynarep::aws
