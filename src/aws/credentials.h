// AWS credentials and the standard provider chain (environment, shared files with AWS_PROFILE,
// container credentials, IMDSv2), plus region resolution.
//
// References: the AWS SDKs and Tools Reference Guide, "Standardized credential providers"
// (https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html), "Container
// credential provider", "IMDS credential provider", and "Shared config and credentials files".
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace dynarep::http {
class Client;
}  // namespace dynarep::http

namespace dynarep::aws {

struct Credentials {
  std::string access_key_id{};
  std::string secret_access_key{};
  std::string session_token{};  // empty for long-term keys
  std::optional<std::chrono::system_clock::time_point> expiration{};
};

// Thread-safe: get() may be called from many threads at once.
class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Credentials to sign with now, or an Error of kind kAuth saying why there are none.
  virtual Result<Credentials> get() = 0;
  // Forget cached credentials, so the next get() fetches new ones (after an ExpiredToken).
  virtual void invalidate() {}
  // What this provider is, for error messages: "environment", "shared files (profile dev)".
  [[nodiscard]] virtual std::string name() const = 0;
};

// Always the same credentials (tests, and keys given on the command line).
class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(Credentials creds) : creds_(std::move(creds)) {}
  Result<Credentials> get() override { return creds_; }
  [[nodiscard]] std::string name() const override { return "static"; }

 private:
  Credentials creds_;
};

// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and optional AWS_SESSION_TOKEN, read at each get().
class EnvironmentCredentialsProvider final : public CredentialsProvider {
 public:
  Result<Credentials> get() override;
  [[nodiscard]] std::string name() const override { return "environment"; }
};

// Keys of a profile in the shared credentials file ([name] sections) or the config file
// ([profile name] sections, [default]); the credentials file wins for the same profile.
// Empty arguments mean: AWS_PROFILE (default "default"), AWS_SHARED_CREDENTIALS_FILE (default
// ~/.aws/credentials), AWS_CONFIG_FILE (default ~/.aws/config), read when constructed.
// Profiles that need features dynarep lacks (role_arn, sso_*, credential_process) fail with an
// Error that says so. The files are read at the first get() and the result cached.
class ProfileCredentialsProvider final : public CredentialsProvider {
 public:
  explicit ProfileCredentialsProvider(std::string profile = "", std::string credentials_file = "",
                                      std::string config_file = "");
  Result<Credentials> get() override;
  void invalidate() override;
  [[nodiscard]] std::string name() const override;

 private:
  std::string profile_, credentials_file_, config_file_;
  std::mutex mu_;
  std::optional<Result<Credentials>> cached_;
};

// ECS/EKS container credentials: GET http://169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
// or $AWS_CONTAINER_CREDENTIALS_FULL_URI (http only to loopback or the ECS/EKS link-local
// addresses; https to any host) with an Authorization header from
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (preferred) or AWS_CONTAINER_AUTHORIZATION_TOKEN.
// Uncached: wrap it in a CachingCredentialsProvider.
class ContainerCredentialsProvider final : public CredentialsProvider {
 public:
  struct Options {
    std::string relative_uri_host = "http://169.254.170.2";  // tests point this at a local server
    std::chrono::milliseconds timeout{2000};
  };
  ContainerCredentialsProvider() : ContainerCredentialsProvider(Options{}) {}
  explicit ContainerCredentialsProvider(Options options) : options_(std::move(options)) {}
  // True when the environment names a container credentials endpoint.
  [[nodiscard]] static bool configured();
  Result<Credentials> get() override;
  [[nodiscard]] std::string name() const override { return "container credentials"; }

 private:
  Options options_;
};

