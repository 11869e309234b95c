#include "aws/credentials.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <pwd.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <map>
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

using detail::env;
using detail::home_dir;
using detail::read_file;
using detail::trim;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Error auth_error(std::string message) { return Error(ErrorKind::kAuth, "NoCredentials", std::move(message)); }

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

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

std::string home_dir() {
  if (std::string h = env("HOME"); !h.empty()) return h;
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) return pw->pw_dir;
  return "";
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<Settings> load_section(const std::string& config_file, const std::string& section) {
  auto text = read_file(config_file);
  if (!text) return std::nullopt;
  const IniFile ini = parse_ini(*text);
  const Settings* found = ini.section(section);
  if (found == nullptr) return std::nullopt;
  return *found;
}

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
                                                       std::string config_file, Clock& clock)
    : profile_(profile.empty() ? profile_name() : std::move(profile)),
      credentials_file_(credentials_file.empty() ? credentials_file_path() : std::move(credentials_file)),
      config_file_(config_file.empty() ? config_file_path() : std::move(config_file)),
      clock_(clock) {}

std::string ProfileCredentialsProvider::name() const { return fmt::format("shared files (profile {})", profile_); }

void ProfileCredentialsProvider::invalidate() {
  std::shared_ptr<CredentialsProvider> resolved;
  {
    std::lock_guard lock(mu_);
    resolved = resolved_;
  }
  if (resolved) resolved->invalidate();
}

namespace {

Error profile_error(std::string message) { return Error(ErrorKind::kAuth, "InvalidProfile", std::move(message)); }

// Turns profiles into providers, following source_profile chains.
class ProfileResolver {
 public:
  ProfileResolver(const std::string& credentials_file, const std::string& config_file, Clock& clock)
      : credentials_file_(credentials_file), config_file_(config_file), clock_(clock) {}

  // `path` holds the profiles that led here (source_profile), to name a loop.
  Result<std::shared_ptr<CredentialsProvider>> resolve(const std::string& profile, std::vector<std::string>& path) {
    auto settings = detail::load_profile(profile, credentials_file_, config_file_);
    if (!settings) {
      const std::string where = fmt::format("not found in {} or {}", credentials_file_, config_file_);
      if (path.empty()) return auth_error(fmt::format("profile '{}' {}", profile, where));
      return profile_error(fmt::format("profile '{}' names source_profile '{}', which is {}", path.back(), profile, where));
    }
    const Settings& s = *settings;
    if (path.empty()) sts_region_ = sts_region(s);  // the selected profile's, for every hop
    auto get = [&](std::string_view key) -> std::string {
      const std::string* v = find_setting(s, key);
      return v == nullptr ? std::string() : *v;
    };
    const std::string role_arn = get("role_arn");
    const std::string token_file = get("web_identity_token_file");
    if (!role_arn.empty() && token_file.empty()) return assume_role(profile, s, role_arn, path);
    if (!token_file.empty()) {
      if (role_arn.empty()) {
        return profile_error(fmt::format("profile '{}' has web_identity_token_file but no role_arn", profile));
      }
      return cached(std::make_shared<WebIdentityCredentialsProvider>(
          expand_home(token_file), role_params(s, role_arn), sts_region_, "profile " + profile, clock_));
    }
    if (!get("sso_session").empty() || !get("sso_start_url").empty()) return sso(profile, s);
    const std::string key = get("aws_access_key_id");
    const std::string secret = get("aws_secret_access_key");
    if (!key.empty() && !secret.empty()) {
      return std::shared_ptr<CredentialsProvider>(
          std::make_shared<StaticCredentialsProvider>(Credentials{key, secret, get("aws_session_token"), std::nullopt}));
    }
    if (!key.empty() || !secret.empty()) {
      return profile_error(fmt::format("profile '{}' has only one of aws_access_key_id and aws_secret_access_key",
                                       profile));
    }
    if (std::string command = get("credential_process"); !command.empty()) {
      return cached(std::make_shared<ProcessCredentialsProvider>(command, "profile " + profile));
    }
    if (!get("login_session").empty()) {
      return profile_error(fmt::format(
          "profile '{}' uses login_session (`aws login`), which dynarep does not support; export keys instead, e.g. "
          "with `eval \"$(aws configure export-credentials --profile {} --format env)\"`",
          profile, profile));
    }
    const std::string message =
        fmt::format("profile '{}' has no credentials (no aws_access_key_id/aws_secret_access_key, role_arn, "
                    "sso_session, sso_start_url or credential_process in {} or {})",
                    profile, credentials_file_, config_file_);
    if (path.empty()) return auth_error(message);
    return profile_error(fmt::format("source_profile of '{}': {}", path.back(), message));
  }

