#include "http/client.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <sstream>

#include "http/test_server.h"

namespace dynarep::http {
namespace {

using testing::CannedResponse;
using testing::RecordedRequest;
using testing::TestHttpServer;

CannedResponse ok(std::string body, Headers headers = {}) {
  CannedResponse r;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

// A port nothing listens on: bind one, read its number, close it.
int closed_port() {
  TestHttpServer s([](const RecordedRequest&) { return CannedResponse{}; });
  return s.port();
}

TEST(HttpClient, GetReturnsStatusLowerCasedHeadersAndBody) {
  TestHttpServer server([](const RecordedRequest& r) {
    auto resp = ok("hello " + r.target, {{"X-Amzn-RequestId", "abc"}, {"Content-Type", "text/plain"}});
    resp.status = 203;
    return resp;
  });
  Client client;
  auto r = client.send({.method = "GET", .url = server.url() + "/path?a=1"});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->status, 203);
  EXPECT_EQ(r->body, "hello /path?a=1");
  EXPECT_EQ(r->header("x-amzn-requestid"), "abc");
  EXPECT_EQ(r->header("content-type"), "text/plain");
  EXPECT_FALSE(r->header("X-Amzn-RequestId").has_value()) << "lookups use lower-case names";
  EXPECT_FALSE(r->header("missing").has_value());
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].method, "GET");
}

TEST(HttpClient, PathIsSentExactlyAsGiven) {
  TestHttpServer server([](const RecordedRequest&) { return ok(""); });
  Client client;
  ASSERT_TRUE(client.send({.url = server.url() + "/bucket/a/../b/./c%2Fd?x=1&y=%20"}).ok());
  EXPECT_EQ(server.requests().at(0).target, "/bucket/a/../b/./c%2Fd?x=1&y=%20");
}

TEST(HttpClient, PostSendsBodyAndHeadersWithoutExpectContinue) {
  TestHttpServer server([](const RecordedRequest& r) { return ok("got " + std::to_string(r.body.size())); });
  Client client;
  Request req;
  req.method = "POST";
  req.url = server.url() + "/";
  req.headers = {{"X-Amz-Target", "DynamoDB_20120810.ListTables"}, {"Content-Type", "application/x-amz-json-1.0"},
                 {"X-Empty", ""}};
  req.body = std::string(2 * 1024 * 1024, 'x');  // large enough that curl would otherwise send Expect
  auto r = client.send(req);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->body, "got 2097152");
  const auto seen = server.requests().at(0);
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.body.size(), req.body.size());
  EXPECT_EQ(seen.header("x-amz-target"), "DynamoDB_20120810.ListTables");
  EXPECT_EQ(seen.header("content-length"), "2097152");
  EXPECT_EQ(seen.header("x-empty"), "");
  // curl waits up to 1 s for a "100 Continue" only when it sent "Expect: 100-continue".
  EXPECT_FALSE(seen.header("expect").has_value());
  EXPECT_FALSE(seen.header("transfer-encoding").has_value());
}

TEST(HttpClient, EmptyPostSendsContentLengthZero) {
  TestHttpServer server([](const RecordedRequest&) { return ok("{}"); });
  Client client;
  auto r = client.send({.method = "POST", .url = server.url() + "/"});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(server.requests().at(0).header("content-length"), "0");
}

TEST(HttpClient, ContentLengthGivenWithAMemoryBodyIsNotDuplicated) {
  TestHttpServer server([](const RecordedRequest&) { return ok(""); });
  Client client;
  auto r = client.send({.method = "PUT", .url = server.url() + "/b/k", .headers = {{"Content-Length", "3"}}, .body = "abc"});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  const auto seen = server.requests().at(0);
  int count = 0;
  for (const auto& h : seen.headers) count += h.first == "content-length" ? 1 : 0;
  EXPECT_EQ(count, 1);
  EXPECT_EQ(seen.body, "abc");
}

