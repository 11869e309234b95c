// ObjectWriter and MultipartUpload against s3rver.
#include <gtest/gtest.h>

#include "crypto/encoding.h"
#include "crypto/sha256.h"
#include "s3/client.h"
#include "s3_fixture.h"

namespace dynarep::s3 {
namespace {

using testing::random_body;
using testing::S3Test;

constexpr std::size_t kMiB = std::size_t{1} << 20;

std::string sha256_hex(std::string_view s) { return crypto::sha256_hex(s); }

TEST_F(S3Test, ObjectWriterMultipart20MiBIn5MiBParts) {
  const std::string body = random_body(20 * kMiB, 5);
  ObjectWriter w(client(), bucket(), "backups/job/0", {.part_size = 5 * kMiB, .max_parts_in_flight = 2});
  // Odd-sized writes, like gzip members arriving.
  for (std::size_t at = 0; at < body.size();) {
    std::size_t n = std::min<std::size_t>(body.size() - at, 777777);
    Status st = w.write(std::string_view(body).substr(at, n));
    ASSERT_TRUE(st.ok()) << st.error().describe();
    at += n;
  }
  EXPECT_EQ(w.bytes_written(), body.size());
  auto r = w.finish();
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->parts, 4);
  EXPECT_LE(w.peak_parts_in_flight(), 2);
  EXPECT_GE(w.peak_parts_in_flight(), 1);
  EXPECT_EQ(r->size, body.size());
  EXPECT_EQ(r->sha256_hex, sha256_hex(body));
  EXPECT_FALSE(r->etag.empty());

  auto head = client().head_object(bucket(), "backups/job/0");
  ASSERT_TRUE(head.ok()) << head.error().describe();
  EXPECT_EQ(head->size, body.size());
  EXPECT_EQ(head->etag, r->etag);
  auto get = client().get_object(bucket(), "backups/job/0");
  ASSERT_TRUE(get.ok()) << get.error().describe();
  EXPECT_TRUE(get->body == body) << "content differs";

  // Finished: further use is an error, not a second upload.
  EXPECT_FALSE(w.write("x").ok());
}

TEST_F(S3Test, ObjectWriterExactlyOnePartIsOnePut) {
  const std::string body = random_body(5 * kMiB, 6);
  ObjectWriter w(client(), bucket(), "one-part", {.part_size = 5 * kMiB});
  ASSERT_TRUE(w.write(body).ok());
  auto r = w.finish();
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->parts, 0);
  EXPECT_EQ(w.parts_started(), 0);
  EXPECT_EQ(r->size, body.size());
  auto get = client().get_object(bucket(), "one-part");
  ASSERT_TRUE(get.ok());
  EXPECT_TRUE(get->body == body);
}

TEST_F(S3Test, ObjectWriterJustOverOnePartIsTwoParts) {
  const std::string body = random_body(5 * kMiB + 1, 7);
  ObjectWriter w(client(), bucket(), "two-parts", {.part_size = 5 * kMiB});
  ASSERT_TRUE(w.write(body).ok());
  auto r = w.finish();
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->parts, 2);
  auto get = client().get_object(bucket(), "two-parts");
  ASSERT_TRUE(get.ok());
  EXPECT_TRUE(get->body == body);
}

TEST_F(S3Test, ObjectWriterSmallObjectPath) {
  ObjectWriter w(client(), bucket(), "small key with space+plus", {.put = {.content_type = "application/gzip"}});
  ASSERT_TRUE(w.write("hello ").ok());
  ASSERT_TRUE(w.write("world\n").ok());
  auto r = w.finish();
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->parts, 0);
  EXPECT_EQ(r->size, 12u);
  EXPECT_EQ(r->sha256_hex, sha256_hex("hello world\n"));
  auto head = client().head_object(bucket(), "small key with space+plus");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->content_type, "application/gzip");
  EXPECT_EQ(client().get_object(bucket(), "small key with space+plus")->body, "hello world\n");
}

TEST_F(S3Test, ObjectWriterEmptyObject) {
  ObjectWriter w(client(), bucket(), "empty");
  auto r = w.finish();
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->size, 0u);
  EXPECT_EQ(r->sha256_hex, sha256_hex(""));
  auto head = client().head_object(bucket(), "empty");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size, 0u);
}

TEST_F(S3Test, ObjectWriterDestroyedWithoutFinishLeavesNoObject) {
  {
    ObjectWriter w(client(), bucket(), "abandoned", {.part_size = 5 * kMiB, .max_parts_in_flight = 2});
    const std::string body = random_body(12 * kMiB, 8);
    ASSERT_TRUE(w.write(body).ok());
    EXPECT_EQ(w.parts_started(), 2);  // two full parts went up; the third is still buffered
  }  // destroyed: aborted (s3rver cannot abort uploads, but nothing is completed)
  auto head = client().head_object(bucket(), "abandoned");
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().kind, ErrorKind::kNotFound);

  // Explicit abort, then finish is refused.
  ObjectWriter w2(client(), bucket(), "abandoned-2", {.part_size = 5 * kMiB});
  ASSERT_TRUE(w2.write(random_body(6 * kMiB, 9)).ok());
  w2.abort().ignore_error();  // s3rver: MethodNotAllowed for AbortMultipartUpload
  auto r = w2.finish();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kCancelled);
  EXPECT_FALSE(client().head_object(bucket(), "abandoned-2").ok());

  // Abort before any part: nothing to do.
  ObjectWriter w3(client(), bucket(), "abandoned-3");
  ASSERT_TRUE(w3.write("abc").ok());
  EXPECT_TRUE(w3.abort().ok());
  EXPECT_FALSE(client().head_object(bucket(), "abandoned-3").ok());
}

TEST(S3ObjectWriter, MissingBucketFailsNamingTheObject) {
  Client c = testing::stack_client();
  const std::string b = dynarep::testing::unique_name("dr-nobucket");
  // Multipart: CreateMultipartUpload fails when the first part is handed over.
  ObjectWriter w(c, b, "k/0", {.part_size = 5 * kMiB});
  Status st = w.write(random_body(5 * kMiB + 10, 1));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(st.error().describe().rfind("s3://" + b + "/k/0: NoSuchBucket: ", 0), 0u) << st.error().describe();
  // The failure sticks.
  auto r = w.finish();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "NoSuchBucket");

  // Single put.
  ObjectWriter small(c, b, "k/1");
  ASSERT_TRUE(small.write("abc").ok());
  auto r2 = small.finish();
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(r2.error().describe().rfind("s3://" + b + "/k/1: NoSuchBucket: ", 0), 0u) << r2.error().describe();
}

TEST_F(S3Test, MultipartUploadStepByStep) {
  auto up = MultipartUpload::create(client(), bucket(), "manual");
  ASSERT_TRUE(up.ok()) << up.error().describe();
  EXPECT_FALSE(up->upload_id().empty());
  const std::string p1 = random_body(5 * kMiB, 21), p2 = "tail";
  auto e2 = up->upload_part(2, p2);  // out of order is fine
  auto e1 = up->upload_part(1, p1);
  ASSERT_TRUE(e1.ok()) << e1.error().describe();
  ASSERT_TRUE(e2.ok()) << e2.error().describe();
  auto done = up->complete({{2, *e2}, {1, *e1}});
  ASSERT_TRUE(done.ok()) << done.error().describe();
  auto get = client().get_object(bucket(), "manual");
  ASSERT_TRUE(get.ok());
  EXPECT_TRUE(get->body == p1 + p2);
}

}  // namespace
}  // namespace dynarep::s3