 private:
  std::shared_ptr<CredentialsProvider> cached(std::shared_ptr<CredentialsProvider> p) {
    return std::make_shared<CachingCredentialsProvider>(std::move(p), clock_);
  }

  // Where every AssumeRole / AssumeRoleWithWebIdentity of one chain goes, as the AWS CLI picks
  // it (one STS client for the whole chain, in the command's region): the environment, else
  // the selected profile's `region` (`s`), else us-east-1. Not a source profile's own region,
  // and not AWS_PROFILE's when another profile is selected (--replica-profile X is
  // `aws --profile X`). The CLI's fallback is the global endpoint sts.amazonaws.com, in
  // us-east-1; the regional one used here gives sessions valid in every region.
  static std::string sts_region(const Settings& s) {
    if (std::string r = env("AWS_REGION"); !r.empty()) return r;
    if (std::string r = env("AWS_DEFAULT_REGION"); !r.empty()) return r;
    if (const std::string* r = find_setting(s, "region"); r != nullptr && !r->empty()) return *r;
    return "us-east-1";
  }

  static AssumeRoleParams role_params(const Settings& s, const std::string& role_arn) {
    AssumeRoleParams p;
    p.role_arn = role_arn;
    if (const std::string* v = find_setting(s, "role_session_name")) p.session_name = *v;
    if (const std::string* v = find_setting(s, "external_id")) p.external_id = *v;
    return p;
  }

  Result<std::shared_ptr<CredentialsProvider>> assume_role(const std::string& profile, const Settings& s,
                                                           const std::string& role_arn,
                                                           std::vector<std::string>& path) {
    if (const std::string* mfa = find_setting(s, "mfa_serial"); mfa != nullptr && !mfa->empty()) {
      return profile_error(fmt::format(
          "profile '{}' assumes role {} with mfa_serial {}: dynarep runs unattended and cannot ask for an MFA code; "
          "use a profile without mfa_serial, or export temporary keys (`aws configure export-credentials --profile "
          "{} --format env`)",
          profile, role_arn, *mfa, profile));
    }
    AssumeRoleParams params = role_params(s, role_arn);
    if (const std::string* d = find_setting(s, "duration_seconds"); d != nullptr && !d->empty()) {
      int v = 0;
      auto [p, ec] = std::from_chars(d->data(), d->data() + d->size(), v);
      if (ec != std::errc() || p != d->data() + d->size() || v < 900 || v > 43200) {
        return profile_error(
            fmt::format("profile '{}': duration_seconds '{}' must be a number of seconds from 900 to 43200", profile, *d));
      }
      params.duration_seconds = v;
    }
    const std::string* source_profile = find_setting(s, "source_profile");
    const std::string* credential_source = find_setting(s, "credential_source");
    if (source_profile != nullptr && credential_source != nullptr) {
      return profile_error(fmt::format("profile '{}' sets both source_profile and credential_source; keep one", profile));
    }
    std::shared_ptr<CredentialsProvider> source;
    if (source_profile != nullptr && !source_profile->empty()) {
      if (*source_profile == profile) {
        // A profile may name itself: its own static keys assume its role (the CLI allows this).
        const std::string* key = find_setting(s, "aws_access_key_id");
        const std::string* secret = find_setting(s, "aws_secret_access_key");
        if (key == nullptr || secret == nullptr || key->empty() || secret->empty()) {
          return profile_error(fmt::format(
              "profile '{}' is its own source_profile but has no aws_access_key_id/aws_secret_access_key", profile));
        }
        const std::string* token = find_setting(s, "aws_session_token");
        source = std::make_shared<StaticCredentialsProvider>(
            Credentials{*key, *secret, token == nullptr ? "" : *token, std::nullopt});
      } else {
        path.push_back(profile);
        if (std::find(path.begin(), path.end(), *source_profile) != path.end()) {
          std::string loop;
          for (const auto& p : path) loop += p + " -> ";
          return profile_error(fmt::format("source_profile chain loops: {}{}", loop, *source_profile));
        }
        auto inner = resolve(*source_profile, path);
        path.pop_back();
        if (!inner.ok()) return inner;
        source = *inner;
      }
    } else if (credential_source != nullptr && !credential_source->empty()) {
      if (*credential_source == "Environment") {
        source = std::make_shared<EnvironmentCredentialsProvider>();
      } else if (*credential_source == "Ec2InstanceMetadata") {
        source = cached(std::make_shared<ImdsCredentialsProvider>(clock_));
      } else if (*credential_source == "EcsContainer") {
        source = cached(std::make_shared<ContainerCredentialsProvider>());
      } else {
        return profile_error(fmt::format(
            "profile '{}': credential_source '{}' is not Environment, Ec2InstanceMetadata or EcsContainer", profile,
            *credential_source));
      }
    } else {
      return profile_error(
          fmt::format("profile '{}' has role_arn {} but neither source_profile nor credential_source", profile, role_arn));
    }
    return cached(std::make_shared<AssumeRoleCredentialsProvider>(std::move(source), std::move(params), sts_region_,
                                                                  "profile " + profile, clock_));
  }

