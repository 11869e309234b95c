#include "aws/credentials.h"

#include <fmt/format.h>
#include <pwd.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include "aws/dates.h"
#include "http/client.h"

namespace dynarep::aws {
namespace {

using Settings = std::vector<std::pair<std::string, std::string>>;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

Error auth_error(std::string message) { return Error(ErrorKind::kAuth, "NoCredentials", std::move(message)); }

std::string home_dir() {
  if (std::string h = env("HOME"); !h.empty()) return h;
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) return pw->pw_dir;
  return "";
}

// "~/x" -> "$HOME/x".
std::string expand_home(std::string path) {
  if (path.starts_with("~/") || path == "~") path = home_dir() + path.substr(1);
  return path;
}

std::string credentials_file_path() {
  std::string p = env("AWS_SHARED_CREDENTIALS_FILE");
  return expand_home(p.empty() ? "~/.aws/credentials" : p);
}
std::string config_file_path() {
  std::string p = env("AWS_CONFIG_FILE");
  return expand_home(p.empty() ? "~/.aws/config" : p);
}
std::string profile_name() {
  std::string p = env("AWS_PROFILE");
  return p.empty() ? "default" : p;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string* find_setting(const Settings& settings, std::string_view key) {
  for (const auto& [k, v] : settings) {
    if (k == key) return &v;
  }
  return nullptr;
}

// A JSON credentials document (container endpoint, IMDS) -> Credentials.
Result<Credentials> parse_credentials(std::string_view json, const std::string& source) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object obj;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS || doc.get(obj) != simdjson::SUCCESS) {
    return auth_error(fmt::format("{} returned a credentials document that is not a JSON object", source));
  }
  auto str = [&](const char* key) -> std::string {
    std::string_view v;
    if (obj[key].get(v) == simdjson::SUCCESS) return std::string(v);
    return "";
  };
  if (std::string code = str("Code"); !code.empty() && code != "Success") {
    return auth_error(fmt::format("{} answered Code {}: {}", source, code, str("Message")));
  }
  Credentials c;
  c.access_key_id = str("AccessKeyId");
  c.secret_access_key = str("SecretAccessKey");
  c.session_token = str("Token");
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return auth_error(fmt::format("{} returned no AccessKeyId/SecretAccessKey", source));
  }
  if (std::string exp = str("Expiration"); !exp.empty()) {
    c.expiration = detail::parse_iso8601(exp);
    if (!c.expiration) return auth_error(fmt::format("{} returned an unreadable Expiration '{}'", source, exp));
  }
  return c;
}

// Bounded excerpt of a body for an error message (never contains credentials: those come only
// in 200 answers, which are parsed, not quoted).
std::string excerpt(std::string_view body) {
  std::string out(trim(body.substr(0, 160)));
  std::replace_if(out.begin(), out.end(), [](char ch) { return !std::isprint(static_cast<unsigned char>(ch)); }, ' ');
  return out;
}

bool loopback_or_container_host(std::string_view host) {
  return host == "localhost" || host.starts_with("127.") || host == "[::1]" || host == "169.254.170.2" ||
         host == "169.254.170.23" || host == "[fd00:ec2::23]";
}

}  // namespace

// --- detail --------------------------------------------------------------------------------

