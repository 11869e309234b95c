// S3 through the fault proxy (in front of s3rver, which checks SigV4 signatures): SlowDown,
// 5xx, drops, resets mid-body, truncations and delays are retried and objects arrive byte for
// byte; persistent faults fail with the right kind naming s3://bucket/key after the configured
// attempts; S3's non-retryable errors are sent once.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fault_env.h"
#include "s3/client.h"

namespace dynarep::faults {
namespace {

using s3::Client;
using s3::ClientOptions;

// Bytes that only an exact transfer reproduces: every byte value, position-dependent.
std::string object_bytes(size_t size, unsigned seed) {
  std::string s(size, '\0');
  uint32_t x = 2463534242u ^ seed;
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s[i] = static_cast<char>(x & 0xff);
  }
  return s;
}

class S3Faults : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto& stack = testing::local_stack();
    proxy_ = new testing::FaultProxy(stack.s3);
    bucket_ = new std::string(testing::unique_name("faults"));
    Client direct(make_aws(aws::Service::kS3, stack.s3), path_style());
    auto created = direct.create_bucket(*bucket_);
    if (!created.ok()) throw std::runtime_error("cannot create bucket: " + created.error().describe());
  }
  static void TearDownTestSuite() {
    delete proxy_;
    proxy_ = nullptr;
    delete bucket_;
    bucket_ = nullptr;
  }

  static ClientOptions path_style() {
    ClientOptions o;
    o.addressing = s3::AddressingStyle::kPath;
    return o;
  }

  void SetUp() override {
    proxy_->clear_rules();
    direct_ = std::make_unique<Client>(make_aws(aws::Service::kS3, testing::local_stack().s3), path_style());
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    // A key with a space, a plus and slashes: the signature the proxy passes on must still hold.
    key_ = std::string("faults/") + info->name() + "/obj 1+x.bin";
    make_client(path_style());
    proxy_->reset_stats();
  }
  void TearDown() override {
    proxy_->clear_rules();
    if (direct_) direct_->delete_object(*bucket_, key_).ignore_error();  // best-effort cleanup
  }

  void make_client(ClientOptions options) {
    aws_ = make_aws(aws::Service::kS3, proxy_->url());
    client_ = std::make_unique<Client>(aws_, options);
  }

  void put_direct(const std::string& body) {
    auto r = direct_->put_object(*bucket_, key_, body);
    ASSERT_TRUE(r.ok()) << r.error().describe();
  }

  // The stored object, read straight from s3rver, must be exactly `body`.
  void expect_stored(const std::string& body) {
    auto r = direct_->get_object(*bucket_, key_);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->body.size(), body.size());
    EXPECT_TRUE(r->body == body) << "stored object differs from what was written";
  }

  void expect_get_through_proxy(const std::string& body) {
    auto r = client_->get_object(*bucket_, key_);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->body.size(), body.size());
    EXPECT_TRUE(r->body == body) << "object read through the proxy differs from the stored one";
    EXPECT_EQ(r->info.size, body.size());
  }

  Result<std::string> get_streaming() {
    std::string got;
    auto r = client_->get_object_streaming(*bucket_, key_, [&](std::string_view chunk) -> Status {
      got.append(chunk);
      return {};
    });
    if (!r.ok()) return std::move(r).error();
    EXPECT_EQ(r->size, got.size());
    return got;
  }

  std::string object_name() const { return "s3://" + *bucket_ + "/" + key_; }

  static testing::FaultProxy* proxy_;
  static std::string* bucket_;
  std::unique_ptr<Client> direct_;
  std::shared_ptr<aws::AwsClient> aws_;
  std::unique_ptr<Client> client_;
  std::string key_;
};

testing::FaultProxy* S3Faults::proxy_ = nullptr;
std::string* S3Faults::bucket_ = nullptr;

// ---- SlowDown ------------------------------------------------------------------------------