  Result<std::shared_ptr<CredentialsProvider>> sso(const std::string& profile, const Settings& s) {
    SsoSettings sso;
    auto get = [&](const Settings& from, std::string_view key) {
      const std::string* v = find_setting(from, key);
      return v == nullptr ? std::string() : *v;
    };
    sso.session_name = get(s, "sso_session");
    if (!sso.session_name.empty()) {
      auto section = detail::load_section(config_file_, "sso-session " + sso.session_name);
      if (!section) {
        return profile_error(fmt::format("profile '{}' names sso_session '{}', but {} has no [sso-session {}] section",
                                         profile, sso.session_name, config_file_, sso.session_name));
      }
      sso.start_url = get(*section, "sso_start_url");
      sso.region = get(*section, "sso_region");
    } else {
      sso.start_url = get(s, "sso_start_url");
      sso.region = get(s, "sso_region");
    }
    sso.account_id = get(s, "sso_account_id");
    sso.role_name = get(s, "sso_role_name");
    for (const auto& [key, value] : {std::pair<std::string_view, const std::string*>{"sso_start_url", &sso.start_url},
                                     {"sso_region", &sso.region},
                                     {"sso_account_id", &sso.account_id},
                                     {"sso_role_name", &sso.role_name}}) {
      if (value->empty()) return profile_error(fmt::format("SSO profile '{}' has no {}", profile, key));
    }
    return cached(std::make_shared<SsoCredentialsProvider>(std::move(sso), profile, clock_));
  }

  std::string credentials_file_, config_file_;
  std::string sts_region_ = "us-east-1";  // set by the top-level resolve()
  Clock& clock_;
};

}  // namespace

Result<Credentials> ProfileCredentialsProvider::get() {
  std::shared_ptr<CredentialsProvider> resolved;
  {
    std::lock_guard lock(mu_);
    if (!resolved_) {
      // Resolved once: the files are read at the first call, and a profile's providers keep
      // their caches from then on. A failed resolution is tried again at the next call.
      ProfileResolver resolver(credentials_file_, config_file_, clock_);
      std::vector<std::string> path;
      auto r = resolver.resolve(profile_, path);
      if (!r.ok()) return std::move(r).error();
      resolved_ = *r;
    }
    resolved = resolved_;
  }
  return resolved->get();
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
                                                       std::chrono::seconds refresh_before,
                                                       std::chrono::seconds max_backoff)
    : inner_(std::move(inner)), clock_(clock), refresh_before_(refresh_before), max_backoff_(max_backoff) {}

void CachingCredentialsProvider::invalidate() {
  {
    std::lock_guard lock(mu_);
    cached_.reset();
    refresh_at_.reset();
    failures_ = 0;
    retry_at_ = {};
  }
  inner_->invalidate();
}

