// The published SigV4 test suite (aws-c-auth's tests/aws-signing-test-suite/v4, copied into
// tests/data/sigv4): every case folder is its own test, for the header form (each
// stage, then the signed request) and the presigned query form.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "aws/sigv4.h"
#include "crypto/sha256.h"

namespace dynarep::aws {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMissingSuite = "suite_folder_missing";

// DYNAREP_SOURCE_DIR (for a build run against another checkout) wins over the path compiled in;
// either way the suite is the repository's own test data.
fs::path suite_dir() {
  if (const char* src = std::getenv("DYNAREP_SOURCE_DIR"); src != nullptr && *src != '\0') {
    return fs::path(src) / "tests" / "data" / "sigv4";
  }
  return fs::path(DYNAREP_SIGV4_SUITE_DIR);
}

// The case folders, sorted. A missing or empty suite yields one sentinel case that fails, so a
// broken checkout cannot pass by running nothing.
std::vector<std::string> list_cases() {
  std::vector<std::string> cases;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(suite_dir(), ec)) {
    if (entry.is_directory()) cases.push_back(entry.path().filename().string());
  }
  std::sort(cases.begin(), cases.end());
  if (cases.empty()) cases.emplace_back(kMissingSuite);
  return cases;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Expected single-value files: compared exactly, apart from a final newline an editor may add.
std::string read_expected(const fs::path& p) {
  std::string s = read_file(p);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// A raw HTTP/1.1 request as the suite writes it.
struct RawRequest {
  std::string method, path, query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Request line "METHOD target HTTP/1.1" (the target may contain raw spaces, as in
// get-space-*), header lines "Name:value", continuation lines starting with whitespace (obsolete
// line folding, kept as "\n" + the line so the signer's folding is what is tested), a blank
// line, then the body.
RawRequest parse_request(const std::string& text) {
  RawRequest r;
  std::vector<std::string> lines;
  std::size_t pos = 0;
  std::size_t body_start = std::string::npos;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    pos = nl == std::string::npos ? text.size() : nl + 1;
    if (line.empty() && !lines.empty()) {
      body_start = pos;
      break;
    }
    lines.push_back(line);
  }
  if (lines.empty()) throw std::runtime_error("empty request");
  const std::string& rl = lines[0];
  const std::size_t sp1 = rl.find(' ');
  const std::size_t sp2 = rl.rfind(' ');
  if (sp1 == std::string::npos || sp2 == sp1) throw std::runtime_error("bad request line: " + rl);
  r.method = rl.substr(0, sp1);
  const std::string target = rl.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l[0] == ' ' || l[0] == '\t') {
      if (r.headers.empty()) throw std::runtime_error("continuation line before any header");
      r.headers.back().second += "\n" + l;
      continue;
    }
    const std::size_t colon = l.find(':');
    if (colon == std::string::npos) throw std::runtime_error("bad header line: " + l);
    r.headers.emplace_back(l.substr(0, colon), l.substr(colon + 1));
  }
  if (body_start != std::string::npos) r.body = text.substr(body_start);
  return r;
}

// "2015-08-30T12:36:00Z"
std::chrono::system_clock::time_point parse_timestamp(std::string_view ts) {
  int y = 0;
  unsigned mo = 0, d = 0;
  int h = 0, mi = 0, s = 0;
  if (std::sscanf(std::string(ts).c_str(), "%d-%u-%uT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &s) != 6) {
    throw std::runtime_error("bad timestamp " + std::string(ts));
  }
  using namespace std::chrono;
  return sys_days(year{y} / month{mo} / day{d}) + hours{h} + minutes{mi} + seconds{s};
}

struct SuiteCase {
  fs::path dir;
  RawRequest request;
  Credentials creds;
  SigningConfig config;  // header form: sign_body -> x-amz-content-sha256
  bool sign_body = false;
  std::chrono::seconds expires{0};
};

SuiteCase load_case(const std::string& name) {
  SuiteCase c;
  c.dir = suite_dir() / name;
  c.request = parse_request(read_file(c.dir / "request.txt"));

  simdjson::dom::parser parser;
  const simdjson::padded_string json = simdjson::padded_string::load((c.dir / "context.json").string());
  simdjson::dom::element ctx = parser.parse(json);
  simdjson::dom::element cred = ctx["credentials"];
  c.creds.access_key_id = std::string(std::string_view(cred["access_key_id"]));
  c.creds.secret_access_key = std::string(std::string_view(cred["secret_access_key"]));
  if (auto token = cred["token"]; token.error() == simdjson::SUCCESS) {
    c.creds.session_token = std::string(std::string_view(token));
  }
  c.config.region = std::string(std::string_view(ctx["region"]));
  c.config.service = std::string(std::string_view(ctx["service"]));
  c.config.time = parse_timestamp(std::string_view(ctx["timestamp"]));
  c.config.normalize_path = bool(ctx["normalize"]);
  c.config.double_encode_path = true;  // the suite's services are all non-S3
  c.sign_body = bool(ctx["sign_body"]);
  c.config.add_content_sha256_header = c.sign_body;
  if (auto omit = ctx["omit_session_token"]; omit.error() == simdjson::SUCCESS) {
    c.config.omit_session_token = bool(omit);
  }
  c.expires = std::chrono::seconds(int64_t(ctx["expiration_in_seconds"]));
  return c;
}

SigningRequest to_signing_request(const RawRequest& r) {
  return SigningRequest{r.method, r.path, r.query, r.headers};
}

// Header multiset with case-insensitive names, for comparing signed requests (header order on
// the wire is not part of the signature).
std::vector<std::pair<std::string, std::string>> normalized_headers(
    std::vector<std::pair<std::string, std::string>> headers) {
  for (auto& [n, v] : headers) {
    std::transform(n.begin(), n.end(), n.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  }
  std::sort(headers.begin(), headers.end());
  return headers;
}

// The parameters of a query string, each in canonical encoding (the suite's signed requests keep
// the original parameters as written, e.g. raw UTF-8; presign_query returns them canonical).
std::vector<std::string> split_query(const std::string& q) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= q.size()) {
    std::size_t amp = q.find('&', start);
    if (amp == std::string::npos) amp = q.size();
    if (amp > start) parts.push_back(sigv4_detail::canonical_query(q.substr(start, amp - start)));
    start = amp + 1;
  }
  std::sort(parts.begin(), parts.end());
  return parts;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param;
  for (char& ch : n) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return n;
}

class SigV4SuiteTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_NE(GetParam(), kMissingSuite)
        << "SigV4 test suite not found at " << suite_dir()
        << " (expected tests/data/sigv4 in the source tree; set DYNAREP_SOURCE_DIR)";
    ASSERT_NO_THROW(case_ = load_case(GetParam())) << "loading " << (suite_dir() / GetParam());
  }
  std::string expected(const char* file) const {
    const fs::path p = case_.dir / file;
    if (!fs::exists(p)) throw std::runtime_error("expected file missing: " + p.string());
    return read_expected(p);
  }
  SuiteCase case_;
};