TEST_F(S3Faults, PutObjectSurvivesTwoSlowDowns) {
  proxy_->set_rules(one_rule(R"("match":{"method":"PUT"},"fault":"throttle","count":2)"));
  const std::string body = object_bytes(100000, 1);
  auto r = client_->put_object(*bucket_, key_, body);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(proxy_->requests("PUT"), 3);
  EXPECT_EQ(aws_->stats().throttles(), 2u);
  expect_stored(body);
}

TEST_F(S3Faults, PersistentSlowDownOnPutObjectFailsThrottled) {
  proxy_->set_rules(one_rule(R"("match":{"method":"PUT"},"fault":"throttle")"));
  auto r = client_->put_object(*bucket_, key_, object_bytes(1000, 2));
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kThrottled, {object_name(), "SlowDown"});
  EXPECT_EQ(r.error().http_status, 503);
  EXPECT_EQ(proxy_->requests("PUT"), kAttempts);
  auto head = direct_->head_object(*bucket_, key_);
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().kind, ErrorKind::kNotFound);
}

TEST_F(S3Faults, PersistentSlowDownOnGetObjectFailsThrottled) {
  put_direct(object_bytes(1000, 3));
  proxy_->set_rules(one_rule(R"("match":{"method":"GET"},"fault":"throttle")"));
  auto r = client_->get_object(*bucket_, key_);
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kThrottled, {object_name(), "SlowDown"});
  EXPECT_EQ(proxy_->requests("GET"), kAttempts);
}

// ---- 5xx -----------------------------------------------------------------------------------

TEST_F(S3Faults, PutObjectSurvivesTwo500s) {
  proxy_->set_rules(one_rule(R"("match":{"method":"PUT"},"fault":"status","status":500,"count":2)"));
  const std::string body = object_bytes(50000, 4);
  auto r = client_->put_object(*bucket_, key_, body);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(proxy_->requests("PUT"), 3);
  expect_stored(body);
}

TEST_F(S3Faults, GetObjectSurvivesTwo503s) {
  const std::string body = object_bytes(50000, 5);
  put_direct(body);
  proxy_->set_rules(one_rule(R"("match":{"method":"GET"},"fault":"status","status":503,"count":2)"));
  expect_get_through_proxy(body);
  EXPECT_EQ(proxy_->requests("GET"), 3);
}

TEST_F(S3Faults, Persistent503OnGetObjectFailsTransient) {
  put_direct(object_bytes(100, 6));
  proxy_->set_rules(one_rule(R"("match":{"method":"GET"},"fault":"status","status":503)"));
  auto r = client_->get_object(*bucket_, key_);
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kTransient, {object_name(), "ServiceUnavailable"});
  EXPECT_EQ(r.error().http_status, 503);
  EXPECT_EQ(proxy_->requests("GET"), kAttempts);
}

TEST_F(S3Faults, Persistent500OnPutObjectFailsTransient) {
  proxy_->set_rules(one_rule(R"("match":{"method":"PUT"},"fault":"status","status":500)"));
  auto r = client_->put_object(*bucket_, key_, object_bytes(100, 7));
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kTransient, {object_name(), "InternalError"});
  EXPECT_EQ(proxy_->requests("PUT"), kAttempts);
}

// ---- drops, resets, truncations --------------------------------------------------------------

TEST_F(S3Faults, GetObjectSurvivesTwoResetsMidBody) {
  const std::string body = object_bytes(200000, 8);
  put_direct(body);
  proxy_->set_rules(one_rule(R"("match":{"method":"GET"},"fault":"reset_mid_body","bytes":1000,"count":2)"));
  expect_get_through_proxy(body);
  EXPECT_EQ(proxy_->requests("GET"), 3);
}

