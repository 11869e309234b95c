// The signer's building blocks and behaviours the published suite does not cover: S3 rules,
// re-signing, unsigned headers, the signing-key cache, presign limits.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "aws/sigv4.h"
#include "crypto/sha256.h"

namespace dynarep::aws {
namespace {

using namespace std::chrono_literals;
using sigv4_detail::amz_date;
using sigv4_detail::canonical_path;
using sigv4_detail::canonical_query;
using sigv4_detail::normalize_path;
using sigv4_detail::percent_decode;

std::chrono::system_clock::time_point at(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  using namespace std::chrono;
  return sys_days(year{y} / month{mo} / day{d}) + hours{h} + minutes{mi} + seconds{s};
}

Credentials example_creds(std::string token = "") {
  return Credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", std::move(token),
                     std::nullopt};
}

SigningConfig config_for(std::string service, std::string region = "us-east-1") {
  SigningConfig c;
  c.region = std::move(region);
  c.service = std::move(service);
  c.time = at(2015, 8, 30, 12, 36, 0);
  if (c.service == "s3") {
    c.normalize_path = false;
    c.double_encode_path = false;
    c.add_content_sha256_header = true;
  }
  return c;
}

std::string header(const SigningRequest& r, std::string_view name) {
  std::string found;
  int count = 0;
  for (const auto& [n, v] : r.headers) {
    if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      found = v;
      ++count;
    }
  }
  EXPECT_LE(count, 1) << "header " << name << " appears " << count << " times";
  return found;
}

// ------------------------------------------------------------------------- encoding and dates