TEST(HttpClient, StreamedUploadReadsUntilDone) {
  TestHttpServer server([](const RecordedRequest& r) { return ok(std::to_string(r.body.size())); });
  Client client;
  const size_t total = 3 * 1024 * 1024 + 17;
  size_t produced = 0;
  Request req;
  req.method = "PUT";
  req.url = server.url() + "/bucket/key";
  req.headers = {{"Content-Length", std::to_string(total)}};
  req.body_reader = [&](char* buf, size_t max) {
    const size_t n = std::min(max, total - produced);
    std::fill(buf, buf + n, 'z');
    produced += n;
    return n;
  };
  auto r = client.send(req);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->body, std::to_string(total));
  EXPECT_EQ(produced, total);
  EXPECT_FALSE(server.requests().at(0).header("expect").has_value());
}

TEST(HttpClient, StreamedUploadWithoutContentLengthIsRejected) {
  Client client;
  Request req;
  req.method = "PUT";
  req.url = "http://127.0.0.1:1/x";
  req.body_reader = [](char*, size_t) -> size_t { return 0; };
  auto r = client.send(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
}

TEST(HttpClient, HeadAndDelete) {
  TestHttpServer server([](const RecordedRequest& r) {
    CannedResponse resp;
    resp.status = r.method == "DELETE" ? 204 : 200;
    if (r.method == "HEAD") resp.headers = {{"Content-Length", "1234"}, {"ETag", "\"e\""}};
    return resp;
  });
  Client client;
  auto head = client.send({.method = "HEAD", .url = server.url() + "/b/k"});
  ASSERT_TRUE(head.ok()) << head.error().describe();
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("content-length"), "1234");
  EXPECT_EQ(head->header("etag"), "\"e\"");
  EXPECT_TRUE(head->body.empty());
  auto del = client.send({.method = "DELETE", .url = server.url() + "/b/k"});
  ASSERT_TRUE(del.ok()) << del.error().describe();
  EXPECT_EQ(del->status, 204);
  EXPECT_EQ(server.requests().at(1).method, "DELETE");
}

TEST(HttpClient, ReusesOneKeepAliveConnection) {
  TestHttpServer server([](const RecordedRequest&) { return ok("{}"); });
  Client client;
  for (int i = 0; i < 25; ++i) {
    auto r = client.send({.method = i % 2 == 0 ? "POST" : "GET", .url = server.url() + "/", .body = i % 2 == 0 ? "{}" : ""});
    ASSERT_TRUE(r.ok()) << r.error().describe();
  }
  EXPECT_EQ(client.requests_sent(), 25u);
  EXPECT_EQ(client.connections_opened(), 1u);
  EXPECT_EQ(server.connections_accepted(), 1);
}

TEST(HttpClient, OpensANewConnectionAfterTheServerClosesOne) {
  TestHttpServer server([](const RecordedRequest&) {
    auto r = ok("bye");
    r.close = true;
    return r;
  });
  Client client;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.send({.url = server.url() + "/"}).ok());
  EXPECT_EQ(client.connections_opened(), 3u);
  EXPECT_EQ(server.connections_accepted(), 3);
}

// A keep-alive connection the server dropped silently: curl resends on a fresh connection,
// rewinding the in-memory body.
TEST(HttpClient, ResendsOnAFreshConnectionWhenAReusedOneIsDead) {
  std::atomic<int> calls{0};
  TestHttpServer server([&](const RecordedRequest& r) {
    const int n = ++calls;
    if (n == 2) {
      CannedResponse dead;
      dead.fault = CannedResponse::Fault::kCloseWithoutAnswer;
      return dead;
    }
    return ok("echo:" + r.body);
  });
  Client client;
  ASSERT_TRUE(client.send({.method = "POST", .url = server.url() + "/", .body = "first"}).ok());
  auto r = client.send({.method = "POST", .url = server.url() + "/", .body = "second"});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->body, "echo:second");
  EXPECT_EQ(calls.load(), 3);
}