namespace detail {

const std::vector<std::pair<std::string, std::string>>* IniFile::section(const std::string& name) const {
  for (const auto& [n, settings] : sections) {
    if (n == name) return &settings;
  }
  return nullptr;
}

IniFile parse_ini(std::string_view text) {
  IniFile ini;
  Settings* current = nullptr;
  bool in_nested = false;  // under "key =" with an empty value: indented lines are its settings
  std::istringstream in{std::string(text)};
  std::string raw;
  while (std::getline(in, raw)) {
    std::string_view line = raw;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const bool indented = !line.empty() && (line.front() == ' ' || line.front() == '\t');
    std::string_view t = trim(line);
    if (t.empty() || t.front() == '#' || t.front() == ';') continue;
    if (t.front() == '[') {
      const auto close = t.find(']');
      if (close == std::string_view::npos) {
        current = nullptr;  // malformed header: ignore the section's lines
        continue;
      }
      // "[profile dev]" and "[ profile  dev ]" alike; anything after ']' is a comment.
      std::string name;
      for (std::string_view part = trim(t.substr(1, close - 1)); !part.empty();) {
        const auto sp = part.find_first_of(" \t");
        if (!name.empty()) name += ' ';
        name += part.substr(0, sp);
        if (sp == std::string_view::npos) break;
        part = trim(part.substr(sp));
      }
      auto it = std::find_if(ini.sections.begin(), ini.sections.end(), [&](const auto& s) { return s.first == name; });
      if (it == ini.sections.end()) {
        ini.sections.emplace_back(name, Settings{});
        current = &ini.sections.back().second;
      } else {
        current = &it->second;  // a repeated section adds to the first
      }
      in_nested = false;
      continue;
    }
    if (current == nullptr) continue;
    if (indented && in_nested) continue;
    const auto eq = t.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key = lower(trim(t.substr(0, eq)));
    std::string_view value = trim(t.substr(eq + 1));
    // A comment after a value needs whitespace before it ("key = v # note").
    for (size_t i = 1; i < value.size(); ++i) {
      if ((value[i] == '#' || value[i] == ';') && (value[i - 1] == ' ' || value[i - 1] == '\t')) {
        value = trim(value.substr(0, i));
        break;
      }
    }
    in_nested = value.empty();
    auto existing = std::find_if(current->begin(), current->end(), [&](const auto& kv) { return kv.first == key; });
    if (existing != current->end()) {
      existing->second = std::string(value);
    } else {
      current->emplace_back(std::move(key), std::string(value));
    }
  }
  return ini;
}

std::optional<Settings> load_profile(const std::string& profile, const std::string& credentials_file,
                                     const std::string& config_file) {
  std::optional<Settings> out;
  auto merge = [&](const Settings* settings) {
    if (settings == nullptr) return;
    if (!out) out.emplace();
    for (const auto& [k, v] : *settings) {
      auto it = std::find_if(out->begin(), out->end(), [&](const auto& kv) { return kv.first == k; });
      if (it != out->end()) {
        it->second = v;
      } else {
        out->emplace_back(k, v);
      }
    }
  };
  if (auto text = read_file(config_file)) {
    const IniFile ini = parse_ini(*text);
    if (profile == "default") merge(ini.section("default"));
    merge(ini.section("profile " + profile));
  }
  if (auto text = read_file(credentials_file)) {
    const IniFile ini = parse_ini(*text);
    merge(ini.section(profile));
  }
  return out;
}

std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text) {
  // Credentials documents: the strict form with a zone, surrounding space allowed; whole
  // seconds are enough for an expiry.
  auto t = aws::parse_iso8601(trim(text));
  if (!t.ok()) return std::nullopt;
  return std::chrono::floor<std::chrono::seconds>(*t);
}

Result<Credentials> parse_credentials_json(std::string_view json, const std::string& source) {
  return parse_credentials(json, source);
}

}  // namespace detail

// --- environment ---------------------------------------------------------------------------