TEST(SigV4UriEncode, KeepsOnlyUnreservedAndUsesUpperCaseHex) {
  EXPECT_EQ(uri_encode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(uri_encode("a b+c/d=e&f%g*h!'()"), "a%20b%2Bc%2Fd%3De%26f%25g%2Ah%21%27%28%29");
  EXPECT_EQ(uri_encode("a/b c", /*encode_slash=*/false), "a/b%20c");
  EXPECT_EQ(uri_encode("\xe1\x88\xb4"), "%E1%88%B4");
  EXPECT_EQ(uri_encode(std::string("\0\xff", 2)), "%00%FF");
  EXPECT_EQ(uri_encode(""), "");
}

TEST(SigV4PercentDecode, DecodesValidEscapesOnly) {
  EXPECT_EQ(percent_decode("%41%62%e1%88%B4"), "Ab\xe1\x88\xb4");
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
  EXPECT_EQ(percent_decode("a+b"), "a+b");  // '+' is not a space in SigV4
}

TEST(SigV4AmzDate, FormatsUtcBasicIso8601AndDropsSubSeconds) {
  EXPECT_EQ(amz_date(at(2015, 8, 30, 12, 36, 0)), "20150830T123600Z");
  EXPECT_EQ(amz_date(at(2024, 2, 29, 23, 59, 59) + 999ms), "20240229T235959Z");
  EXPECT_EQ(amz_date(std::chrono::system_clock::time_point{}), "19700101T000000Z");
}

// ------------------------------------------------------------------------- paths

TEST(SigV4Path, NormalisationRemovesDotAndEmptySegments) {
  EXPECT_EQ(normalize_path(""), "/");
  EXPECT_EQ(normalize_path("/"), "/");
  EXPECT_EQ(normalize_path("//"), "/");
  EXPECT_EQ(normalize_path("/./"), "/");
  EXPECT_EQ(normalize_path("/example/.."), "/");
  EXPECT_EQ(normalize_path("/a/b/../../.."), "/");
  EXPECT_EQ(normalize_path("//example//"), "/example/");
  EXPECT_EQ(normalize_path("/a/./b/../c/"), "/a/c/");
  EXPECT_EQ(normalize_path("/a/b/."), "/a/b");  // as botocore and the JS SDK do
  EXPECT_EQ(normalize_path("/a/..b/.c"), "/a/..b/.c");
}

TEST(SigV4Path, NonS3DoubleEncodesAndS3KeepsTheWirePath) {
  const SigningConfig dynamo = config_for("dynamodb");
  EXPECT_EQ(canonical_path("/", dynamo), "/");
  EXPECT_EQ(canonical_path("/my%20key/a b", dynamo), "/my%2520key/a%20b");
  const SigningConfig s3 = config_for("s3");
  EXPECT_EQ(canonical_path("/bucket/my%20key/../x", s3), "/bucket/my%20key/../x");
  EXPECT_EQ(canonical_path("", s3), "/");
  EXPECT_EQ(canonical_path("/bucket/" + uri_encode("a b/ü+c", false), s3), "/bucket/a%20b/%C3%BC%2Bc");
}

// ------------------------------------------------------------------------- query

TEST(SigV4Query, SortsByEncodedNameThenValueAndReencodes) {
  EXPECT_EQ(canonical_query(""), "");
  EXPECT_EQ(canonical_query("b=2&a=1"), "a=1&b=2");
  EXPECT_EQ(canonical_query("a=2&a=10&a=1"), "a=1&a=10&a=2");            // duplicates by value, byte order
  EXPECT_EQ(canonical_query("Param-3=x&Param=y"), "Param=y&Param-3=x");  // name first, not "name="
  EXPECT_EQ(canonical_query("flag&x="), "flag=&x=");
  EXPECT_EQ(canonical_query("a=1&&b=2&"), "a=1&b=2");
  EXPECT_EQ(canonical_query("k=a=b"), "k=a%3Db");
  EXPECT_EQ(canonical_query("k=%7e%41%2f%2F"), "k=~A%2F%2F");  // over-encoded and lower-case hex
  EXPECT_EQ(canonical_query("k=a b+c"), "k=a%20b%2Bc");
  EXPECT_EQ(canonical_query("k=100%"), "k=100%25");
  EXPECT_EQ(canonical_query("\xe1\x88\xb4=bar"), "%E1%88%B4=bar");
  EXPECT_EQ(canonical_query("B=1&a=1&_=1&~=1"), "B=1&_=1&a=1&~=1");
}

// ------------------------------------------------------------------------- headers

TEST(SigV4Headers, TrimFoldJoinAndSkipUnsignable) {
  SigningRequest req{"POST",
                     "/",
                     "",
                     {
                         {"Host", "dynamodb.us-east-1.amazonaws.com"},
                         {"X-Amz-Target", "DynamoDB_20120810.GetItem"},
                         {"My-Header", "  a \t b\r\n   c  "},
                         {"my-header", "second"},
                         {"Empty", "   "},
                         {"User-Agent", "dynarep/0.1"},
                         {"Connection", "keep-alive"},
                         {"Expect", "100-continue"},
                         {"Transfer-Encoding", "chunked"},
                         {"X-Amzn-Trace-Id", "Root=1"},
                         {"Proxy-Authorization", "x"},
                         {"Sec-Fetch-Mode", "cors"},
                         {"Authorization", "stale"},
                         {"X-Amz-Date", "19990101T000000Z"},
                     }};
  const SigningStages st = compute_stages(req, "{}", example_creds(), config_for("dynamodb"));
  EXPECT_EQ(st.signed_headers, "empty;host;my-header;x-amz-date;x-amz-target");
  EXPECT_NE(st.canonical_request.find("\nempty:\nhost:dynamodb.us-east-1.amazonaws.com\n"
                                      "my-header:a b c,second\nx-amz-date:20150830T123600Z\n"
                                      "x-amz-target:DynamoDB_20120810.GetItem\n\n"),
            std::string::npos)
      << st.canonical_request;
  EXPECT_EQ(st.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request, "
            "SignedHeaders=empty;host;my-header;x-amz-date;x-amz-target, Signature=" +
                st.signature);
  EXPECT_TRUE(st.canonical_request.ends_with("\n" + crypto::sha256_hex("{}")));
}

// AWS's worked example (IAM User Guide, "Create a signed AWS API request"; also in the
// general reference's SigV4 examples): GET ListUsers on 2015-08-30.
TEST(SigV4Example, IamListUsers) {
  SigningRequest req{"GET",
                     "/",
                     "Action=ListUsers&Version=2010-05-08",
                     {
                         {"Host", "iam.amazonaws.com"},
                         {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                     }};
  const SigningStages st = compute_stages(req, "", example_creds(), config_for("iam"));
  EXPECT_EQ(st.canonical_request,
            "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
            "content-type:application/x-www-form-urlencoded; charset=utf-8\nhost:iam.amazonaws.com\n"
            "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(st.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n"
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
  EXPECT_EQ(st.signature, "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

// ------------------------------------------------------------------------- sign_request

TEST(SigV4Sign, AddsHeadersAndReplacesThemWhenSignedAgain) {
  SigningRequest req{
      "POST",
      "/",
      "",
      {{"Host", "dynamodb.us-east-1.amazonaws.com"}, {"Content-Type", "application/x-amz-json-1.0"}}};
  const std::string body = R"({"TableName":"orders"})";
  SigningConfig cfg = config_for("dynamodb");
  const Credentials creds = example_creds("TOKEN/1+");
  const SigningStages expected_first = compute_stages(req, body, creds, cfg);
  sign_request(req, body, creds, cfg);
  EXPECT_EQ(header(req, "X-Amz-Date"), "20150830T123600Z");
  EXPECT_EQ(header(req, "X-Amz-Security-Token"), "TOKEN/1+");
  EXPECT_EQ(header(req, "Authorization"), expected_first.authorization);
  EXPECT_EQ(header(req, "x-amz-content-sha256"), "");  // not configured for DynamoDB
  EXPECT_NE(expected_first.signed_headers.find("x-amz-security-token"), std::string::npos);

  // A retry signs the already-signed request again with a later time: one copy of each header,
  // and the same result as signing the original request at that time.
  cfg.time += 90s;
  SigningRequest fresh{
      "POST",
      "/",
      "",
      {{"Host", "dynamodb.us-east-1.amazonaws.com"}, {"Content-Type", "application/x-amz-json-1.0"}}};
  const SigningStages expected_retry = compute_stages(fresh, body, creds, cfg);
  EXPECT_EQ(compute_stages(req, body, creds, cfg).canonical_request, expected_retry.canonical_request);
  sign_request(req, body, creds, cfg);
  EXPECT_EQ(req.headers.size(), 5u);
  EXPECT_EQ(header(req, "X-Amz-Date"), "20150830T123730Z");
  EXPECT_EQ(header(req, "Authorization"), expected_retry.authorization);

  // New credentials without a token: the stale token header goes.
  sign_request(req, body, example_creds(), cfg);
  EXPECT_EQ(header(req, "X-Amz-Security-Token"), "");
  EXPECT_EQ(req.headers.size(), 4u);
}

TEST(SigV4Sign, OmitSessionTokenSendsButDoesNotSignIt) {
  SigningRequest req{"GET", "/", "", {{"Host", "example.amazonaws.com"}}};
  SigningConfig cfg = config_for("service");
  cfg.omit_session_token = true;
  sign_request(req, "", example_creds("tok"), cfg);
  EXPECT_EQ(header(req, "X-Amz-Security-Token"), "tok");
  EXPECT_NE(header(req, "Authorization").find("SignedHeaders=host;x-amz-date,"), std::string::npos);
}

TEST(SigV4Sign, S3UnsignedPayloadAndContentShaHeader) {
  const std::string key_path = "/bucket/" + uri_encode("backups/2024 01/part+1.json.gz", false);
  SigningRequest req{"PUT", key_path, "partNumber=1&uploadId=abc", {{"Host", "s3.us-east-1.amazonaws.com"}}};
  SigningConfig cfg = config_for("s3");
  cfg.payload_hash = "UNSIGNED-PAYLOAD";
  const SigningStages st = compute_stages(req, "ignored body", example_creds(), cfg);
  EXPECT_TRUE(
      st.canonical_request.starts_with("PUT\n/bucket/backups/2024%2001/part%2B1.json.gz\n"
                                       "partNumber=1&uploadId=abc\n"))
      << st.canonical_request;
  EXPECT_NE(st.canonical_request.find("\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n"), std::string::npos);
  EXPECT_TRUE(st.canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
  EXPECT_EQ(st.signed_headers, "host;x-amz-content-sha256;x-amz-date");

  sign_request(req, "ignored body", example_creds(), cfg);
  EXPECT_EQ(header(req, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");

  // Without a configured hash the body is hashed.
  cfg.payload_hash.reset();
  const SigningStages hashed = compute_stages(req, "body", example_creds(), cfg);
  EXPECT_TRUE(hashed.canonical_request.ends_with("\n" + crypto::sha256_hex("body")));
}

// ------------------------------------------------------------------------- signing-key cache

TEST(SigV4KeyCache, DifferentSecretsDatesRegionsAndServicesNeverShareAKey) {
  // Sign with many combinations, more than the per-thread cache holds, twice over; each result
  // must equal the one computed first (when the cache was cold for it).
  const SigningRequest req{"POST", "/", "", {{"Host", "h"}}};
  std::vector<std::string> first;
  for (int round = 0; round < 2; ++round) {
    std::size_t i = 0;
    for (const char* secret : {"secret-a", "secret-b", "secret-b2"}) {
      for (int day = 0; day < 3; ++day) {
        for (const char* region : {"us-east-1", "eu-west-1"}) {
          for (const char* service : {"dynamodb", "kinesis"}) {
            SigningConfig cfg = config_for(service, region);
            cfg.time += std::chrono::hours(24 * day);
            const std::string sig =
                compute_stages(req, "", Credentials{"AK", secret, "", std::nullopt}, cfg).signature;
            if (round == 0) {
              first.push_back(sig);
            } else {
              EXPECT_EQ(sig, first[i]) << secret << " " << day << " " << region << " " << service;
            }
            ++i;
          }
        }
      }
    }
  }
  std::vector<std::string> unique = first;
  std::sort(unique.begin(), unique.end());
  EXPECT_EQ(std::unique(unique.begin(), unique.end()), unique.end());
}

TEST(SigV4KeyCache, ThreadsSignConsistently) {
  const SigningRequest req{"POST", "/", "", {{"Host", "dynamodb.us-east-1.amazonaws.com"}}};
  const SigningConfig cfg = config_for("dynamodb");
  const std::string want = compute_stages(req, "{}", example_creds(), cfg).authorization;
  std::vector<int> bad(4, 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        if (compute_stages(req, "{}", example_creds(), cfg).authorization != want) ++bad[t];
        // Interleave another key so each thread's cache changes under it.
        (void)compute_stages(req, "{}", Credentials{"AK", "other", "", std::nullopt}, cfg);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int b : bad) EXPECT_EQ(b, 0);
}

// ------------------------------------------------------------------------- presign

TEST(SigV4Presign, S3GetUrlWithToken) {
  SigningRequest req{
      "GET", "/bucket/" + uri_encode("a b.txt", false), "versionId=3", {{"Host", "s3.amazonaws.com"}}};
  SigningConfig cfg = config_for("s3");
  cfg.payload_hash = "UNSIGNED-PAYLOAD";
  const PresignStages st = compute_presign_stages(req, example_creds("to/ken"), cfg, 900s);
  EXPECT_EQ(st.signed_headers, "host");
  EXPECT_EQ(
      st.canonical_request,
      "GET\n/bucket/a%20b.txt\n"
      "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fs3%2Faws4_"
      "request"
      "&X-Amz-Date=20150830T123600Z&X-Amz-Expires=900&X-Amz-Security-Token=to%2Fken&X-Amz-SignedHeaders=host"
      "&versionId=3\nhost:s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD");
  EXPECT_EQ(st.query, st.canonical_request.substr(st.canonical_request.find("X-Amz-Algorithm"),
                                                  st.canonical_request.find("\nhost:") -
                                                      st.canonical_request.find("X-Amz-Algorithm")) +
                          "&X-Amz-Signature=" + st.signature);
  EXPECT_EQ(presign_query(req, example_creds("to/ken"), cfg, 900s), st.query);
}

TEST(SigV4Presign, ReplacesEarlierPresignParameters) {
  SigningRequest req{"GET", "/", "", {{"Host", "h"}}};
  const SigningConfig cfg = config_for("service");
  const std::string q1 = presign_query(req, example_creds(), cfg, 60s);
  req.query = q1;
  const std::string q2 = presign_query(req, example_creds(), cfg, 60s);
  EXPECT_EQ(q1, q2);
}

TEST(SigV4Presign, ExpiryLimits) {
  const SigningRequest req{"GET", "/", "", {{"Host", "h"}}};
  const SigningConfig cfg = config_for("service");
  EXPECT_THROW((void)presign_query(req, example_creds(), cfg, 0s), std::invalid_argument);
  EXPECT_THROW((void)presign_query(req, example_creds(), cfg, 604801s), std::invalid_argument);
  EXPECT_NO_THROW((void)presign_query(req, example_creds(), cfg, 604800s));
  EXPECT_NO_THROW((void)presign_query(req, example_creds(), cfg, 1s));
}

}  // namespace
}  // namespace dynarep::aws