TEST(HttpClient, RefusedConnectionIsTransientAndNamesTheHost) {
  const int port = closed_port();
  Client client;
  auto r = client.send({.url = "http://127.0.0.1:" + std::to_string(port) + "/x"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kTransient);
  EXPECT_EQ(r.error().code, kConnectFailed);
  EXPECT_EQ(r.error().http_status, 0);
  EXPECT_NE(r.error().context.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << r.error().describe();
}

TEST(HttpClient, UnresolvableHostIsTransient) {
  Client client;
  auto r = client.send({.url = "http://no-such-host.invalid/x", .timeout = std::chrono::milliseconds(3000)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kTransient);
  EXPECT_NE(r.error().context.find("no-such-host.invalid"), std::string::npos);
}

TEST(HttpClient, SlowServerTimesOut) {
  TestHttpServer server([](const RecordedRequest&) {
    auto r = ok("late");
    r.delay = std::chrono::milliseconds(3000);
    return r;
  });
  Client client;
  const auto start = std::chrono::steady_clock::now();
  auto r = client.send({.url = server.url() + "/", .timeout = std::chrono::milliseconds(200)});
  ASSERT_FALSE(r.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2000));
  EXPECT_EQ(r.error().kind, ErrorKind::kTransient);
  EXPECT_EQ(r.error().code, kTimeout);
  EXPECT_NE(r.error().context.find("127.0.0.1"), std::string::npos);
}

TEST(HttpClient, ResetAndTruncatedBodiesAreTransient) {
  for (auto fault : {CannedResponse::Fault::kReset, CannedResponse::Fault::kTruncateBody,
                     CannedResponse::Fault::kCloseWithoutAnswer}) {
    TestHttpServer server([fault](const RecordedRequest&) {
      auto r = ok("partial body");
      r.fault = fault;
      return r;
    });
    Client client;
    auto r = client.send({.url = server.url() + "/"});
    ASSERT_FALSE(r.ok()) << "fault " << static_cast<int>(fault);
    EXPECT_EQ(r.error().kind, ErrorKind::kTransient) << r.error().describe();
    EXPECT_EQ(r.error().code, kNetworkError) << r.error().describe();
    EXPECT_NE(r.error().context.find("127.0.0.1"), std::string::npos);
  }
}

TEST(HttpClient, StreamingDeliversTheBodyInChunks) {
  std::string big(1024 * 1024 + 3, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  TestHttpServer server([&](const RecordedRequest&) { return ok(big, {{"ETag", "\"x\""}}); });
  Client client;
  std::string got;
  int chunks = 0;
  auto r = client.send_streaming({.url = server.url() + "/b/k"}, [&](std::string_view c) {
    got.append(c);
    ++chunks;
    return true;
  });
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(r->header("etag"), "\"x\"");
  EXPECT_EQ(got, big);
  EXPECT_GT(chunks, 1);
}

TEST(HttpClient, StreamingCanBeAbortedByTheConsumer) {
  TestHttpServer server([](const RecordedRequest&) { return ok(std::string(512 * 1024, 'q')); });
  Client client;
  size_t seen = 0;
  auto r = client.send_streaming({.url = server.url() + "/"}, [&](std::string_view c) {
    seen += c.size();
    return false;
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kCancelled);
  EXPECT_EQ(r.error().code, kAborted);
  EXPECT_GT(seen, 0u);
  // The client is still usable afterwards.
  auto again = client.send({.url = server.url() + "/"});
  ASSERT_TRUE(again.ok()) << again.error().describe();
  EXPECT_EQ(again->body.size(), 512u * 1024u);
}

TEST(HttpClient, ExceptionsInCallbacksPropagate) {
  TestHttpServer server([](const RecordedRequest&) { return ok("abc"); });
  Client client;
  EXPECT_THROW(client.send_streaming({.url = server.url() + "/"},
                                     [](std::string_view) -> bool { throw std::runtime_error("bug"); }),
               std::runtime_error);
}

TEST(HttpClient, BadUrlIsInvalidInput) {
  Client client;
  auto r = client.send({.url = "gopherx://x/"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
}

TEST(HttpClient, MovedClientKeepsWorking) {
  TestHttpServer server([](const RecordedRequest&) { return ok("m"); });
  Client a;
  ASSERT_TRUE(a.send({.url = server.url() + "/"}).ok());
  Client b(std::move(a));
  auto r = b.send({.url = server.url() + "/"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(b.connections_opened(), 1u);
}

TEST(HttpRedaction, SecretHeadersAreRedacted) {
  Headers h = {{"Authorization", "AWS4-HMAC-SHA256 Credential=AKID/...,Signature=deadbeef"},
               {"X-Amz-Security-Token", "sessiontoken"},
               {"x-aws-ec2-metadata-token", "imdstoken"},
               {"X-Amz-Date", "20240101T000000Z"}};
  const auto r = redact_headers(h);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].second, "<redacted>");
  EXPECT_EQ(r[1].second, "<redacted>");
  EXPECT_EQ(r[2].second, "<redacted>");
  EXPECT_EQ(r[3].second, "20240101T000000Z");
  EXPECT_TRUE(is_secret_header("AUTHORIZATION"));
  EXPECT_FALSE(is_secret_header("x-amz-target"));
}

TEST(HttpRedaction, PresignedUrlSecretsAreRedacted) {
  EXPECT_EQ(redact_url("https://b.s3.amazonaws.com/k?X-Amz-Algorithm=A&X-Amz-Credential=AKID%2F1&X-Amz-Signature=ff&"
                       "x-amz-security-token=t&partNumber=1"),
            "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=A&X-Amz-Credential=<redacted>&X-Amz-Signature=<redacted>&"
            "x-amz-security-token=<redacted>&partNumber=1");
  EXPECT_EQ(redact_url("http://h/x"), "http://h/x");
  EXPECT_EQ(redact_url("http://h/x?list-type=2&prefix"), "http://h/x?list-type=2&prefix");
}

TEST(HttpRedaction, UrlHost) {
  EXPECT_EQ(url_host("http://127.0.0.1:8000/x?y"), "127.0.0.1:8000");
  EXPECT_EQ(url_host("https://dynamodb.us-east-1.amazonaws.com"), "dynamodb.us-east-1.amazonaws.com");
  EXPECT_EQ(url_host("https://user:pw@host:1/p"), "host:1");
  EXPECT_EQ(url_host("http://[::1]:9/"), "[::1]:9");
  EXPECT_EQ(url_host("not a url"), "not a url");
}

// Debug and trace logging never shows a secret header value.
TEST(HttpRedaction, LogsNeverShowSecrets) {
  TestHttpServer server([](const RecordedRequest&) { return ok("{}", {{"X-Amz-Security-Token", "response-secret"}}); });
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>("capture", sink);
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  Client client;
  auto r = client.send({.method = "POST",
                        .url = server.url() + "/?X-Amz-Signature=urlsecret",
                        .headers = {{"Authorization", "AWS4-HMAC-SHA256 Signature=topsecret"},
                                    {"X-Amz-Security-Token", "tokensecret"},
                                    {"X-Amz-Target", "visible-target"}},
                        .body = "{}"});
  auto failed = client.send({.url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/",
                             .headers = {{"Authorization", "failsecret"}}});
  spdlog::set_default_logger(previous);
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(failed.ok());
  const std::string log = captured.str();
  EXPECT_NE(log.find("visible-target"), std::string::npos) << log;
  EXPECT_NE(log.find("POST"), std::string::npos);
  EXPECT_NE(log.find("-> 200"), std::string::npos) << log;
  for (const char* secret : {"topsecret", "tokensecret", "urlsecret", "response-secret", "failsecret"}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " leaked into: " << log;
  }
  EXPECT_EQ(failed.error().describe().find("failsecret"), std::string::npos);
}

}  // namespace
}  // namespace dynarep::http