TEST_F(S3Faults, PutObjectSurvivesAResetMidBodyOfItsAnswer) {
  proxy_->set_rules(one_rule(R"("match":{"method":"PUT"},"fault":"reset_mid_body","count":1)"));
  const std::string body = object_bytes(100000, 9);
  auto r = client_->put_object(*bucket_, key_, body);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  expect_stored(body);
}

TEST_F(S3Faults, PersistentResetMidBodyOnGetObjectFailsTransient) {
  put_direct(object_bytes(20000, 10));
  proxy_->set_rules(one_rule(R"("match":{"method":"GET"},"fault":"reset_mid_body")"));
  auto r = client_->get_object(*bucket_, key_);
  ASSERT_FALSE(r.ok()) << "a body cut by a reset was returned as " << r->body.size() << " bytes";
  expect_final_error(r.error(), ErrorKind::kTransient, {object_name()});
  EXPECT_EQ(proxy_->requests("GET"), kAttempts);
}

TEST_F(S3Faults, GetObjectSurvivesTwoTruncations) {
  const std::string body = object_bytes(150000, 11);
  put_direct(body);
  proxy_->set_rules(one_rule(R"("match":{"method":"GET"},"fault":"truncate","count":2)"));
  expect_get_through_proxy(body);
  EXPECT_EQ(proxy_->requests("GET"), 3);
}

TEST_F(S3Faults, PersistentTruncationOnGetObjectFailsTransientNeverAsData) {
  put_direct(object_bytes(20000, 12));
  proxy_->set_rules(one_rule(R"("match":{"method":"GET"},"fault":"truncate")"));
  auto r = client_->get_object(*bucket_, key_);
  ASSERT_FALSE(r.ok()) << "a truncated body was returned as " << r->body.size() << " bytes of data";
  expect_final_error(r.error(), ErrorKind::kTransient, {object_name()});
  EXPECT_EQ(proxy_->requests("GET"), kAttempts);
}

TEST_F(S3Faults, GetObjectSurvivesTwoDrops) {
  const std::string body = object_bytes(30000, 13);
  put_direct(body);
  proxy_->set_rules(one_rule(R"("match":{"method":"GET"},"fault":"drop","count":2)"));
  expect_get_through_proxy(body);
  EXPECT_EQ(proxy_->requests("GET"), 3);
}

TEST_F(S3Faults, PersistentDropOnPutObjectFailsTransient) {
  proxy_->set_rules(one_rule(R"("match":{"method":"PUT"},"fault":"drop")"));
  auto r = client_->put_object(*bucket_, key_, object_bytes(30000, 14));
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kTransient, {object_name()});
  EXPECT_EQ(proxy_->requests("PUT"), kAttempts);
}

// ---- streaming GETs ------------------------------------------------------------------------

// One window (the object is far below read_window): the transfer breaks after 1000 bytes have
// reached the sink, so it cannot simply start over; it must resume from byte 1000.
TEST_F(S3Faults, StreamingGetSurvivesAResetInTheFirstWindow) {
  const std::string body = object_bytes(200000, 15);
  put_direct(body);
  proxy_->set_rules(one_rule(R"("match":{"method":"GET"},"fault":"reset_mid_body","bytes":1000,"count":1)"));
  auto got = get_streaming();
  ASSERT_TRUE(got.ok()) << got.error().describe();
  EXPECT_EQ(got->size(), body.size());
  EXPECT_TRUE(*got == body) << "streamed bytes differ from the object";
  EXPECT_EQ(proxy_->faults_injected(), 1);
  EXPECT_EQ(proxy_->requests("GET"), 2);  // the broken window and its resumption
}

TEST_F(S3Faults, StreamingGetResumesAfterAResetInALaterWindow) {
  ClientOptions options = path_style();
  options.read_window = 64 * 1024;
  make_client(options);
  const std::string body = object_bytes(300000, 16);
  put_direct(body);
  // The second window's GET breaks after 1000 bytes.
  proxy_->set_rules(one_rule(R"("match":{"method":"GET"},"fault":"reset_mid_body","bytes":1000,"after":1,"count":1)"));
  auto got = get_streaming();
  ASSERT_TRUE(got.ok()) << got.error().describe();
  EXPECT_EQ(got->size(), body.size());
  EXPECT_TRUE(*got == body) << "streamed bytes differ from the object";
  EXPECT_GE(proxy_->requests("GET"), 6);  // 5 windows, one of them resumed
}