TEST_P(SigV4SuiteTest, HeaderStages) {
  const SigningStages st =
      compute_stages(to_signing_request(case_.request), case_.request.body, case_.creds, case_.config);
  EXPECT_EQ(st.canonical_request, expected("header-canonical-request.txt"));
  EXPECT_EQ(st.string_to_sign, expected("header-string-to-sign.txt"));
  EXPECT_EQ(st.signature, expected("header-signature.txt"));
}

TEST_P(SigV4SuiteTest, HeaderSignedRequest) {
  SigningRequest req = to_signing_request(case_.request);
  sign_request(req, case_.request.body, case_.creds, case_.config);
  const RawRequest want = parse_request(read_file(case_.dir / "header-signed-request.txt"));
  EXPECT_EQ(req.method, want.method);
  EXPECT_EQ(req.path, want.path);
  EXPECT_EQ(req.query, want.query);
  EXPECT_EQ(normalized_headers(req.headers), normalized_headers(want.headers));
}

TEST_P(SigV4SuiteTest, QueryStagesAndSignedRequest) {
  SigningConfig config = case_.config;
  // Presigning has no payload argument: the payload hash comes from the config.
  config.payload_hash = crypto::sha256_hex(case_.request.body);
  const PresignStages st =
      compute_presign_stages(to_signing_request(case_.request), case_.creds, config, case_.expires);
  EXPECT_EQ(st.canonical_request, expected("query-canonical-request.txt"));
  EXPECT_EQ(st.string_to_sign, expected("query-string-to-sign.txt"));
  EXPECT_EQ(st.signature, expected("query-signature.txt"));
  EXPECT_EQ(presign_query(to_signing_request(case_.request), case_.creds, config, case_.expires), st.query);

  // The signed request carries the same parameters (in another order) and the same headers.
  const RawRequest want = parse_request(read_file(case_.dir / "query-signed-request.txt"));
  EXPECT_EQ(split_query(st.query), split_query(want.query));
  EXPECT_EQ(normalized_headers(case_.request.headers), normalized_headers(want.headers));
}

INSTANTIATE_TEST_SUITE_P(V4, SigV4SuiteTest, ::testing::ValuesIn(list_cases()), test_name);

// The suite as published has 38 cases; fewer means a damaged copy.
TEST(SigV4SuiteFolder, HasAllCases) {
  const auto cases = list_cases();
  ASSERT_NE(cases.front(), kMissingSuite) << "SigV4 test suite not found at " << suite_dir();
  EXPECT_GE(cases.size(), 38u) << "in " << suite_dir();
}

}  // namespace
}  // namespace dynarep::aws
