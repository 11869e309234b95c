#include "aws/sigv4.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <stdexcept>

#include "crypto/encoding.h"
#include "crypto/sha256.h"

namespace dynarep::aws {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kScopeTerminator = "aws4_request";
constexpr std::string_view kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::chrono::seconds kMaxPresignExpiry{7 * 24 * 3600};  // "one week", SigV4 query docs
constexpr char kHexUpper[] = "0123456789ABCDEF";

// ---------------------------------------------------------------------------------------------
// Characters and strings

constexpr bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

void append_uri_encoded(std::string& out, std::string_view bytes, bool encode_slash) {
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHexUpper[c >> 4]);
      out.push_back(kHexUpper[c & 0x0f]);
    }
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// Header whitespace, including the CR/LF of obsolete line folding (RFC 7230 section 3.2.4).
bool is_header_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Appends `value` trimmed, with every run of whitespace inside folded to one space.
void append_folded(std::string& out, std::string_view value) {
  bool emitted = false;
  bool pending_space = false;
  for (const char c : value) {
    if (is_header_space(c)) {
      pending_space = emitted;
      continue;
    }
    if (pending_space) {
      out.push_back(' ');
      pending_space = false;
    }
    out.push_back(c);
    emitted = true;
  }
}

// ---------------------------------------------------------------------------------------------
// Headers

// Headers that proxies, load balancers and HTTP stacks add, drop or rewrite: signing them makes
// the signature fragile, so (like the AWS SDKs) we never do. `lower_name` is lower-case.
bool never_signed(std::string_view lower_name) {
  static constexpr std::string_view kNames[] = {
      "authorization", "cache-control",     "connection", "expect",     "from",
      "keep-alive",    "max-forwards",      "pragma",     "referer",    "te",
      "trailer",       "transfer-encoding", "upgrade",    "user-agent", "x-amzn-trace-id",
  };
  if (lower_name.starts_with("proxy-") || lower_name.starts_with("sec-")) return true;
  return std::find(std::begin(kNames), std::end(kNames), lower_name) != std::end(kNames);
}

// Headers whose value the signer decides; copies in the request are ignored or replaced.
constexpr std::string_view kDateHeader = "x-amz-date";
constexpr std::string_view kTokenHeader = "x-amz-security-token";
constexpr std::string_view kContentShaHeader = "x-amz-content-sha256";

struct HeaderLine {
  std::string name;   // lower-case
  std::string value;  // trimmed and folded
};

struct CanonicalHeaders {
  std::string block;        // "name:value\n" per distinct name, sorted by name
  std::string signed_list;  // "name;name;..." from the same sorted list
};