TEST_F(S3Faults, StreamingGetSurvivesTruncationsAndDropsInLaterWindows) {
  ClientOptions options = path_style();
  options.read_window = 64 * 1024;
  make_client(options);
  const std::string body = object_bytes(300000, 17);
  put_direct(body);
  proxy_->set_rules(R"({"rules":[
    {"match":{"method":"GET"},"fault":"truncate","after":1,"count":1},
    {"match":{"method":"GET"},"fault":"drop","after":3,"count":1},
    {"match":{"method":"GET"},"fault":"status","status":503,"after":4,"count":1}]})");
  auto got = get_streaming();
  ASSERT_TRUE(got.ok()) << got.error().describe();
  EXPECT_EQ(got->size(), body.size());
  EXPECT_TRUE(*got == body) << "streamed bytes differ from the object";
}

TEST_F(S3Faults, PersistentResetOnStreamingGetFailsTransient) {
  ClientOptions options = path_style();
  options.read_window = 64 * 1024;
  make_client(options);
  put_direct(object_bytes(300000, 18));
  proxy_->set_rules(one_rule(R"("match":{"method":"GET"},"fault":"reset_mid_body","bytes":1000,"after":1)"));
  auto got = get_streaming();
  ASSERT_FALSE(got.ok()) << "a stream broken at every window was returned whole";
  EXPECT_EQ(got.error().kind, ErrorKind::kTransient) << got.error().describe();
  EXPECT_TRUE(contains(got.error().describe(), object_name())) << got.error().describe();
  // Bounded: the first window, then one GET per resume.
  EXPECT_LE(proxy_->requests("GET"), 1 + options.max_read_resumes + 1);
}

// ---- delays beyond the request timeout -------------------------------------------------------

TEST_F(S3Faults, GetObjectSurvivesTwoDelaysBeyondTheRequestTimeout) {
  ClientOptions options = path_style();
  options.request_timeout = 400ms;
  options.upload_timeout = 400ms;
  make_client(options);
  const std::string body = object_bytes(10000, 19);
  put_direct(body);
  proxy_->set_rules(one_rule(R"("match":{"method":"GET"},"fault":"delay","ms":3000,"count":2)"));
  const auto start = std::chrono::steady_clock::now();
  expect_get_through_proxy(body);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms) << "attempts were not cut at the timeout";
  EXPECT_EQ(proxy_->requests("GET"), 3);
}

TEST_F(S3Faults, PersistentDelayOnPutObjectFailsTransient) {
  ClientOptions options = path_style();
  options.request_timeout = 300ms;
  options.upload_timeout = 300ms;
  make_client(options);
  proxy_->set_rules(one_rule(R"("match":{"method":"PUT"},"fault":"delay","ms":3000)"));
  auto r = client_->put_object(*bucket_, key_, object_bytes(1000, 20));
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kTransient, {object_name(), "Timeout"});
  EXPECT_EQ(proxy_->requests("PUT"), kAttempts);
}

// ---- multipart upload ----------------------------------------------------------------------

