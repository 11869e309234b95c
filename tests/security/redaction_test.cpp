// src/http's redaction helpers, directly: which headers are secret, what a redacted header
// list and URL look like, and that errors about a failed request name only the host.
#include <gtest/gtest.h>

#include "http/client.h"
#include "secrets.h"

namespace dynarep::security {
namespace {

TEST(Redaction, SecretHeadersAnyCase) {
  for (const char* name : {"Authorization", "authorization", "AUTHORIZATION", "X-Amz-Security-Token",
                           "x-amz-security-token", "X-aws-ec2-metadata-token", "Proxy-Authorization"}) {
    EXPECT_TRUE(http::is_secret_header(name)) << name;
  }
  for (const char* name : {"X-Amz-Date", "Content-Type", "X-Amz-Target", "Host", "x-amz-content-sha256"}) {
    EXPECT_FALSE(http::is_secret_header(name)) << name;
  }
}

TEST(Redaction, RedactHeadersKeepsNamesAndOrderHidesValues) {
  const std::string auth = "AWS4-HMAC-SHA256 Credential=" + kAccessKey +
                           "/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;"
                           "x-amz-security-token, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  const http::Headers in = {{"Host", "dynamodb.us-east-1.amazonaws.com"},
                            {"authorization", auth},
                            {"X-Amz-Security-Token", kSessionToken},
                            {"X-Amz-Date", "20260101T000000Z"},
                            {"X-aws-ec2-metadata-token", "imds-token-value"}};
  const http::Headers out = http::redact_headers(in);
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].first, in[i].first);
    if (http::is_secret_header(in[i].first)) {
      EXPECT_EQ(out[i].second, "<redacted>") << in[i].first;
    } else {
      EXPECT_EQ(out[i].second, in[i].second) << in[i].first;
    }
  }
  std::string joined;
  for (const auto& [n, v] : out) joined += n + ": " + v + "\n";
  expect_no_secrets(joined, {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}, "redacted headers");
  EXPECT_EQ(joined.find("imds-token-value"), std::string::npos);
}

TEST(Redaction, RedactUrlHidesPresignedSecrets) {
  const std::string url =
      "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + kAccessKey +
      "%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=60&"
      "x-amz-security-token=" + kSessionToken + "&X-Amz-SignedHeaders=host&X-Amz-Signature=feedface00&partNumber=2";
  const std::string r = http::redact_url(url);
  EXPECT_EQ(r,
            "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=<redacted>&"
            "X-Amz-Date=20260101T000000Z&X-Amz-Expires=60&x-amz-security-token=<redacted>&"
            "X-Amz-SignedHeaders=host&X-Amz-Signature=<redacted>&partNumber=2");
  expect_no_secrets(r, {"feedface00"}, "redacted URL");
  EXPECT_EQ(r.find(kAccessKey), std::string::npos);
  EXPECT_EQ(http::redact_url("http://127.0.0.1:8000/"), "http://127.0.0.1:8000/");
  EXPECT_EQ(http::redact_url("http://h/?X-Amz-Signature"), "http://h/?X-Amz-Signature");
}

// user:password in a URL, percent-encoded as RFC 3986 wants ('/' and '+' of AWS secrets too).
std::string encoded_secret() {
  std::string out;
  for (char c : kSecretKey) {
    if (c == '/') {
      out += "%2F";
    } else if (c == '+') {
      out += "%2B";
    } else {
      out += c;
    }
  }
  return out;
}

TEST(Redaction, UrlHostDropsUserInfo) {
  EXPECT_EQ(http::url_host("http://user:" + encoded_secret() + "@127.0.0.1:8000/x?y"), "127.0.0.1:8000");
  EXPECT_EQ(http::url_host("https://dynamodb.us-east-1.amazonaws.com/"), "dynamodb.us-east-1.amazonaws.com");
}

// A request that fails before any answer: the Error names the host, never the query string
// or credentials in the URL, nor the headers sent.
TEST(Redaction, TransportErrorsNameOnlyTheHost) {
  http::Client client;
  http::Request req;
  req.method = "GET";
  req.url = "http://user:" + encoded_secret() + "@127.0.0.1:1/k?X-Amz-Signature=feedface00&x-amz-security-token=" +
            kSessionToken;
  req.headers = {{"Authorization", "AWS4-HMAC-SHA256 Signature=feedface00"}, {"X-Amz-Security-Token", kSessionToken}};
  req.connect_timeout = std::chrono::milliseconds(2000);
  req.timeout = std::chrono::milliseconds(3000);
  auto r = client.send(req);
  ASSERT_FALSE(r.ok());
  const std::string d = r.error().describe();
  expect_no_secrets(d, {"feedface00", encoded_secret()}, "a transport error");
  EXPECT_NE(d.find("127.0.0.1:1"), std::string::npos) << d;
}

}  // namespace
}  // namespace dynarep::security