// EC2 instance metadata, IMDSv2: PUT /latest/api/token (token cached for its TTL), then
// GET /latest/meta-data/iam/security-credentials/ for the role and .../<role> for the keys.
// The endpoint is AWS_EC2_METADATA_SERVICE_ENDPOINT or http://169.254.169.254; short timeouts
// (1 s) so that a machine without IMDS fails fast. Uncached: wrap it in a
// CachingCredentialsProvider.
class ImdsCredentialsProvider final : public CredentialsProvider {
 public:
  struct Options {
    std::string endpoint{};  // empty: AWS_EC2_METADATA_SERVICE_ENDPOINT or http://169.254.169.254
    std::chrono::milliseconds timeout{1000};
    std::chrono::seconds token_ttl{21600};  // 6 h, the maximum
  };
  explicit ImdsCredentialsProvider(Clock& clock) : ImdsCredentialsProvider(clock, Options{}) {}
  ImdsCredentialsProvider(Clock& clock, Options options);
  // False when AWS_EC2_METADATA_DISABLED=true.
  [[nodiscard]] static bool enabled();
  Result<Credentials> get() override;
  void invalidate() override;
  [[nodiscard]] std::string name() const override { return "instance metadata (" + endpoint_ + ")"; }

 private:
  Result<std::string> token(http::Client& client);  // requires mu_
  Clock& clock_;
  Options options_;
  std::string endpoint_;
  std::mutex mu_;
  std::string token_;
  std::chrono::steady_clock::time_point token_expiry_{};
};

// Caches temporary credentials and refreshes them `refresh_before` (default 5 min) before they
// expire, judged by the Clock. Credentials without an expiration are kept until invalidate().
// If a refresh fails while the cached credentials have not yet expired, those are used.
// One refresh at a time: concurrent callers wait for it.
class CachingCredentialsProvider final : public CredentialsProvider {
 public:
  CachingCredentialsProvider(std::shared_ptr<CredentialsProvider> inner, Clock& clock,
                             std::chrono::seconds refresh_before = std::chrono::minutes(5));
  Result<Credentials> get() override;
  void invalidate() override;
  [[nodiscard]] std::string name() const override { return inner_->name(); }

 private:
  std::shared_ptr<CredentialsProvider> inner_;
  Clock& clock_;
  std::chrono::seconds refresh_before_;
  std::mutex mu_;
  std::optional<Credentials> cached_;
  std::optional<std::chrono::system_clock::time_point> refresh_at_;  // unset: no expiry
};

// Tries providers in order; the first that gives credentials is used from then on. When none
// does, an Error of kind kAuth (code "NoCredentials") lists what each one said.
class ChainCredentialsProvider final : public CredentialsProvider {
 public:
  explicit ChainCredentialsProvider(std::vector<std::shared_ptr<CredentialsProvider>> providers);
  Result<Credentials> get() override;
  void invalidate() override;
  [[nodiscard]] std::string name() const override { return "default chain"; }

 private:
  std::vector<std::shared_ptr<CredentialsProvider>> providers_;
  std::mutex mu_;
  std::shared_ptr<CredentialsProvider> chosen_;
};

// environment -> shared files (AWS_PROFILE) -> container -> IMDSv2 (unless
// AWS_EC2_METADATA_DISABLED=true); the temporary ones cached and refreshed through `clock`.
std::shared_ptr<CredentialsProvider> default_credentials_chain(Clock& clock = SystemClock::instance());

// AWS_REGION, else AWS_DEFAULT_REGION, else `region` of the AWS_PROFILE profile in the config
// file, else "us-east-1".
std::string default_region();

namespace detail {
// One parsed INI file: section name -> key -> value (keys lower-cased, values trimmed).
// '#' and ';' start comments on their own lines, and after whitespace at the end of a line;
// indented lines under an empty-valued key (nested settings like "s3 =") are skipped.
struct IniFile {
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> sections;
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>* section(const std::string& name) const;
};
IniFile parse_ini(std::string_view text);
// The profile's settings: config file "[profile name]" (or "[default]" for default), then the
// credentials file "[name]" overriding key by key. nullopt when neither file has it.
std::optional<std::vector<std::pair<std::string, std::string>>> load_profile(
    const std::string& profile, const std::string& credentials_file, const std::string& config_file);
// Parses "2024-05-01T12:34:56Z" (also with fractional seconds or a +00:00 offset).
std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text);
// The credentials in a container/IMDS JSON document (AccessKeyId, SecretAccessKey, Token,
// Expiration); `source` names the endpoint in errors.
Result<Credentials> parse_credentials_json(std::string_view json, const std::string& source);
}  // namespace detail

}  // namespace dynarep::aws
