// AwsClient against an in-process HTTP server: signing headers, retries, error classification,
// credentials refresh, streaming, thread safety. (client_stack_test.cpp runs it against the
// real local stack.)
#include "aws/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "crypto/checksum.h"
#include "crypto/sha256.h"
#include "http/test_server.h"

namespace dynarep::aws {
namespace {

using testing::CannedResponse;
using testing::RecordedRequest;
using testing::TestHttpServer;

CannedResponse answer(int status, std::string body, http::Headers headers = {}) {
  CannedResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

CannedResponse dynamo_error(std::string code, std::string message) {
  return answer(400, R"({"__type":"com.amazonaws.dynamodb.v20120810#)" + code + R"(","message":")" + message + "\"}",
                {{"x-amzn-RequestId", "REQ-" + code}});
}

// Counts invalidate() calls; hands out a new key after each.
class RotatingCredentials : public CredentialsProvider {
 public:
  Result<Credentials> get() override {
    std::lock_guard lock(mu_);
    ++gets_;
    return Credentials{"AKID" + std::to_string(generation_), "secret", "session-" + std::to_string(generation_), std::nullopt};
  }
  void invalidate() override {
    std::lock_guard lock(mu_);
    ++generation_;
  }
  std::string name() const override { return "rotating"; }
  int generation() {
    std::lock_guard lock(mu_);
    return generation_;
  }

 private:
  std::mutex mu_;
  int generation_ = 1;
  int gets_ = 0;
};

class NoCredentials : public CredentialsProvider {
 public:
  Result<Credentials> get() override { return Error(ErrorKind::kAuth, "NoCredentials", "no AWS credentials found"); }
  std::string name() const override { return "none"; }
};

struct Fixture {
  // 2024-01-02T03:04:05Z
  ManualClock clock{std::chrono::system_clock::from_time_t(1704164645)};
  std::shared_ptr<RotatingCredentials> creds = std::make_shared<RotatingCredentials>();
  std::unique_ptr<TestHttpServer> server;
  std::unique_ptr<AwsClient> client;

  explicit Fixture(TestHttpServer::Handler handler, std::string service = "dynamodb", RetryPolicy policy = {}) {
    server = std::make_unique<TestHttpServer>(std::move(handler));
    client = std::make_unique<AwsClient>(Endpoint{server->url(), "us-east-1", std::move(service)}, creds, policy, clock);
  }
};

TEST(AwsClient, JsonCallIsSignedAndReturnsTheBody) {
  Fixture f([](const RecordedRequest&) { return answer(200, R"({"TableNames":[]})"); });
  auto r = f.client->call_json("DynamoDB_20120810.ListTables", "1.0", "{}");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(*r, R"({"TableNames":[]})");
  const auto req = f.server->requests().at(0);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/");
  EXPECT_EQ(req.body, "{}");
  EXPECT_EQ(req.header("x-amz-target"), "DynamoDB_20120810.ListTables");
  EXPECT_EQ(req.header("content-type"), "application/x-amz-json-1.0");
  EXPECT_EQ(req.header("host"), "127.0.0.1:" + std::to_string(f.server->port()));
  EXPECT_EQ(req.header("x-amz-date"), "20240102T030405Z");
  EXPECT_EQ(req.header("x-amz-security-token"), "session-1");
  const std::string auth = req.header("authorization").value_or("");
  EXPECT_TRUE(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKID1/20240102/us-east-1/dynamodb/aws4_request, "))
      << auth;
  EXPECT_NE(auth.find("SignedHeaders="), std::string::npos);
  EXPECT_NE(auth.find("x-amz-target"), std::string::npos);
  EXPECT_FALSE(req.header("expect").has_value());
  EXPECT_EQ(req.header("user-agent"), "dynarep");
  EXPECT_EQ(auth.find("user-agent"), std::string::npos) << "not signed";
  EXPECT_EQ(f.client->stats().calls(), 1u);
  EXPECT_EQ(f.client->stats().retries(), 0u);
}

TEST(AwsClient, KinesisUsesJson11) {
  Fixture f([](const RecordedRequest&) { return answer(200, R"({"StreamNames":[]})"); }, "kinesis");
  ASSERT_TRUE(f.client->call_json("Kinesis_20131202.ListStreams", "1.1", "{}").ok());
  const auto req = f.server->requests().at(0);
  EXPECT_EQ(req.header("content-type"), "application/x-amz-json-1.1");
  EXPECT_NE(req.header("authorization")->find("/us-east-1/kinesis/aws4_request"), std::string::npos);
}

TEST(AwsClient, RetriesServerErrorsWithBackoff) {
  std::atomic<int> n{0};
  Fixture f([&](const RecordedRequest&) {
    if (++n < 3) return answer(500, R"({"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"oops"})");
    return answer(200, "{}");
  });
  auto r = f.client->call_json("DynamoDB_20120810.GetItem", "1.0", "{}");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(n.load(), 3);
  EXPECT_EQ(f.client->stats().retries(), 2u);
  EXPECT_EQ(f.client->stats().transient_errors(), 2u);
  EXPECT_GT(f.clock.total_slept(), ManualClock::Duration::zero());
  EXPECT_LE(f.clock.total_slept(), std::chrono::milliseconds(300));
  // Each attempt is signed anew: the date moves with the clock.
  const auto reqs = f.server->requests();
  EXPECT_EQ(reqs.front().header("x-amz-date"), "20240102T030405Z");
}

TEST(AwsClient, ThrottlingGivesUpWithAClearError) {
  Fixture f([](const RecordedRequest&) { return dynamo_error("ProvisionedThroughputExceededException", "too fast"); });
  auto r = f.client->call_json("DynamoDB_20120810.PutItem", "1.0", "{}");
  ASSERT_FALSE(r.ok());
  const Error& e = r.error();
  EXPECT_EQ(e.kind, ErrorKind::kThrottled);
  EXPECT_EQ(e.code, "ProvisionedThroughputExceededException");
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.request_id, "REQ-ProvisionedThroughputExceededException");
  EXPECT_EQ(e.context, "PutItem on " + f.server->url());
  EXPECT_EQ(e.describe(), "PutItem on " + f.server->url() +
                              ": ProvisionedThroughputExceededException: too fast (3 attempts) (HTTP 400, request id "
                              "REQ-ProvisionedThroughputExceededException)");
  EXPECT_EQ(f.server->requests().size(), 3u);
  EXPECT_EQ(f.client->stats().throttles(), 3u);
}

TEST(AwsClient, ClientErrorsAreNotRetried) {
  Fixture f([](const RecordedRequest&) { return dynamo_error("ValidationException", "bad key"); });
  auto r = f.client->call_json("DynamoDB_20120810.GetItem", "1.0", "{}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(r.error().message, "bad key");
  EXPECT_EQ(f.server->requests().size(), 1u);
}

TEST(AwsClient, Crc32MismatchIsRetried) {
  std::atomic<int> n{0};
  const std::string body = R"({"Item":{"id":{"S":"a"}}})";
  const std::string good = std::to_string(crypto::crc32(body));
  Fixture f([&](const RecordedRequest&) {
    return answer(200, body, {{"x-amz-crc32", ++n == 1 ? "12345" : good}});
  });
  auto r = f.client->call_json("DynamoDB_20120810.GetItem", "1.0", "{}");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(*r, body);
  EXPECT_EQ(n.load(), 2);
  EXPECT_EQ(f.client->stats().transient_errors(), 1u);
}

TEST(AwsClient, ExpiredTokenRefreshesCredentialsOnce) {
  Fixture f([](const RecordedRequest& r) {
    if (r.header("x-amz-security-token") == "session-1") {
      return dynamo_error("ExpiredTokenException", "The security token included in the request is expired");
    }
    return answer(200, "{}");
  });
  auto r = f.client->call_json("DynamoDB_20120810.GetItem", "1.0", "{}");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(f.creds->generation(), 2);
  EXPECT_EQ(f.server->requests().size(), 2u);
  EXPECT_EQ(f.clock.total_slept(), ManualClock::Duration::zero()) << "no backoff for a refresh";
  EXPECT_EQ(f.client->stats().retries(), 0u);
}

TEST(AwsClient, ExpiredTokenTwiceIsAnAuthError) {
  Fixture f([](const RecordedRequest&) { return dynamo_error("ExpiredTokenException", "expired"); });
  auto r = f.client->call_json("DynamoDB_20120810.GetItem", "1.0", "{}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kAuth);
  EXPECT_EQ(f.server->requests().size(), 2u);
}

TEST(AwsClient, RetryAfterIsHonoured) {
  std::atomic<int> n{0};
  Fixture f([&](const RecordedRequest&) {
    if (++n == 1) return answer(503, "", {{"Retry-After", "7"}});
    return answer(200, "{}");
  });
  ASSERT_TRUE(f.client->call_json("DynamoDB_20120810.GetItem", "1.0", "{}").ok());
  EXPECT_EQ(f.clock.total_slept(), std::chrono::seconds(7));
}

TEST(AwsClient, NonIdempotentCallsAreNotResentAfterAServerError) {
  Fixture f([](const RecordedRequest&) { return answer(500, ""); });
  CallOptions once;
  once.idempotent = false;
  auto r = f.client->call_json("DynamoDB_20120810.UpdateItem", "1.0", "{}", once);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(f.server->requests().size(), 1u);
  EXPECT_EQ(r.error().kind, ErrorKind::kTransient);
}

TEST(AwsClient, DeadlineStopsRetries) {
  Fixture f([](const RecordedRequest&) { return answer(503, ""); }, "dynamodb", RetryPolicy{.max_attempts = 50});
  CallOptions o;
  o.deadline = f.clock.steady_now() + std::chrono::seconds(2);
  auto r = f.client->call_json("DynamoDB_20120810.GetItem", "1.0", "{}", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kCancelled);
  EXPECT_EQ(r.error().code, "DeadlineExceeded");
  EXPECT_LT(f.clock.total_slept(), std::chrono::seconds(2));
  EXPECT_LT(f.server->requests().size(), 50u);
}

TEST(AwsClient, RefusedPortIsTransientAndNamesTheHostAfterAllAttempts) {
  int port = 0;
  {
    TestHttpServer s([](const RecordedRequest&) { return CannedResponse{}; });
    port = s.port();
  }
  ManualClock clock;
  AwsClient client(Endpoint{"http://127.0.0.1:" + std::to_string(port), "us-east-1", "dynamodb"},
                   std::make_shared<RotatingCredentials>(), RetryPolicy{.max_attempts = 4}, clock);
  auto r = client.call_json("DynamoDB_20120810.ListTables", "1.0", "{}");
  ASSERT_FALSE(r.ok());
  const Error& e = r.error();
  EXPECT_EQ(e.kind, ErrorKind::kTransient);
  EXPECT_EQ(e.code, "ConnectFailed");
  EXPECT_EQ(e.http_status, 0);
  EXPECT_NE(e.context.find("host 127.0.0.1:" + std::to_string(port)), std::string::npos) << e.describe();
  EXPECT_NE(e.context.find("ListTables"), std::string::npos) << e.describe();
  EXPECT_NE(e.message.find("(4 attempts)"), std::string::npos) << e.describe();
  EXPECT_EQ(client.stats().attempts(), 4u);
}

TEST(AwsClient, MissingCredentialsFailWithoutSending) {
  TestHttpServer server([](const RecordedRequest&) { return answer(200, "{}"); });
  AwsClient client(Endpoint{server.url(), "us-east-1", "dynamodb"}, std::make_shared<NoCredentials>());
  auto r = client.call_json("DynamoDB_20120810.ListTables", "1.0", "{}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kAuth);
  EXPECT_EQ(r.error().describe(), "ListTables on " + server.url() + ": NoCredentials: no AWS credentials found");
  EXPECT_TRUE(server.requests().empty());
}

TEST(AwsClient, ManyThreadsShareOneClientAndReuseConnections) {
  Fixture f([](const RecordedRequest& r) { return answer(200, r.body); });
  constexpr int kThreads = 8;
  constexpr int kCalls = 30;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        const std::string body = "{\"t\":" + std::to_string(t) + ",\"i\":" + std::to_string(i) + "}";
        auto r = f.client->call_json("DynamoDB_20120810.GetItem", "1.0", body);
        if (!r.ok() || *r != body) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(f.server->requests().size(), static_cast<size_t>(kThreads * kCalls));
  EXPECT_LE(f.client->connections_opened(), static_cast<uint64_t>(kThreads));
  EXPECT_LE(f.server->connections_accepted(), kThreads);
  EXPECT_EQ(f.client->stats().calls(), static_cast<uint64_t>(kThreads * kCalls));
}

// --- REST (S3 rules) -----------------------------------------------------------------------

TEST(AwsClientRest, PutIsSignedWithThePayloadHash) {
  Fixture f([](const RecordedRequest&) { return answer(200, "", {{"ETag", "\"abc\""}}); }, "s3");
  http::Request req;
  req.method = "PUT";
  req.url = "/bucket/dir/my%20key.gz";
  req.body = "hello world";
  auto r = f.client->call_rest(req);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->header("etag"), "\"abc\"");
  const auto seen = f.server->requests().at(0);
  EXPECT_EQ(seen.target, "/bucket/dir/my%20key.gz");
  EXPECT_EQ(seen.body, "hello world");
  EXPECT_EQ(seen.header("x-amz-content-sha256"), crypto::sha256_hex("hello world"));
  EXPECT_EQ(seen.header("user-agent"), "dynarep");
  EXPECT_NE(seen.header("authorization")->find("/us-east-1/s3/aws4_request"), std::string::npos);
  EXPECT_NE(seen.header("authorization")->find("x-amz-content-sha256"), std::string::npos);
}

TEST(AwsClientRest, GivenPayloadHashAndAbsoluteUrl) {
  Fixture f([](const RecordedRequest&) { return answer(200, "ok"); }, "s3");
  http::Request req;
  req.method = "GET";
  req.url = f.server->url() + "/bucket?list-type=2&prefix=a%2Fb";
  auto r = f.client->call_rest(req, "UNSIGNED-PAYLOAD");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->body, "ok");
  const auto seen = f.server->requests().at(0);
  EXPECT_EQ(seen.target, "/bucket?list-type=2&prefix=a%2Fb");
  EXPECT_EQ(seen.header("x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
}

TEST(AwsClientRest, S3ErrorsAreClassified) {
  Fixture f([](const RecordedRequest&) {
    return answer(404,
                  "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The specified key does not "
                  "exist.</Message><RequestId>S3REQ</RequestId></Error>",
                  {{"x-amz-request-id", "S3REQ"}});
  }, "s3");
  std::string streamed;
  auto r = f.client->call_rest_streaming({.method = "GET", .url = "/bucket/missing"}, [&](std::string_view c) {
    streamed.append(c);
    return true;
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(r.error().code, "NoSuchKey");
  EXPECT_EQ(r.error().request_id, "S3REQ");
  EXPECT_EQ(r.error().http_status, 404);
  EXPECT_EQ(r.error().context, "GET /bucket/missing on " + f.server->url());
  EXPECT_TRUE(streamed.empty()) << "error documents are not streamed";
  EXPECT_EQ(f.server->requests().size(), 1u);
}

TEST(AwsClientRest, HeadNotFoundWithoutBody) {
  Fixture f([](const RecordedRequest&) { return answer(404, ""); }, "s3");
  auto r = f.client->call_rest({.method = "HEAD", .url = "/bucket/k"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(r.error().code, "NotFound");
}

TEST(AwsClientRest, StreamingRetriesOnlyBeforeTheFirstByte) {
  std::atomic<int> n{0};
  const std::string big(256 * 1024, 'b');
  Fixture f([&](const RecordedRequest&) {
    const int i = ++n;
    if (i == 1) return answer(503, "<Error><Code>SlowDown</Code><Message>slow</Message></Error>");
    auto r = answer(200, big);
    if (i == 2) r.fault = CannedResponse::Fault::kTruncateBody;
    return r;
  }, "s3");
  std::string got;
  auto r = f.client->call_rest_streaming({.method = "GET", .url = "/bucket/k"}, [&](std::string_view c) {
    got.append(c);
    return true;
  });
  ASSERT_FALSE(r.ok()) << "the truncated second answer had already delivered bytes";
  EXPECT_EQ(r.error().kind, ErrorKind::kTransient);
  EXPECT_NE(r.error().message.find("not retried"), std::string::npos) << r.error().describe();
  EXPECT_EQ(n.load(), 2);
  EXPECT_FALSE(got.empty());
}

TEST(AwsClientRest, StreamingDeliversTheBody) {
  std::string big(700 * 1000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i % 251);
  Fixture f([&](const RecordedRequest&) { return answer(200, big); }, "s3");
  std::string got;
  auto r = f.client->call_rest_streaming({.method = "GET", .url = "/bucket/k"}, [&](std::string_view c) {
    got.append(c);
    return true;
  });
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(got, big);
}

TEST(AwsClientRest, StreamedUploadIsUnsignedAndNotRetriedOnceRead) {
  std::atomic<int> n{0};
  Fixture f([&](const RecordedRequest&) {
    ++n;
    CannedResponse r;
    r.fault = CannedResponse::Fault::kReset;
    return r;
  }, "s3");
  const std::string data(100000, 'u');
  size_t off = 0;
  http::Request req;
  req.method = "PUT";
  req.url = "/bucket/streamed";
  req.headers = {{"Content-Length", std::to_string(data.size())}};
  req.body_reader = [&](char* buf, size_t max) {
    const size_t k = std::min(max, data.size() - off);
    std::copy_n(data.data() + off, k, buf);
    off += k;
    return k;
  };
  auto r = f.client->call_rest(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(n.load(), 1);
  EXPECT_EQ(f.server->requests().at(0).header("x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
}

TEST(AwsClientRest, ExpiredTokenOnAStreamedUploadRefreshesButDoesNotResend) {
  Fixture f([](const RecordedRequest&) {
    return answer(400, "<Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>");
  }, "s3");
  const std::string data(1000, 'e');
  size_t off = 0;
  http::Request req;
  req.method = "PUT";
  req.url = "/bucket/streamed";
  req.headers = {{"Content-Length", std::to_string(data.size())}};
  req.body_reader = [&](char* buf, size_t max) {
    const size_t k = std::min(max, data.size() - off);
    std::copy_n(data.data() + off, k, buf);
    off += k;
    return k;
  };
  auto r = f.client->call_rest(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kAuth);
  EXPECT_EQ(r.error().code, "ExpiredToken");
  EXPECT_EQ(f.server->requests().size(), 1u);
  EXPECT_EQ(f.creds->generation(), 2) << "the next call signs with fresh credentials";
}

TEST(AwsClientRest, StreamedUploadSucceeds) {
  Fixture f([](const RecordedRequest& r) { return answer(200, std::to_string(r.body.size())); }, "s3");
  const std::string data(300000, 'v');
  size_t off = 0;
  http::Request req;
  req.method = "PUT";
  req.url = "/bucket/streamed";
  req.headers = {{"Content-Length", std::to_string(data.size())}};
  req.body_reader = [&](char* buf, size_t max) {
    const size_t k = std::min(max, data.size() - off);
    std::copy_n(data.data() + off, k, buf);
    off += k;
    return k;
  };
  auto r = f.client->call_rest(req);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->body, "300000");
}

}  // namespace
}  // namespace dynarep::aws