Result<Credentials> CachingCredentialsProvider::get() {
  std::unique_lock lock(mu_);
  for (;;) {
    const auto now = clock_.now();
    if (cached_ && (!refresh_at_ || now < *refresh_at_)) return *cached_;
    const bool valid = cached_ && cached_->expiration && now < *cached_->expiration;
    // Due for a refresh but still valid: one caller refreshes, the others go on with these;
    // after a failed refresh nobody tries again before the backoff is over.
    if (valid && (refreshing_ || now < retry_at_)) return *cached_;
    if (!valid && !refreshing_ && now < retry_at_ && last_error_) {
      // Expired, and the last refresh failed a moment ago: say so without asking again at
      // once (a busy daemon would otherwise call STS at every request).
      return *last_error_;
    }
    if (!refreshing_) break;
    refreshed_.wait(lock);  // nothing valid to hand out: wait for the refresh in flight
  }
  refreshing_ = true;
  lock.unlock();
  auto fresh = inner_->get();
  lock.lock();
  refreshing_ = false;
  refreshed_.notify_all();
  const auto now = clock_.now();
  if (fresh.ok()) {
    cached_ = *fresh;
    failures_ = 0;
    retry_at_ = {};
    last_error_.reset();
    refresh_at_.reset();
    if (const auto& exp = fresh->expiration) {
      refresh_at_ = *exp - refresh_before_;
      // Credentials handed out close to their expiry: use them for half their remaining life
      // rather than asking again at every call.
      if (*refresh_at_ <= now) refresh_at_ = now + (*exp - now) / 2;
    }
    return fresh;
  }
  ++failures_;
  const auto backoff = std::min<std::chrono::seconds>(max_backoff_, std::chrono::seconds(int64_t{1} << std::min(failures_ - 1, 16)));
  retry_at_ = now + backoff;
  Error err = std::move(fresh).error();
  if (cached_ && cached_->expiration && now < *cached_->expiration) {
    // Still valid for a while: keep working, and try again after the backoff.
    spdlog::warn("refreshing AWS credentials from {} failed (attempt {}, next in {} s); the current ones stay in use "
                 "until they expire: {}",
                 inner_->name(), failures_, backoff.count(), err.describe());
    return *cached_;
  }
  if (cached_ && cached_->expiration) {
    err.message = fmt::format("credentials from {} expired at {:%Y-%m-%dT%H:%M:%SZ} and refreshing them failed: {}",
                              inner_->name(), std::chrono::floor<std::chrono::seconds>(*cached_->expiration),
                              err.message);
  }
  last_error_ = err;
  return err;
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
    // Configured here but failing (a role that cannot be assumed, a broken credential_process):
    // stop, rather than sign with whatever identity comes next in the chain.
    if (r.error().code != "NoCredentials") {
      Error e = std::move(r).error();
      e.message = p->name() + ": " + e.message;
      return e;
    }
    if (!tried.empty()) tried += "; ";
    tried += p->name() + ": " + r.error().message;
  }
  return auth_error("no AWS credentials found; tried " + tried);
}

std::shared_ptr<CredentialsProvider> default_credentials_chain(Clock& clock) {
  std::vector<std::shared_ptr<CredentialsProvider>> providers;
  providers.push_back(std::make_shared<EnvironmentCredentialsProvider>());
  if (auto web = WebIdentityCredentialsProvider::from_environment(clock)) {
    providers.push_back(std::make_shared<CachingCredentialsProvider>(std::move(web), clock));
  }
  providers.push_back(std::make_shared<ProfileCredentialsProvider>("", "", "", clock));
  providers.push_back(
      std::make_shared<CachingCredentialsProvider>(std::make_shared<ContainerCredentialsProvider>(), clock));
  providers.push_back(
      std::make_shared<CachingCredentialsProvider>(std::make_shared<ImdsCredentialsProvider>(clock), clock));
  return std::make_shared<ChainCredentialsProvider>(std::move(providers));
}

std::string CredentialsSpec::describe() const {
  if (empty()) return "default chain";
  std::string out = profile.empty() ? "default chain" : "profile " + profile;
  if (!role_arn.empty()) out += ", role " + role_arn;
  return out;
}

std::shared_ptr<CredentialsProvider> credentials_for(const CredentialsSpec& spec, Clock& clock) {
  if (spec.empty()) return default_credentials_chain(clock);
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<CredentialsProvider>> providers;
  std::lock_guard lock(mu);
  auto& p = providers[spec.profile + '\n' + spec.role_arn];
  if (p) return p;
  std::shared_ptr<CredentialsProvider> base =
      spec.profile.empty() ? default_credentials_chain(clock)
                           : std::make_shared<ProfileCredentialsProvider>(spec.profile, "", "", clock);
  if (spec.role_arn.empty()) {
    p = std::move(base);
  } else {
    AssumeRoleParams params;
    params.role_arn = spec.role_arn;
    p = std::make_shared<CachingCredentialsProvider>(
        std::make_shared<AssumeRoleCredentialsProvider>(std::move(base), std::move(params), default_region(),
                                                        spec.describe(), clock),
        clock);
  }
  return p;
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
