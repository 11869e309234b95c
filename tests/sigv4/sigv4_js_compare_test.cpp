// dynarep's signer against the AWS SDK for JavaScript's (@smithy/signature-v4, run by
// tools/sigv4-js/sign.js): a few hundred generated requests, deterministic from a fixed seed,
// must get the identical Authorization header.
//
// The generator only produces requests both signers define the same way. Known, deliberate
// differences are left out and covered by the suite and unit tests instead:
// - repeated header names (the SDK keeps a map, so it cannot send them; we join with ',');
// - a Date header (the SDK deletes it; we sign what we are given);
// - normalisation without double encoding (the SDK ties both to uriEscapePath).
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "aws/sigv4.h"
#include "crypto/encoding.h"
#include "support/process.h"
#include "support/stack.h"

namespace dynarep::aws {
namespace {

constexpr int kRequests = 400;
constexpr uint64_t kSeed = 0x5167'4a53'2024'0001ULL;

// splitmix64: a tiny generator whose sequence is the same on every platform and library
// (std::uniform_int_distribution is not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  bool chance(int percent) { return below(100) < static_cast<std::size_t>(percent); }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }

 private:
  uint64_t s_;
};

// Whole UTF-8 code points: unreserved, reserved and unsafe ASCII, and 2-, 3- and 4-byte
// characters. Letters are repeated so they dominate.
const std::vector<std::string>& char_pool() {
  static const std::vector<std::string> pool = [] {
    std::vector<std::string> p;
    for (char c = 'a'; c <= 'z'; ++c) p.emplace_back(1, c);
    for (char c = 'A'; c <= 'Z'; c = static_cast<char>(c + 3)) p.emplace_back(1, c);
    for (char c = '0'; c <= '9'; c = static_cast<char>(c + 2)) p.emplace_back(1, c);
    for (const char* s : {"-",
                          "_",
                          ".",
                          "~",
                          " ",
                          " ",
                          "+",
                          "%",
                          "&",
                          "=",
                          "/",
                          "?",
                          "#",
                          "!",
                          "*",
                          "'",
                          "(",
                          ")",
                          "$",
                          ",",
                          ";",
                          ":",
                          "@",
                          "[",
                          "]",
                          "\"",
                          "<",
                          ">",
                          "^",
                          "`",
                          "{",
                          "|",
                          "}",
                          "\\",
                          "\xc3\xbc",
                          "\xe2\x82\xac",
                          "\xe1\x88\xb4",
                          "\xf0\x9f\x98\x80"}) {
      p.emplace_back(s);
    }
    return p;
  }();
  return pool;
}

std::string random_text(Rng& rng, std::size_t min_len, std::size_t max_len) {
  const std::size_t n = min_len + rng.below(max_len - min_len + 1);
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += rng.pick(char_pool());
  return s;
}

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~';
}

