// Unit tests of the S3 client's request building and header parsing (no server).
#include <gtest/gtest.h>

#include <memory>

#include "aws/credentials.h"
#include "s3/client.h"
#include "s3/detail.h"

namespace dynarep::s3 {
namespace {

Client client_for(std::string url, std::string region, ClientOptions options = {}) {
  auto creds = std::make_shared<aws::StaticCredentialsProvider>(aws::Credentials{"AKID", "SECRET", "", {}});
  auto aws = std::make_shared<aws::AwsClient>(aws::Endpoint{std::move(url), std::move(region), "s3"}, creds);
  return Client(std::move(aws), options);
}

TEST(S3Url, PathStyleForCustomEndpoints) {
  Client c = client_for("http://127.0.0.1:4569", "us-east-1");
  EXPECT_FALSE(c.uses_virtual_host("bucket"));
  EXPECT_EQ(c.object_url("bucket", ""), "http://127.0.0.1:4569/bucket");
  EXPECT_EQ(c.object_url("bucket", "a/b c/d+e=f.gz"), "http://127.0.0.1:4569/bucket/a/b%20c/d%2Be%3Df.gz");
  EXPECT_EQ(c.object_url("bucket", "caf\xC3\xA9/\xE2\x82\xAC"), "http://127.0.0.1:4569/bucket/caf%C3%A9/%E2%82%AC");
  EXPECT_EQ(c.object_url("bucket", "k", "uploads"), "http://127.0.0.1:4569/bucket/k?uploads");
  // Unreserved characters stay; everything else is encoded once (no '%2520').
  EXPECT_EQ(c.object_url("b", "-_.~%20"), "http://127.0.0.1:4569/b/-_.~%2520");
  EXPECT_EQ(c.object_url("b", "/lead//double/"), "http://127.0.0.1:4569/b//lead//double/");
}

TEST(S3Url, VirtualHostedForAws) {
  Client c = client_for("https://s3.eu-west-1.amazonaws.com", "eu-west-1");
  EXPECT_TRUE(c.uses_virtual_host("my-bucket"));
  EXPECT_EQ(c.object_url("my-bucket", "k/1 2"), "https://my-bucket.s3.eu-west-1.amazonaws.com/k/1%202");
  EXPECT_EQ(c.object_url("my-bucket", "", "list-type=2"), "https://my-bucket.s3.eu-west-1.amazonaws.com/?list-type=2");
  // Dots break the *.s3 TLS certificate; upper case and underscores are not DNS labels.
  EXPECT_FALSE(c.uses_virtual_host("my.bucket"));
  EXPECT_EQ(c.object_url("my.bucket", "k"), "https://s3.eu-west-1.amazonaws.com/my.bucket/k");
  EXPECT_FALSE(c.uses_virtual_host("My_Bucket"));

  Client cn = client_for("https://s3.cn-north-1.amazonaws.com.cn", "cn-north-1");
  EXPECT_EQ(cn.object_url("b-1", "k"), "https://b-1.s3.cn-north-1.amazonaws.com.cn/k");

  Client forced_path = client_for("https://s3.eu-west-1.amazonaws.com", "eu-west-1", {.addressing = AddressingStyle::kPath});
  EXPECT_EQ(forced_path.object_url("b-1", "k"), "https://s3.eu-west-1.amazonaws.com/b-1/k");
  Client forced_vhost = client_for("http://minio.local:9000", "us-east-1", {.addressing = AddressingStyle::kVirtualHosted});
  EXPECT_EQ(forced_vhost.object_url("b-1", "k"), "http://b-1.minio.local:9000/k");
}

TEST(S3Detail, Display) {
  EXPECT_EQ(Client::display("b"), "s3://b");
  EXPECT_EQ(Client::display("b", "p/k"), "s3://b/p/k");
}

TEST(S3Detail, DnsCompatibleBucket) {
  EXPECT_TRUE(detail::is_dns_compatible_bucket("abc"));
  EXPECT_TRUE(detail::is_dns_compatible_bucket("a-b-1"));
  EXPECT_FALSE(detail::is_dns_compatible_bucket("ab"));
  EXPECT_FALSE(detail::is_dns_compatible_bucket("-ab"));
  EXPECT_FALSE(detail::is_dns_compatible_bucket("ab-"));
  EXPECT_FALSE(detail::is_dns_compatible_bucket("a.b.c"));
  EXPECT_FALSE(detail::is_dns_compatible_bucket("ABC"));
  EXPECT_FALSE(detail::is_dns_compatible_bucket(std::string(64, 'a')));
}

TEST(S3Detail, QuotesAndNumbers) {
  EXPECT_EQ(detail::strip_quotes("\"abc\""), "abc");
  EXPECT_EQ(detail::strip_quotes("abc"), "abc");
  EXPECT_EQ(detail::strip_quotes("\""), "\"");
  EXPECT_EQ(detail::parse_u64("0"), 0u);
  EXPECT_EQ(detail::parse_u64("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(detail::parse_u64("18446744073709551616"), std::nullopt);
  EXPECT_EQ(detail::parse_u64(""), std::nullopt);
  EXPECT_EQ(detail::parse_u64("-1"), std::nullopt);
  EXPECT_EQ(detail::parse_u64("12x"), std::nullopt);
  EXPECT_EQ(detail::parse_u64(" 1"), std::nullopt);
}

TEST(S3Detail, UrlDecodePlus) {
  EXPECT_EQ(detail::url_decode_plus("a+b%2Bc%20d%2F%C3%A9"), "a b+c d/\xC3\xA9");
  EXPECT_EQ(detail::url_decode_plus("plain"), "plain");
}

TEST(S3Detail, ContentRange) {
  auto r = detail::parse_content_range("bytes 0-99/1234");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 0u);
  EXPECT_EQ(r->last, 99u);
  EXPECT_EQ(r->total, 1234u);
  EXPECT_FALSE(detail::parse_content_range("bytes 5-4/10"));
  EXPECT_FALSE(detail::parse_content_range("bytes 0-10/10"));
  EXPECT_FALSE(detail::parse_content_range("bytes 0-1/*"));
  EXPECT_FALSE(detail::parse_content_range("items 0-1/5"));
  EXPECT_FALSE(detail::parse_content_range("bytes 0/5"));
}

TEST(S3Detail, InfoFromHeaders) {
  http::Response resp;
  resp.status = 206;
  resp.headers = {{"etag", "\"abc\""},
                  {"content-length", "10"},
                  {"content-range", "bytes 10-19/1000"},
                  {"last-modified", "Sun, 06 Nov 1994 08:49:37 GMT"},
                  {"content-type", "application/gzip"},
                  {"x-amz-version-id", "v1"},
                  {"x-amz-meta-table", "orders"},
                  {"x-amz-meta-", "ignored"}};
  ObjectInfo info = detail::info_from_headers(resp);
  EXPECT_EQ(info.size, 1000u);
  EXPECT_EQ(info.etag, "abc");
  EXPECT_EQ(info.content_type, "application/gzip");
  EXPECT_EQ(info.version_id, "v1");
  ASSERT_TRUE(info.last_modified_time);
  ASSERT_EQ(info.metadata.size(), 1u);
  EXPECT_EQ(info.metadata[0].first, "table");
  EXPECT_EQ(info.metadata[0].second, "orders");
  resp.status = 200;
  EXPECT_EQ(detail::info_from_headers(resp).size, 10u);
}

}  // namespace
}  // namespace dynarep::s3