Result<Credentials> EnvironmentCredentialsProvider::get() {
  Credentials c;
  c.access_key_id = env("AWS_ACCESS_KEY_ID");
  c.secret_access_key = env("AWS_SECRET_ACCESS_KEY");
  c.session_token = env("AWS_SESSION_TOKEN");
  if (c.access_key_id.empty() && c.secret_access_key.empty()) {
    return auth_error("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
  }
  if (c.access_key_id.empty()) return auth_error("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
  if (c.secret_access_key.empty()) return auth_error("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  return c;
}

// --- shared files --------------------------------------------------------------------------

ProfileCredentialsProvider::ProfileCredentialsProvider(std::string profile, std::string credentials_file,
                                                       std::string config_file)
    : profile_(profile.empty() ? profile_name() : std::move(profile)),
      credentials_file_(credentials_file.empty() ? credentials_file_path() : std::move(credentials_file)),
      config_file_(config_file.empty() ? config_file_path() : std::move(config_file)) {}

std::string ProfileCredentialsProvider::name() const { return fmt::format("shared files (profile {})", profile_); }

void ProfileCredentialsProvider::invalidate() {
  std::lock_guard lock(mu_);
  cached_.reset();
}

Result<Credentials> ProfileCredentialsProvider::get() {
  std::lock_guard lock(mu_);
  if (cached_) return *cached_;
  auto settings = detail::load_profile(profile_, credentials_file_, config_file_);
  if (!settings) {
    return auth_error(fmt::format("profile '{}' not found in {} or {}", profile_, credentials_file_, config_file_));
  }
  const std::string* key = find_setting(*settings, "aws_access_key_id");
  const std::string* secret = find_setting(*settings, "aws_secret_access_key");
  if (key == nullptr || secret == nullptr || key->empty() || secret->empty()) {
    for (std::string_view feature : {"role_arn", "sso_session", "sso_start_url", "credential_process",
                                     "web_identity_token_file", "login_session"}) {
      if (find_setting(*settings, feature) != nullptr) {
        return auth_error(fmt::format(
            "profile '{}' uses {}, which dynarep does not support; export keys instead, e.g. with "
            "`eval \"$(aws configure export-credentials --profile {} --format env)\"`",
            profile_, feature, profile_));
      }
    }
    return auth_error(
        fmt::format("profile '{}' has no aws_access_key_id and aws_secret_access_key (in {} or {})", profile_,
                    credentials_file_, config_file_));
  }
  Credentials c;
  c.access_key_id = *key;
  c.secret_access_key = *secret;
  if (const std::string* token = find_setting(*settings, "aws_session_token")) c.session_token = *token;
  cached_ = c;
  return c;
}

// --- container -----------------------------------------------------------------------------

bool ContainerCredentialsProvider::configured() {
  return !env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").empty() || !env("AWS_CONTAINER_CREDENTIALS_FULL_URI").empty();
}

Result<Credentials> ContainerCredentialsProvider::get() {
  std::string url;
  if (std::string relative = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); !relative.empty()) {
    if (!relative.starts_with("/")) relative = "/" + relative;
    url = options_.relative_uri_host + relative;
  } else if (std::string full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI"); !full.empty()) {
    const bool https = full.starts_with("https://");
    if (!https && !full.starts_with("http://")) {
      return auth_error(fmt::format("AWS_CONTAINER_CREDENTIALS_FULL_URI '{}' is not an http(s) URL", full));
    }
    std::string host = http::url_host(full);
    if (host.starts_with("[")) {
      host = host.substr(0, host.find(']') + 1);
    } else {
      host = host.substr(0, host.find(':'));
    }
    if (!https && !loopback_or_container_host(host)) {
      return auth_error(fmt::format(
          "AWS_CONTAINER_CREDENTIALS_FULL_URI '{}' uses http to host {}; http is only allowed to loopback and the "
          "ECS/EKS addresses",
          full, host));
    }
    url = full;
  } else {
    return auth_error("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set");
  }

  http::Request req;
  req.url = url;
  req.timeout = options_.timeout;
  req.connect_timeout = options_.timeout;
  std::string token;
  if (std::string file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); !file.empty()) {
    auto text = read_file(file);
    if (!text) return auth_error(fmt::format("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {}", file));
    token = std::string(trim(*text));
  } else {
    token = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  }
  if (token.find_first_of("\r\n") != std::string::npos) {
    return auth_error("the container authorization token contains a line break");
  }
  if (!token.empty()) req.headers.emplace_back("Authorization", token);

  http::Client client;
  Result<http::Response> resp = client.send(req);
  if (!resp.ok() && resp.error().retryable()) resp = client.send(req);  // one quick second try
  if (!resp.ok()) {
    return auth_error(fmt::format("container credentials endpoint {} unreachable: {}", url, resp.error().describe()));
  }
  if (resp->status != 200) {
    return auth_error(fmt::format("container credentials endpoint {} answered HTTP {}: {}", url, resp->status,
                                  excerpt(resp->body)));
  }
  return parse_credentials(resp->body, "container credentials endpoint " + url);
}

// --- IMDSv2 --------------------------------------------------------------------------------

ImdsCredentialsProvider::ImdsCredentialsProvider(Clock& clock, Options options)
    : clock_(clock), options_(std::move(options)) {
  endpoint_ = options_.endpoint;
  if (endpoint_.empty()) endpoint_ = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (endpoint_.empty()) endpoint_ = "http://169.254.169.254";
  while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
}

bool ImdsCredentialsProvider::enabled() { return lower(env("AWS_EC2_METADATA_DISABLED")) != "true"; }

void ImdsCredentialsProvider::invalidate() {
  std::lock_guard lock(mu_);
  token_.clear();
  token_expiry_ = {};
}

// Requires mu_. An empty token means IMDSv1 (the service does not offer tokens).
Result<std::string> ImdsCredentialsProvider::token(http::Client& client) {
  if (!token_.empty() && clock_.steady_now() < token_expiry_) return token_;
  http::Request req;
  req.method = "PUT";
  req.url = endpoint_ + "/latest/api/token";
  req.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", std::to_string(options_.token_ttl.count())}};
  req.timeout = options_.timeout;
  req.connect_timeout = options_.timeout;
  const auto start = clock_.steady_now();
  auto resp = client.send(req);
  if (!resp.ok()) {
    return auth_error(fmt::format("instance metadata service {} unreachable: {}", endpoint_, resp.error().describe()));
  }
  if (resp->status == 200) {
    token_ = std::string(trim(resp->body));
    // Renew a minute early so a token never expires between our check and its use.
    token_expiry_ = start + options_.token_ttl - std::chrono::seconds(60);
    return token_;
  }
  if (resp->status == 404 || resp->status == 405) return std::string();  // no IMDSv2 here: use v1
  return auth_error(fmt::format("instance metadata service {} refused a session token (HTTP {}){}", endpoint_,
                                resp->status, resp->status == 403 ? ": IMDS is disabled for this instance" : ""));
}

Result<Credentials> ImdsCredentialsProvider::get() {
  if (!enabled()) return auth_error("disabled by AWS_EC2_METADATA_DISABLED=true");
  std::lock_guard lock(mu_);
  http::Client client;
  auto get_path = [&](const std::string& path, const std::string& tok) {
    http::Request req;
    req.url = endpoint_ + path;
    if (!tok.empty()) req.headers.emplace_back("X-aws-ec2-metadata-token", tok);
    req.timeout = options_.timeout;
    req.connect_timeout = options_.timeout;
    return client.send(req);
  };
  const std::string roles_path = "/latest/meta-data/iam/security-credentials/";
  for (int round = 0; round < 2; ++round) {
    DR_ASSIGN(std::string tok, token(client));
    auto roles = get_path(roles_path, tok);
    if (!roles.ok()) {
      return auth_error(fmt::format("instance metadata service {} unreachable: {}", endpoint_, roles.error().describe()));
    }
    if (roles->status == 401 && round == 0) {  // the token expired or was revoked: get a new one
      token_.clear();
      continue;
    }
    if (roles->status == 404) return auth_error(fmt::format("no IAM role is attached to this instance ({})", endpoint_));
    if (roles->status != 200) {
      return auth_error(fmt::format("instance metadata service {} answered HTTP {} for the IAM role", endpoint_,
                                    roles->status));
    }
    std::string_view listing = trim(roles->body);
    const std::string role(trim(listing.substr(0, listing.find('\n'))));
    if (role.empty()) return auth_error(fmt::format("no IAM role is attached to this instance ({})", endpoint_));
    auto creds = get_path(roles_path + role, tok);
    if (!creds.ok()) {
      return auth_error(fmt::format("instance metadata service {} unreachable: {}", endpoint_, creds.error().describe()));
    }
    if (creds->status == 401 && round == 0) {
      token_.clear();
      continue;
    }
    if (creds->status != 200) {
      return auth_error(fmt::format("instance metadata service {} answered HTTP {} for role {}", endpoint_,
                                    creds->status, role));
    }
    return parse_credentials(creds->body, fmt::format("instance metadata service {} (role {})", endpoint_, role));
  }
  return auth_error(fmt::format("instance metadata service {} keeps rejecting its own session token", endpoint_));
}

// --- caching -------------------------------------------------------------------------------

CachingCredentialsProvider::CachingCredentialsProvider(std::shared_ptr<CredentialsProvider> inner, Clock& clock,
                                                       std::chrono::seconds refresh_before)
    : inner_(std::move(inner)), clock_(clock), refresh_before_(refresh_before) {}

void CachingCredentialsProvider::invalidate() {
  std::lock_guard lock(mu_);
  cached_.reset();
  refresh_at_.reset();
  inner_->invalidate();
}

Result<Credentials> CachingCredentialsProvider::get() {
  std::lock_guard lock(mu_);
  const auto now = clock_.now();
  if (cached_ && (!refresh_at_ || now < *refresh_at_)) return *cached_;
  auto fresh = inner_->get();
  if (fresh.ok()) {
    cached_ = *fresh;
    refresh_at_.reset();
    if (const auto& exp = fresh->expiration) {
      refresh_at_ = *exp - refresh_before_;
      // Credentials handed out close to their expiry: use them for half their remaining life
      // rather than asking again at every call.
      if (*refresh_at_ <= now) refresh_at_ = now + (*exp - now) / 2;
    }
    return fresh;
  }
  if (cached_ && cached_->expiration && now < *cached_->expiration) {
    // Still valid for a while: keep working, and try again at the next call.
    spdlog::warn("refreshing AWS credentials from {} failed, using the current ones until they expire: {}",
                 inner_->name(), fresh.error().describe());
    return *cached_;
  }
  return fresh;
}

// --- chain ---------------------------------------------------------------------------------

ChainCredentialsProvider::ChainCredentialsProvider(std::vector<std::shared_ptr<CredentialsProvider>> providers)
    : providers_(std::move(providers)) {}

void ChainCredentialsProvider::invalidate() {
  std::shared_ptr<CredentialsProvider> chosen;
  {
    std::lock_guard lock(mu_);
    chosen = chosen_;
  }
  if (chosen) chosen->invalidate();
}

Result<Credentials> ChainCredentialsProvider::get() {
  std::unique_lock lock(mu_);
  if (chosen_) {
    auto chosen = chosen_;
    lock.unlock();
    return chosen->get();
  }
  std::string tried;
  for (const auto& p : providers_) {
    auto r = p->get();
    if (r.ok()) {
      spdlog::debug("AWS credentials from {}", p->name());
      chosen_ = p;
      return r;
    }
    if (!tried.empty()) tried += "; ";
    tried += p->name() + ": " + r.error().message;
  }
  return auth_error("no AWS credentials found; tried " + tried);
}

std::shared_ptr<CredentialsProvider> default_credentials_chain(Clock& clock) {
  std::vector<std::shared_ptr<CredentialsProvider>> providers;
  providers.push_back(std::make_shared<EnvironmentCredentialsProvider>());
  providers.push_back(std::make_shared<ProfileCredentialsProvider>());
  providers.push_back(
      std::make_shared<CachingCredentialsProvider>(std::make_shared<ContainerCredentialsProvider>(), clock));
  providers.push_back(
      std::make_shared<CachingCredentialsProvider>(std::make_shared<ImdsCredentialsProvider>(clock), clock));
  return std::make_shared<ChainCredentialsProvider>(std::move(providers));
}

std::string default_region() {
  if (std::string r = env("AWS_REGION"); !r.empty()) return r;
  if (std::string r = env("AWS_DEFAULT_REGION"); !r.empty()) return r;
  if (auto settings = detail::load_profile(profile_name(), credentials_file_path(), config_file_path())) {
    if (const std::string* r = find_setting(*settings, "region"); r != nullptr && !r->empty()) return *r;
  }
  return "us-east-1";
}

}  // namespace dynarep::aws