// Wire encodings of a decoded string, as different HTTP stacks produce them; the signer must
// canonicalise all of them to the same thing. `must_encode` lists bytes that have a meaning at
// this position and so always need escaping.
std::string wire_encode(Rng& rng, std::string_view decoded, std::string_view must_encode) {
  const std::size_t style = rng.below(10);
  if (style < 5) return uri_encode(decoded);  // canonical
  static constexpr char kLower[] = "0123456789abcdef";
  static constexpr char kUpper[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : decoded) {
    const auto c = static_cast<unsigned char>(ch);
    bool encode = false;
    const char* digits = kUpper;
    if (style < 7) {  // lower-case hex escapes
      encode = !is_unreserved(c);
      digits = kLower;
    } else if (style < 8) {  // everything escaped, unreserved too
      encode = true;
    } else {  // minimal: raw wherever it is unambiguous (raw UTF-8, spaces, sub-delims)
      encode = c == '%' || must_encode.find(ch) != std::string_view::npos;
    }
    if (encode) {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string random_case(Rng& rng, std::string_view name) {
  std::string out(name);
  const std::size_t style = rng.below(4);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    if (style == 1) out[i] = static_cast<char>(std::tolower(c));
    if (style == 2) out[i] = static_cast<char>(std::toupper(c));
    if (style == 3 && rng.chance(50)) out[i] = static_cast<char>(std::toupper(c));
  }
  return out;
}

std::string random_header_value(Rng& rng) {
  static const std::vector<std::string> words = {"a",
                                                 "value",
                                                 "\"quoted   text\"",
                                                 "x=1;y=2",
                                                 "b64+/==",
                                                 "\xc3\xbc\xe2\x82\xac",
                                                 "application/x-amz-json-1.0",
                                                 "0"};
  static const std::vector<std::string> gaps = {" ", "  ", "\t", " \t ", "\r\n  ", "   "};
  std::string v;
  if (rng.chance(25)) v += rng.pick(gaps);
  const std::size_t words_n = rng.below(4);
  for (std::size_t i = 0; i < words_n; ++i) {
    if (i > 0) v += rng.chance(50) ? std::string(" ") : rng.pick(gaps);
    v += rng.pick(words);
  }
  if (rng.chance(25)) v += rng.pick(gaps);
  return v;
}

struct GeneratedCase {
  SigningRequest request;
  std::string payload;
  Credentials creds;
  SigningConfig config;
  std::string js_input;  // one JSON line for sign.js
};

GeneratedCase generate(Rng& rng) {
  GeneratedCase g;
  static const std::vector<std::string> methods = {"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"};
  static const std::vector<std::string> regions = {"us-east-1", "eu-west-1", "ap-southeast-2",
                                                   "us-gov-west-1", "cn-north-1"};
  static const std::vector<std::string> services = {"dynamodb", "kinesis", "sts", "execute-api"};
  static const std::vector<Credentials> creds = {
      {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", std::nullopt},
      {"AKIAIOSFODNN7EXAMPLE", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", "", std::nullopt},
      {"ASIAZZZZ", "+/+/secret with spaces/", "", std::nullopt},
  };

  const bool s3 = rng.chance(35);
  g.request.method = rng.pick(methods);
  g.creds = rng.pick(creds);
  if (rng.chance(40))
    g.creds.session_token = "FwoGZXIvYXdzE" + crypto::base64_encode(random_text(rng, 10, 40));
  g.config.region = rng.pick(regions);
  g.config.service = s3 ? "s3" : rng.pick(services);
  g.config.time = std::chrono::system_clock::time_point(
      std::chrono::seconds(1420070400 + static_cast<int64_t>(rng.below(20ull * 365 * 86400))));
  g.config.normalize_path = !s3;
  g.config.double_encode_path = !s3;

  // Path as sent on the wire.
  std::string path;
  if (s3) {
    std::string key = random_text(rng, 1, 20);
    if (rng.chance(20)) key = "dir/./sub//../" + key;  // S3 keys keep dot and empty segments
    path = "/bucket-" + std::to_string(rng.below(3)) + "/" +
           (rng.chance(80) ? uri_encode(key, /*encode_slash=*/false) : key);
  } else {
    const std::size_t segments = rng.below(6);
    for (std::size_t i = 0; i < segments; ++i) {
      const std::size_t kind = rng.below(20);
      path += '/';
      if (kind < 3) {
        path += '.';
      } else if (kind < 5) {
        path += "..";
      } else if (kind < 7) {
        // empty segment: "//"
      } else {
        path += wire_encode(rng, random_text(rng, 1, 8), "/?#");
      }
    }
    if (path.empty() || rng.chance(30)) path += '/';
  }
  g.request.path = path;

  // Query: decoded parameters (with repeated names), and their wire form.
  std::vector<std::pair<std::string, std::string>> params;
  const std::size_t nparams = rng.below(6);
  for (std::size_t i = 0; i < nparams; ++i) {
    std::string name =
        (!params.empty() && rng.chance(30)) ? params[rng.below(params.size())].first : random_text(rng, 1, 8);
    params.emplace_back(std::move(name), rng.chance(20) ? std::string() : random_text(rng, 1, 10));
  }
  std::string query;
  for (const auto& [name, value] : params) {
    if (!query.empty()) query += '&';
    query += wire_encode(rng, name, "&=#");
    if (!value.empty() || rng.chance(50)) {
      query += '=';
      query += wire_encode(rng, value, "&#");
    }
  }
  g.request.query = query;

  // Payload.
  bool stream_body = false;
  bool apply_checksum = false;
  bool checksum_header_in_input = false;
  if (!rng.chance(30)) {
    if (rng.chance(50)) {
      g.payload = R"({"TableName":"t-)" + std::to_string(rng.below(1000)) + R"(","Key":{"pk":{"S":")" +
                  crypto::hex_lower(random_text(rng, 20, 60)) + R"("}}})";
    } else {
      const std::size_t n = 1 + rng.below(400);
      for (std::size_t i = 0; i < n; ++i) g.payload.push_back(static_cast<char>(rng.below(256)));
    }
  }
  if (s3) {
    const std::size_t mode = rng.below(10);
    if (mode < 4) {  // UNSIGNED-PAYLOAD announced in x-amz-content-sha256
      g.config.payload_hash = "UNSIGNED-PAYLOAD";
      g.config.add_content_sha256_header = true;
      apply_checksum = true;
      checksum_header_in_input = true;
    } else if (mode < 8) {  // hashed body, announced in x-amz-content-sha256
      g.config.add_content_sha256_header = true;
      apply_checksum = true;
    } else {  // a stream: unsigned, no header
      g.config.payload_hash = "UNSIGNED-PAYLOAD";
      stream_body = true;
    }
  } else if (rng.chance(20)) {
    g.config.add_content_sha256_header = true;
    apply_checksum = true;
  }

  // Headers: distinct names (case-insensitively), odd case and spacing.
  static const std::vector<std::string> names = {
      "Content-Type", "Content-Length", "X-Amz-Target", "x-amz-meta-Owner", "X-Custom", "Accept",
      "If-None-Match", "Range", "x-amz-acl", "Content-Encoding", "X-Amz-User-Agent", "Accept-Encoding",
      // never signed by either signer:
      "User-Agent", "Connection", "Expect", "X-Amzn-Trace-Id", "Proxy-Connection", "Sec-Fetch-Site",
      "Transfer-Encoding", "Authorization", "X-Amz-Date"};
  std::vector<std::pair<std::string, std::string>> headers;
  headers.emplace_back(random_case(rng, "Host"),
                       s3 ? "s3." + g.config.region + ".amazonaws.com" : "example.amazonaws.com:8443");
  std::set<std::string> used;
  const std::size_t nheaders = rng.below(7);
  for (std::size_t i = 0; i < nheaders; ++i) {
    const std::string& name = rng.pick(names);
    if (!used.insert(name).second) continue;
    std::string value =
        name == "Content-Length" ? std::to_string(g.payload.size()) : random_header_value(rng);
    headers.emplace_back(random_case(rng, name), std::move(value));
  }
  if (checksum_header_in_input)
    headers.emplace_back(random_case(rng, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  g.request.headers = headers;

  // The same request for the JS SDK: decoded query as a map of values or value lists.
  std::map<std::string, std::vector<std::string>> query_map;
  for (const auto& [n, v] : params) query_map[n].push_back(v);
  std::ostringstream js;
  js << "{\"method\":" << json_string(g.request.method) << ",\"hostname\":\"example.amazonaws.com\""
     << ",\"path\":" << json_string(g.request.path) << ",\"query\":{";
  bool first = true;
  for (const auto& [n, vs] : query_map) {
    js << (first ? "" : ",") << json_string(n) << ":";
    first = false;
    if (vs.size() == 1) {
      js << json_string(vs[0]);
    } else {
      js << "[";
      for (std::size_t i = 0; i < vs.size(); ++i) js << (i ? "," : "") << json_string(vs[i]);
      js << "]";
    }
  }
  js << "},\"headers\":{";
  first = true;
  for (const auto& [n, v] : headers) {
    js << (first ? "" : ",") << json_string(n) << ":" << json_string(v);
    first = false;
  }
  js << "}";
  if (stream_body) {
    js << ",\"stream_body\":true";
  } else if (!g.payload.empty()) {
    js << ",\"body_b64\":" << json_string(crypto::base64_encode(g.payload));
  }
  js << ",\"credentials\":{\"accessKeyId\":" << json_string(g.creds.access_key_id)
     << ",\"secretAccessKey\":" << json_string(g.creds.secret_access_key);
  if (!g.creds.session_token.empty()) js << ",\"sessionToken\":" << json_string(g.creds.session_token);
  js << "},\"region\":" << json_string(g.config.region) << ",\"service\":" << json_string(g.config.service)
     << ",\"uri_escape_path\":" << (s3 ? "false" : "true")
     << ",\"apply_checksum\":" << (apply_checksum ? "true" : "false") << ",\"signing_date\":"
     << std::chrono::duration_cast<std::chrono::seconds>(g.config.time.time_since_epoch()).count() << "}";
  g.js_input = js.str();
  return g;
}

// node as the user's PATH finds it (the spawner does not search PATH).
std::string find_node() {
  if (const char* path = std::getenv("PATH")) {
    std::string_view rest(path);
    while (!rest.empty()) {
      const std::size_t colon = rest.find(':');
      const std::string dir(rest.substr(0, colon));
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
      if (dir.empty()) continue;
      const std::string candidate = dir + "/node";
      struct stat st {};
      if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
          ::access(candidate.c_str(), X_OK) == 0) {
        return candidate;
      }
    }
  }
  return "/usr/bin/node";
}