TEST_F(S3Faults, MultipartUploadSurvivesThrottledAndFailedParts) {
  // 11 MiB in 5 MiB parts: three UploadPart calls; two SlowDowns and a 500 among them.
  proxy_->set_rules(R"({"rules":[
    {"match":{"method":"PUT","path":"partNumber="},"fault":"throttle","count":2},
    {"match":{"method":"PUT","path":"partNumber="},"fault":"status","status":500,"after":1,"count":1}]})");
  const std::string body = object_bytes(11u << 20, 21);
  s3::ObjectWriterOptions wopt;
  wopt.part_size = 5u << 20;
  wopt.max_parts_in_flight = 1;  // one at a time, so the rules hit in a known order
  s3::ObjectWriter writer(*client_, *bucket_, key_, wopt);
  for (size_t off = 0; off < body.size(); off += 1u << 20) {
    auto w = writer.write(std::string_view(body).substr(off, 1u << 20));
    ASSERT_TRUE(w.ok()) << w.error().describe();
  }
  auto done = writer.finish();
  ASSERT_TRUE(done.ok()) << done.error().describe();
  EXPECT_EQ(done->parts, 3);
  EXPECT_EQ(done->size, body.size());
  EXPECT_EQ(proxy_->faults_injected(), 3);
  expect_stored(body);
}

TEST_F(S3Faults, PersistentSlowDownOnUploadPartFailsThrottledAndLeavesNoObject) {
  proxy_->set_rules(one_rule(R"("match":{"method":"PUT","path":"partNumber=2"},"fault":"throttle")"));
  const std::string body = object_bytes(11u << 20, 22);
  s3::ObjectWriterOptions wopt;
  wopt.part_size = 5u << 20;
  wopt.max_parts_in_flight = 1;
  s3::ObjectWriter writer(*client_, *bucket_, key_, wopt);
  Status failed;
  for (size_t off = 0; off < body.size() && failed.ok(); off += 1u << 20) {
    failed = writer.write(std::string_view(body).substr(off, 1u << 20));
  }
  Error e;
  if (!failed.ok()) {
    e = failed.error();
  } else {
    auto done = writer.finish();
    ASSERT_FALSE(done.ok()) << "the upload completed although part 2 was always throttled";
    e = done.error();
  }
  EXPECT_EQ(e.kind, ErrorKind::kThrottled) << e.describe();
  EXPECT_TRUE(contains(e.describe(), object_name())) << e.describe();
  auto head = direct_->head_object(*bucket_, key_);
  ASSERT_FALSE(head.ok()) << "an object appeared although its upload failed";
  EXPECT_EQ(head.error().kind, ErrorKind::kNotFound);
}

// ---- non-retryable errors ------------------------------------------------------------------

TEST_F(S3Faults, AccessDeniedOnGetObjectIsSentOnce) {
  put_direct(object_bytes(100, 23));
  proxy_->set_rules(one_rule(R"("match":{"method":"GET"},"fault":"error","status":403,"code":"AccessDenied","message":"Access Denied")"));
  auto r = client_->get_object(*bucket_, key_);
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kAuth, {object_name(), "AccessDenied"}, 1);
  EXPECT_EQ(proxy_->requests("GET"), 1);
  EXPECT_EQ(aws_->stats().retries(), 0u);
}

TEST_F(S3Faults, InvalidArgumentOnPutObjectIsSentOnce) {
  proxy_->set_rules(one_rule(R"("match":{"method":"PUT"},"fault":"error","status":400,"code":"InvalidArgument")"));
  auto r = client_->put_object(*bucket_, key_, object_bytes(100, 24));
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kInvalidInput, {object_name(), "InvalidArgument"}, 1);
  EXPECT_EQ(proxy_->requests("PUT"), 1);
}

TEST_F(S3Faults, ValidationExceptionOnPutObjectIsSentOnce) {
  proxy_->set_rules(one_rule(R"("match":{"method":"PUT"},"fault":"error","status":400,"code":"ValidationException")"));
  auto r = client_->put_object(*bucket_, key_, object_bytes(100, 25));
  ASSERT_FALSE(r.ok());
  expect_final_error(r.error(), ErrorKind::kInvalidInput, {object_name(), "ValidationException"}, 1);
  EXPECT_EQ(proxy_->requests("PUT"), 1);
}

}  // namespace
}  // namespace dynarep::faults
