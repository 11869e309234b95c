#include "aws/client.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "aws/errors.h"
#include "aws/sigv4.h"
#include "crypto/checksum.h"
#include "crypto/sha256.h"

namespace dynarep::aws {
namespace {

// AWS answers a bad signature with the canonical request it expected, which carries the
// session token; the message must not carry it (or the signature) on to logs and terminals.
void scrub(std::string& text, std::string_view secret) {
  if (secret.size() < 8) return;  // too short to be a secret, and would redact ordinary words
  for (std::size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
    text.replace(at, secret.size(), "<redacted>");
    at += 10;
  }
}


// Shows up in CloudTrail and S3 access logs (not signed: intermediaries may rewrite it).
constexpr std::string_view kUserAgent = "dynarep";

struct UrlParts {
  std::string scheme;     // "http", "https"
  std::string authority;  // host[:port]
  std::string path;       // "/..." (at least "/")
  std::string query;      // without '?'
};

UrlParts split_url(std::string_view url) {
  UrlParts u;
  if (const auto s = url.find("://"); s != std::string_view::npos) {
    u.scheme = std::string(url.substr(0, s));
    url.remove_prefix(s + 3);
  }
  const auto path_start = url.find_first_of("/?");
  u.authority = std::string(url.substr(0, path_start));
  std::string_view rest = path_start == std::string_view::npos ? std::string_view() : url.substr(path_start);
  const auto q = rest.find('?');
  u.path = std::string(rest.substr(0, q));
  if (q != std::string_view::npos) u.query = std::string(rest.substr(q + 1));
  if (u.path.empty()) u.path = "/";
  return u;
}

// The Host header as clients send it: the default port of the scheme is left out.
std::string host_header(const UrlParts& u) {
  std::string a = u.authority;
  const std::string default_port = u.scheme == "https" ? ":443" : ":80";
  if (a.ends_with(default_port)) a.resize(a.size() - default_port.size());
  return a;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view signature_in(const http::Headers& headers) {
  for (const auto& [name, value] : headers) {
    if (!iequals(name, "authorization")) continue;
    auto at = value.find("Signature=");
    if (at != std::string::npos) return std::string_view(value).substr(at + 10);
  }
  return {};
}

// "DynamoDB_20120810.DescribeTable" -> "DescribeTable".
std::string_view operation_of(std::string_view target) {
  const auto dot = target.rfind('.');
  return dot == std::string_view::npos ? target : target.substr(dot + 1);
}

// Verifies DynamoDB's x-amz-crc32 (CRC-32 of the body bytes as sent), when present.
Status check_crc32(const http::Response& resp) {
  auto header = resp.header("x-amz-crc32");
  if (!header) return {};
  uint64_t expected = 0;
  auto [ptr, ec] = std::from_chars(header->data(), header->data() + header->size(), expected);
  if (ec != std::errc() || ptr != header->data() + header->size()) {
    return Error(ErrorKind::kTransient, "Crc32Mismatch", fmt::format("unreadable x-amz-crc32 header '{}'", *header));
  }
  const uint32_t actual = crypto::crc32(resp.body);
  if (actual != expected) {
    Error e(ErrorKind::kTransient, "Crc32Mismatch",
            fmt::format("response body CRC-32 {} does not match x-amz-crc32 {}: corrupted in transit", actual, expected));
    e.http_status = resp.status;
    if (auto id = resp.header("x-amzn-requestid")) e.request_id = std::string(*id);
    return e;
  }
  return {};
}

// Per-attempt HTTP timeout: no attempt may run past the call's deadline.
std::chrono::milliseconds attempt_timeout(std::chrono::milliseconds configured, const CallOptions& options,
                                          const Clock& clock) {
  if (!options.deadline) return configured;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*options.deadline - clock.steady_now());
  return std::clamp(left, std::chrono::milliseconds(1), configured);
}

}  // namespace

// Borrows an http::Client from the pool for one attempt and gives it back.
class AwsClient::Lease {
 public:
  explicit Lease(AwsClient& owner) : owner_(owner), http_(owner.acquire_http()), before_(http_->connections_opened()) {}
  ~Lease() {
    owner_.connections_opened_.fetch_add(http_->connections_opened() - before_);
    owner_.release_http(std::move(http_));
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  http::Client& operator*() { return *http_; }

 private:
  AwsClient& owner_;
  std::unique_ptr<http::Client> http_;
  uint64_t before_;
};

AwsClient::AwsClient(Endpoint endpoint, std::shared_ptr<CredentialsProvider> credentials, RetryPolicy policy,
                     Clock& clock)
    : endpoint_(std::move(endpoint)), credentials_(std::move(credentials)), clock_(clock), retrier_(policy, clock) {
  while (!endpoint_.url.empty() && endpoint_.url.back() == '/') endpoint_.url.pop_back();
  host_header_ = host_header(split_url(endpoint_.url));
}

AwsClient::~AwsClient() = default;

std::unique_ptr<http::Client> AwsClient::acquire_http() {
  {
    std::lock_guard lock(pool_mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  return std::make_unique<http::Client>();
}

void AwsClient::release_http(std::unique_ptr<http::Client> client) {
  std::lock_guard lock(pool_mu_);
  idle_.push_back(std::move(client));
}

Result<http::Response> AwsClient::send_signed(http::Request& req, std::string_view payload_for_hash,
                                              const std::optional<std::string>& payload_hash, bool s3_rules,
                                              const std::function<bool(std::string_view)>* on_chunk,
                                              AttemptInfo& info) {
  const UrlParts url = split_url(req.url);
  const http::Headers unsigned_headers = req.headers;
  // Credentials that expired early (revoked, clock skew) get one refresh and one resend.
  for (int round = 0;; ++round) {
    auto creds = credentials_->get();
    if (!creds.ok()) return std::move(creds).error();

    SigningRequest sreq;
    sreq.method = req.method;
    sreq.path = url.path;
    sreq.query = url.query;
    sreq.headers.reserve(unsigned_headers.size() + 1);
    sreq.headers.emplace_back("Host", url.authority.empty() ? host_header_ : host_header(url));
    for (const auto& h : unsigned_headers) {
      if (!iequals(h.first, "host")) sreq.headers.push_back(h);
    }
    SigningConfig config;
    config.region = endpoint_.region;
    config.service = endpoint_.signing_service;
    config.time = clock_.now();
    config.normalize_path = !s3_rules;
    config.double_encode_path = !s3_rules;
    config.add_content_sha256_header = s3_rules;
    config.payload_hash = payload_hash;
    sign_request(sreq, payload_for_hash, *creds, config);
    req.headers = std::move(sreq.headers);

    Result<http::Response> resp = [&] {
      Lease http(*this);
      return on_chunk != nullptr ? (*http).send_streaming(req, *on_chunk) : (*http).send(req);
    }();
    const std::string signature(signature_in(req.headers));
    req.headers = unsigned_headers;
    if (!resp.ok()) return resp;
    if (resp->status >= 200 && resp->status < 400) return resp;

    Error err = error_from_response(*resp);
    scrub(err.message, creds->session_token);
    scrub(err.message, creds->secret_access_key);
    scrub(err.message, signature);
    if (err.kind == ErrorKind::kAuth && is_expired_credentials_error(err.code) && round == 0) {
      credentials_->invalidate();
      // A streamed body has been consumed and cannot be sent again; the caller's next call
      // gets the fresh credentials.
      if (!req.body_reader) continue;
    }
    if (auto ra = resp->header("retry-after")) info.retry_after = parse_retry_after(*ra, clock_.now());
    return err;
  }
}

Result<std::string> AwsClient::call_json(std::string_view target, std::string_view json_version,
                                         const std::string& body, const CallOptions& options) {
  http::Request req;
  req.method = "POST";
  req.url = endpoint_.url + "/";
  req.headers = {{"Content-Type", fmt::format("application/x-amz-json-{}", json_version)},
                 {"X-Amz-Target", std::string(target)},
                 {"User-Agent", std::string(kUserAgent)}};
  req.body = body;
  req.fresh_connection = !options.idempotent;
  auto result = retrier_.run(
      [&](AttemptInfo& info) -> Result<std::string> {
        req.timeout = attempt_timeout(options.attempt_timeout, options, clock_);
        req.connect_timeout = std::min(options.connect_timeout, req.timeout);
        DR_ASSIGN(http::Response resp, send_signed(req, req.body, std::nullopt, false, nullptr, info));
        DR_TRY(check_crc32(resp));
        return std::move(resp.body);
      },
      options);
  if (!result.ok()) {
    Error err = std::move(result).error();
    err.with_context(fmt::format("{} on {}", operation_of(target), endpoint_.url));
    return err;
  }
  return result;
}

Result<http::Response> AwsClient::rest(http::Request req, std::optional<std::string> payload_hash,
                                       const std::function<bool(std::string_view)>* on_chunk,
                                       const CallOptions& options) {
  if (req.url.starts_with("/")) req.url = endpoint_.url + req.url;
  if (std::none_of(req.headers.begin(), req.headers.end(), [](const auto& h) { return iequals(h.first, "user-agent"); })) {
    req.headers.emplace_back("User-Agent", std::string(kUserAgent));
  }
  if (!payload_hash) {
    // Hashed once, not at every attempt: S3 parts can be large.
    payload_hash = req.body_reader ? std::string("UNSIGNED-PAYLOAD") : crypto::sha256_hex(req.body);
  }
  const std::string what = fmt::format("{} {}", req.method, http::redact_url(split_url(req.url).path));
  const std::chrono::milliseconds configured_timeout = req.timeout;
  const std::chrono::milliseconds configured_connect_timeout = req.connect_timeout;

  // A streamed upload cannot be rewound, and a streamed download cannot be taken back: such an
  // attempt is retried only if nothing went through.
  auto reader = req.body_reader;
  size_t bytes_read = 0;
  if (reader) {
    req.body_reader = [&](char* buf, size_t max) {
      const size_t n = reader(buf, max);
      bytes_read += n;
      return n;
    };
  }
  bool delivered = false;
  std::function<bool(std::string_view)> counting_chunk;
  if (on_chunk != nullptr) {
    counting_chunk = [&](std::string_view chunk) {
      delivered = true;
      return (*on_chunk)(chunk);
    };
  }

  auto result = retrier_.run(
      [&](AttemptInfo& info) -> Result<http::Response> {
        req.timeout = attempt_timeout(configured_timeout, options, clock_);
        req.connect_timeout = std::min(configured_connect_timeout, req.timeout);
        auto r = send_signed(req, req.body, payload_hash, true, on_chunk != nullptr ? &counting_chunk : nullptr, info);
        if (!r.ok() && (bytes_read > 0 || delivered)) info.may_retry = false;
        return r;
      },
      options);
  if (!result.ok()) {
    Error err = std::move(result).error();
    err.with_context(fmt::format("{} on {}", what, endpoint_.url));
    return err;
  }
  return result;
}

Result<http::Response> AwsClient::call_rest(http::Request req, std::optional<std::string> payload_hash,
                                            const CallOptions& options) {
  return rest(std::move(req), std::move(payload_hash), nullptr, options);
}

Result<http::Response> AwsClient::call_rest_streaming(http::Request req,
                                                      const std::function<bool(std::string_view)>& on_chunk,
                                                      const CallOptions& options) {
  return rest(std::move(req), std::nullopt, &on_chunk, options);
}

}  // namespace dynarep::aws
