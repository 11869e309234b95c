// SigV4 signing throughput for the request dynarep sends most: a DynamoDB JSON POST with a
// ~200-byte body. Target: >= 150,000 signatures/s on one core in a Release build.
//
//   build/release/bench/sigv4_bench --benchmark_filter=DynamoDb
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

#include "aws/sigv4.h"
#include "crypto/sha256.h"

namespace {

using dynarep::aws::Credentials;
using dynarep::aws::SigningConfig;
using dynarep::aws::SigningRequest;

const std::string kBody =
    R"({"TableName":"orders-replica","Item":{"pk":{"S":"customer#000123"},"sk":{"S":"order#2024-05-01T10:22:11Z"},)"
    R"("status":{"S":"SHIPPED"},"total":{"N":"129.95"},"items":{"N":"3"},"v":{"N":"7"},"ttl":{"N":"1717000000"}}})";

SigningRequest dynamodb_put_item() {
  return SigningRequest{"POST",
                        "/",
                        "",
                        {{"Host", "dynamodb.us-east-1.amazonaws.com"},
                         {"Content-Type", "application/x-amz-json-1.0"},
                         {"X-Amz-Target", "DynamoDB_20120810.PutItem"},
                         {"Content-Length", std::to_string(kBody.size())},
                         {"User-Agent", "dynarep/0.1.0"},
                         {"Accept-Encoding", "identity"}}};
}

SigningConfig dynamodb_config() {
  SigningConfig c;
  c.region = "us-east-1";
  c.service = "dynamodb";
  c.time = std::chrono::system_clock::time_point(std::chrono::seconds(1714558931));
  return c;
}

const Credentials kCreds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                         "FwoGZXIvYXdzEBYaDExampleSessionTokenExampleSessionTokenExample", std::nullopt};

// What the DynamoDB client does per call: copy its request template, sign it.
void BM_SignDynamoDbPost(benchmark::State& state) {
  const SigningRequest base = dynamodb_put_item();
  SigningConfig cfg = dynamodb_config();
  for (auto _ : state) {
    SigningRequest req = base;
    dynarep::aws::sign_request(req, kBody, kCreds, cfg);
    benchmark::DoNotOptimize(req.headers.back().second.data());
  }
  state.counters["signatures/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.SetLabel(std::to_string(kBody.size()) + "-byte body");
}
BENCHMARK(BM_SignDynamoDbPost);

// The same, with the clock moving every call (new X-Amz-Date each time, same day: the cached
// signing key still applies).
void BM_SignDynamoDbPostMovingClock(benchmark::State& state) {
  const SigningRequest base = dynamodb_put_item();
  SigningConfig cfg = dynamodb_config();
  for (auto _ : state) {
    cfg.time += std::chrono::milliseconds(1);
    SigningRequest req = base;
    dynarep::aws::sign_request(req, kBody, kCreds, cfg);
    benchmark::DoNotOptimize(req.headers.back().second.data());
  }
  state.counters["signatures/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SignDynamoDbPostMovingClock);

// Without the signing-key cache's help: a new day every call (the daily slow path).
void BM_SignDynamoDbPostColdKey(benchmark::State& state) {
  const SigningRequest base = dynamodb_put_item();
  SigningConfig cfg = dynamodb_config();
  for (auto _ : state) {
    cfg.time += std::chrono::hours(24);
    SigningRequest req = base;
    dynarep::aws::sign_request(req, kBody, kCreds, cfg);
    benchmark::DoNotOptimize(req.headers.back().second.data());
  }
  state.counters["signatures/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SignDynamoDbPostColdKey);

// The primitives the hot path is made of.
void BM_Sha256_200B(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(dynarep::crypto::sha256(kBody));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBody.size()));
}
BENCHMARK(BM_Sha256_200B);

void BM_HmacSha256_StringToSign(benchmark::State& state) {
  const std::string key(32, 'k');
  const std::string sts =
      "AWS4-HMAC-SHA256\n20240501T102211Z\n20240501/us-east-1/dynamodb/aws4_request\n"
      "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59";
  for (auto _ : state) benchmark::DoNotOptimize(dynarep::crypto::hmac_sha256(key, sts));
}
BENCHMARK(BM_HmacSha256_StringToSign);

}  // namespace

BENCHMARK_MAIN();