// One sorted list yields both the CanonicalHeaders block and SignedHeaders, so they cannot
// disagree. stable_sort keeps repeated names in the order sent, which is the order their values
// are joined in.
CanonicalHeaders canonicalize_headers(
    const std::vector<std::pair<std::string, std::string>>& headers, bool replace_content_sha,
    const std::vector<std::pair<std::string_view, std::string_view>>& added) {
  std::vector<HeaderLine> lines;
  lines.reserve(headers.size() + added.size());
  for (const auto& [raw_name, raw_value] : headers) {
    std::string name = to_lower(raw_name);
    if (never_signed(name) || name == kDateHeader || name == kTokenHeader ||
        (replace_content_sha && name == kContentShaHeader)) {
      continue;
    }
    HeaderLine line{std::move(name), {}};
    line.value.reserve(raw_value.size());
    append_folded(line.value, raw_value);
    lines.push_back(std::move(line));
  }
  for (const auto& [name, value] : added) {
    HeaderLine line{std::string(name), {}};
    append_folded(line.value, value);
    lines.push_back(std::move(line));
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const HeaderLine& a, const HeaderLine& b) { return a.name < b.name; });

  CanonicalHeaders out;
  std::size_t block_size = 0;
  for (const auto& l : lines) block_size += l.name.size() + l.value.size() + 2;
  out.block.reserve(block_size);
  for (std::size_t i = 0; i < lines.size();) {
    const std::string& name = lines[i].name;
    out.block += name;
    out.block += ':';
    out.block += lines[i].value;
    std::size_t j = i + 1;
    for (; j < lines.size() && lines[j].name == name; ++j) {
      out.block += ',';
      out.block += lines[j].value;
    }
    out.block += '\n';
    if (!out.signed_list.empty()) out.signed_list += ';';
    out.signed_list += name;
    i = j;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Query

using Param = std::pair<std::string, std::string>;  // encoded name, encoded value

// Splits a raw query into canonically encoded parameters. Empty pieces ("a=1&&b=2", a trailing
// '&') carry no parameter and are skipped; "name" without '=' has an empty value.
std::vector<Param> encoded_params(std::string_view raw) {
  std::vector<Param> params;
  std::size_t start = 0;
  while (start < raw.size()) {
    std::size_t end = raw.find('&', start);
    if (end == std::string_view::npos) end = raw.size();
    const std::string_view piece = raw.substr(start, end - start);
    start = end + 1;
    if (piece.empty()) continue;
    const std::size_t eq = piece.find('=');
    const std::string_view name = piece.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
    params.emplace_back(uri_encode(sigv4_detail::percent_decode(name)),
                        uri_encode(sigv4_detail::percent_decode(value)));
  }
  return params;
}

// Sorted by encoded name, then encoded value (byte order), joined as name=value&...
std::string join_sorted(std::vector<Param>& params) {
  std::sort(params.begin(), params.end());
  std::string out;
  std::size_t size = 0;
  for (const auto& [n, v] : params) size += n.size() + v.size() + 2;
  out.reserve(size);
  for (const auto& [n, v] : params) {
    if (!out.empty()) out += '&';
    out += n;
    out += '=';
    out += v;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Dates, scope, signing key

struct Scope {
  std::string date_time;  // 20150830T123600Z
  std::string scope;      // 20150830/us-east-1/service/aws4_request
  std::string_view day() const { return std::string_view(date_time).substr(0, 8); }
};

Scope make_scope(const SigningConfig& config) {
  Scope s;
  s.date_time = sigv4_detail::amz_date(config.time);
  s.scope.reserve(9 + config.region.size() + config.service.size() + kScopeTerminator.size() + 2);
  s.scope.append(s.day());
  s.scope += '/';
  s.scope += config.region;
  s.scope += '/';
  s.scope += config.service;
  s.scope += '/';
  s.scope += kScopeTerminator;
  return s;
}

// The derived key changes once a day per (secret, region, service): cache the last few per
// thread so the hot path is one HMAC instead of five (no lock, no sharing between threads).
struct CachedKey {
  std::string secret, day, region, service;
  crypto::Digest256 key{};
};
struct KeyCache {
  static constexpr std::size_t kSize = 8;
  std::array<CachedKey, kSize> entries;
  std::size_t filled = 0;
  std::size_t next = 0;
};

crypto::Digest256 signing_key(const std::string& secret, std::string_view day, std::string_view region,
                              std::string_view service) {
  thread_local KeyCache cache;
  for (std::size_t i = 0; i < cache.filled; ++i) {
    const CachedKey& e = cache.entries[i];
    if (e.day == day && e.region == region && e.service == service && e.secret == secret) return e.key;
  }
  auto as_view = [](const crypto::Digest256& d) {
    return std::string_view(reinterpret_cast<const char*>(d.data()), d.size());
  };
  const std::string k_secret = "AWS4" + secret;
  const crypto::Digest256 k_date = crypto::hmac_sha256(k_secret, day);
  const crypto::Digest256 k_region = crypto::hmac_sha256(as_view(k_date), region);
  const crypto::Digest256 k_service = crypto::hmac_sha256(as_view(k_region), service);
  const crypto::Digest256 k_signing = crypto::hmac_sha256(as_view(k_service), kScopeTerminator);

  CachedKey& slot = cache.entries[cache.next];
  cache.next = (cache.next + 1) % KeyCache::kSize;
  cache.filled = std::min(cache.filled + 1, KeyCache::kSize);
  slot.secret = secret;
  slot.day = std::string(day);
  slot.region = std::string(region);
  slot.service = std::string(service);
  slot.key = k_signing;
  return k_signing;
}

// ---------------------------------------------------------------------------------------------
// The three stages

std::string canonical_request(std::string_view method, std::string_view path, std::string_view query,
                              const CanonicalHeaders& headers, std::string_view payload_hash) {
  std::string cr;
  cr.reserve(method.size() + path.size() + query.size() + headers.block.size() + headers.signed_list.size() +
             payload_hash.size() + 5);
  cr.append(method).append(1, '\n');
  cr.append(path).append(1, '\n');
  cr.append(query).append(1, '\n');
  cr.append(headers.block).append(1, '\n');
  cr.append(headers.signed_list).append(1, '\n');
  cr.append(payload_hash);
  return cr;
}

std::string string_to_sign(const Scope& scope, std::string_view canonical_request) {
  std::string sts;
  sts.reserve(kAlgorithm.size() + scope.date_time.size() + scope.scope.size() + 64 + 3);
  sts.append(kAlgorithm).append(1, '\n');
  sts.append(scope.date_time).append(1, '\n');
  sts.append(scope.scope).append(1, '\n');
  sts.append(crypto::hex_lower(crypto::sha256(canonical_request)));
  return sts;
}

std::string signature(const Credentials& creds, const Scope& scope, const SigningConfig& config,
                      std::string_view string_to_sign) {
  const crypto::Digest256 key =
      signing_key(creds.secret_access_key, scope.day(), config.region, config.service);
  return crypto::hex_lower(crypto::hmac_sha256(
      std::string_view(reinterpret_cast<const char*>(key.data()), key.size()), string_to_sign));
}

struct HeaderSigning {
  SigningStages stages;
  std::string date_time;
  std::string payload_hash;
};

HeaderSigning sign_headers(const SigningRequest& req, std::string_view payload, const Credentials& creds,
                           const SigningConfig& config) {
  HeaderSigning out;
  Scope scope = make_scope(config);
  out.payload_hash = config.payload_hash ? *config.payload_hash : crypto::sha256_hex(payload);

  std::vector<std::pair<std::string_view, std::string_view>> added;
  added.emplace_back(kDateHeader, scope.date_time);
  if (!creds.session_token.empty() && !config.omit_session_token) {
    added.emplace_back(kTokenHeader, creds.session_token);
  }
  if (config.add_content_sha256_header) added.emplace_back(kContentShaHeader, out.payload_hash);
  const CanonicalHeaders headers = canonicalize_headers(req.headers, config.add_content_sha256_header, added);

  SigningStages& st = out.stages;
  st.canonical_request =
      canonical_request(req.method, sigv4_detail::canonical_path(req.path, config),
                        sigv4_detail::canonical_query(req.query), headers, out.payload_hash);
  st.string_to_sign = string_to_sign(scope, st.canonical_request);
  st.signature = signature(creds, scope, config, st.string_to_sign);
  st.signed_headers = headers.signed_list;

  st.authorization.reserve(kAlgorithm.size() + creds.access_key_id.size() + scope.scope.size() +
                           st.signed_headers.size() + st.signature.size() + 40);
  st.authorization.append(kAlgorithm)
      .append(" Credential=")
      .append(creds.access_key_id)
      .append(1, '/')
      .append(scope.scope)
      .append(", SignedHeaders=")
      .append(st.signed_headers)
      .append(", Signature=")
      .append(st.signature);
  out.date_time = std::move(scope.date_time);
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public API

std::string uri_encode(std::string_view bytes, bool encode_slash) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 2);
  append_uri_encoded(out, bytes, encode_slash);
  return out;
}

namespace sigv4_detail {

std::string amz_date(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(t);
  const auto day_point = floor<days>(secs);
  const year_month_day ymd{day_point};
  const hh_mm_ss hms{secs - day_point};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::string normalize_path(std::string_view path) {
  if (path == "/") return "/";
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view seg = path.substr(start, end - start);
    start = end + 1;
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(seg);
  }
  std::string out;
  out.reserve(path.size());
  if (path.starts_with('/')) out += '/';
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out += '/';
    out += segments[i];
  }
  if (!segments.empty() && path.ends_with('/')) out += '/';
  if (out.empty()) out = "/";
  return out;
}

std::string canonical_path(std::string_view path, const SigningConfig& config) {
  std::string p = config.normalize_path ? normalize_path(path) : std::string(path.empty() ? "/" : path);
  if (!config.double_encode_path) return p;
  return uri_encode(p, /*encode_slash=*/false);
}

std::string canonical_query(std::string_view raw_query) {
  if (raw_query.empty()) return {};
  std::vector<Param> params = encoded_params(raw_query);
  return join_sorted(params);
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

}  // namespace sigv4_detail

SigningStages compute_stages(const SigningRequest& req, std::string_view payload, const Credentials& creds,
                             const SigningConfig& config) {
  return sign_headers(req, payload, creds, config).stages;
}

void sign_request(SigningRequest& req, std::string_view payload, const Credentials& creds,
                  const SigningConfig& config) {
  HeaderSigning signed_ = sign_headers(req, payload, creds, config);
  std::erase_if(req.headers, [&](const std::pair<std::string, std::string>& h) {
    return iequals(h.first, "authorization") || iequals(h.first, kDateHeader) ||
           iequals(h.first, kTokenHeader) ||
           (config.add_content_sha256_header && iequals(h.first, kContentShaHeader));
  });
  req.headers.emplace_back("X-Amz-Date", std::move(signed_.date_time));
  // With omit_session_token the token is sent but not signed (services that reject a signed
  // token header, e.g. some IoT endpoints; the suite's post-sts-header-after case).
  if (!creds.session_token.empty()) req.headers.emplace_back("X-Amz-Security-Token", creds.session_token);
  if (config.add_content_sha256_header) {
    req.headers.emplace_back("x-amz-content-sha256", std::move(signed_.payload_hash));
  }
  req.headers.emplace_back("Authorization", std::move(signed_.stages.authorization));
}

PresignStages compute_presign_stages(const SigningRequest& req, const Credentials& creds,
                                     const SigningConfig& config, std::chrono::seconds expires) {
  if (expires < std::chrono::seconds(1) || expires > kMaxPresignExpiry) {
    throw std::invalid_argument("presign_query: expiry of " + std::to_string(expires.count()) +
                                " s is outside 1 s .. 7 days");
  }
  const Scope scope = make_scope(config);
  const CanonicalHeaders headers = canonicalize_headers(req.headers, /*replace_content_sha=*/false, {});
  const bool sign_token = !creds.session_token.empty() && !config.omit_session_token;

  static constexpr std::string_view kGenerated[] = {
      "X-Amz-Algorithm",     "X-Amz-Credential",     "X-Amz-Date",      "X-Amz-Expires",
      "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature",
  };
  std::vector<Param> params = encoded_params(req.query);
  std::erase_if(params, [](const Param& p) {
    return std::any_of(std::begin(kGenerated), std::end(kGenerated),
                       [&](std::string_view g) { return iequals(p.first, g); });
  });
  params.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  params.emplace_back("X-Amz-Credential", uri_encode(creds.access_key_id + "/" + scope.scope));
  params.emplace_back("X-Amz-Date", scope.date_time);
  params.emplace_back("X-Amz-Expires", std::to_string(expires.count()));
  if (sign_token) params.emplace_back("X-Amz-Security-Token", uri_encode(creds.session_token));
  params.emplace_back("X-Amz-SignedHeaders", uri_encode(headers.signed_list));
  const std::string query = join_sorted(params);

  const std::string_view payload_hash =
      config.payload_hash ? std::string_view(*config.payload_hash) : kEmptySha256;
  PresignStages st;
  st.canonical_request = canonical_request(req.method, sigv4_detail::canonical_path(req.path, config), query,
                                           headers, payload_hash);
  st.string_to_sign = string_to_sign(scope, st.canonical_request);
  st.signature = signature(creds, scope, config, st.string_to_sign);
  st.signed_headers = headers.signed_list;
  st.query = query;
  if (!creds.session_token.empty() && !sign_token) {
    st.query += "&X-Amz-Security-Token=";
    st.query += uri_encode(creds.session_token);
  }
  st.query += "&X-Amz-Signature=";
  st.query += st.signature;
  return st;
}

std::string presign_query(const SigningRequest& req, const Credentials& creds, const SigningConfig& config,
                          std::chrono::seconds expires) {
  return compute_presign_stages(req, creds, config, expires).query;
}

}  // namespace dynarep::aws