TEST(SigV4AgainstJsSdk, IdenticalAuthorizationForGeneratedRequests) {
  Rng rng(kSeed);
  std::vector<GeneratedCase> cases;
  std::string input;
  for (int i = 0; i < kRequests; ++i) {
    cases.push_back(generate(rng));
    input += cases.back().js_input;
    input += '\n';
  }

  // DYNAREP_SIGV4_DUMP=<file> keeps the generated requests, to replay one through sign.js by hand.
  if (const char* dump = std::getenv("DYNAREP_SIGV4_DUMP"); dump != nullptr && *dump != '\0') {
    std::ofstream(dump, std::ios::binary) << input;
  }

  const std::string script = testing::source_dir() + "/tools/sigv4-js/sign.js";
  const testing::ProcessResult js = testing::run_process({find_node(), script}, input);
  ASSERT_EQ(js.exit_code, 0) << "node " << script << " failed:\n" << js.err;

  std::vector<std::string> lines;
  std::istringstream out(js.out);
  for (std::string line; std::getline(out, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), cases.size()) << "stderr:\n" << js.err;

  simdjson::dom::parser parser;
  int mismatches = 0;
  std::set<std::string> distinct;
  int s3_cases = 0, token_cases = 0, unsigned_cases = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    GeneratedCase& c = cases[i];
    simdjson::dom::element reply = parser.parse(lines[i]);
    std::string_view js_auth;
    if (reply["authorization"].get(js_auth) != simdjson::SUCCESS) {
      ADD_FAILURE() << "case " << i << ": sign.js gave " << lines[i] << "\ninput: " << c.js_input;
      ++mismatches;
      continue;
    }
    const SigningStages stages = compute_stages(c.request, c.payload, c.creds, c.config);
    SigningRequest signed_req = c.request;
    sign_request(signed_req, c.payload, c.creds, c.config);
    EXPECT_EQ(signed_req.headers.back().second, stages.authorization);
    if (stages.authorization != js_auth) {
      ++mismatches;
      ADD_FAILURE() << "case " << i << " differs\n  ours: " << stages.authorization << "\n  JS:   " << js_auth
                    << "\n  input: " << c.js_input << "\n  our canonical request:\n"
                    << stages.canonical_request;
    }
    distinct.insert(stages.authorization);
    s3_cases += c.config.service == "s3";
    token_cases += !c.creds.session_token.empty();
    unsigned_cases += c.config.payload_hash.has_value();
  }
  EXPECT_EQ(mismatches, 0) << "of " << cases.size();
  // The generator really covers what it claims (guards against a change that makes it vacuous).
  EXPECT_EQ(distinct.size(), cases.size());
  EXPECT_GT(s3_cases, kRequests / 5);
  EXPECT_GT(token_cases, kRequests / 5);
  EXPECT_GT(unsigned_cases, kRequests / 20);
}

}  // namespace
}  // namespace dynarep::aws
