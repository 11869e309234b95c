// AWS credentials and the standard provider chain, in the AWS CLI's order and with its
// settings: environment -> web identity (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE) -> the
// profile (static keys, role_arn with source_profile or credential_source, web identity,
// IAM Identity Center (SSO), credential_process) -> container -> IMDSv2; plus region resolution.
// Temporary credentials are cached and refreshed before they expire (CachingCredentialsProvider).
//
// References: the AWS SDKs and Tools Reference Guide, "Standardized credential providers"
// (https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html), "Assume role
// credential provider", "IAM Identity Center credential provider", "Process credential
// provider", "Container credential provider", "IMDS credential provider", and "Shared config
// and credentials files".
#pragma once

#include <chrono>
#include <condition_variable>
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

// Whose credentials a client uses: a named profile and/or a role to assume on top
// (--replica-profile B --replica-role-arn arn:...). Empty: the default chain.
struct CredentialsSpec {
  std::string profile{};   // empty: the default chain (which reads AWS_PROFILE itself)
  std::string role_arn{};  // empty: no role assumed on top
  [[nodiscard]] bool empty() const { return profile.empty() && role_arn.empty(); }
  // "profile B, role arn:aws:iam::2:role/r" / "default chain", for messages and cache keys.
  [[nodiscard]] std::string describe() const;
};

// An AssumeRole / AssumeRoleWithWebIdentity request (aws/sts.h sends it).
struct AssumeRoleParams {
  std::string role_arn{};
  std::string session_name{};  // empty: "dynarep-<epoch seconds>"
  std::string external_id{};   // optional (AssumeRole only)
  std::optional<int> duration_seconds{};  // optional; STS's default is 3600
};

// Thread-safe: get() may be called from many threads at once.
//
// Error codes: "NoCredentials" means "not configured here" (the chain tries the next provider);
// any other code means the provider is configured but broken (a profile's role cannot be
// assumed, its credential_process fails): the chain stops there and reports it, rather than
// silently signing with another identity (the AWS CLI does the same).
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

// A profile of the shared credentials file ([name] sections) and config file ([profile name]
// sections, [default]); the credentials file wins key by key. Empty arguments mean:
// AWS_PROFILE (default "default"), AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials),
// AWS_CONFIG_FILE (default ~/.aws/config), read when constructed. At the first get() the
// profile is resolved, as the AWS CLI does, into the provider it describes (kept from then on):
//   role_arn (without web_identity_token_file): AssumeRole with the credentials of
//     source_profile (itself a profile of any kind; chains followed, a loop is an error naming
//     it; a profile may name itself to use its own static keys) or credential_source
//     (Environment, Ec2InstanceMetadata, EcsContainer); external_id, role_session_name,
//     duration_seconds; mfa_serial is refused (dynarep cannot prompt for a code).
//   web_identity_token_file + role_arn: AssumeRoleWithWebIdentity.
//   sso_session (its [sso-session name] section) or legacy sso_start_url/sso_region, with
//     sso_account_id and sso_role_name: IAM Identity Center.
//   aws_access_key_id + aws_secret_access_key (+ aws_session_token): static keys.
//   credential_process: an external program.
// STS calls go to the region of AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`, else
// us-east-1. Temporary credentials are cached and refreshed through `clock`.
class ProfileCredentialsProvider final : public CredentialsProvider {
 public:
  explicit ProfileCredentialsProvider(std::string profile = "", std::string credentials_file = "",
                                      std::string config_file = "", Clock& clock = SystemClock::instance());
  Result<Credentials> get() override;
  void invalidate() override;
  [[nodiscard]] std::string name() const override;

 private:
  std::string profile_, credentials_file_, config_file_;
  Clock& clock_;
  std::mutex mu_;
  std::shared_ptr<CredentialsProvider> resolved_;
};

// AssumeRole with the credentials of `source`, at STS in `region` (AWS_ENDPOINT_URL_STS /
// AWS_ENDPOINT_URL override it). `origin` says where the role was configured ("profile dev",
// "--replica-role-arn"), for messages. Uncached: wrap it in a CachingCredentialsProvider.
class AssumeRoleCredentialsProvider final : public CredentialsProvider {
 public:
  AssumeRoleCredentialsProvider(std::shared_ptr<CredentialsProvider> source, AssumeRoleParams params,
                                std::string region, std::string origin, Clock& clock = SystemClock::instance());
  Result<Credentials> get() override;
  void invalidate() override { source_->invalidate(); }
  [[nodiscard]] std::string name() const override;

 private:
  std::shared_ptr<CredentialsProvider> source_;
  AssumeRoleParams params_;
  std::string region_, origin_;
  Clock& clock_;
};

// AssumeRoleWithWebIdentity with the token in `token_file`, read again at every get() (EKS
// rotates it). Uncached: wrap it in a CachingCredentialsProvider.
class WebIdentityCredentialsProvider final : public CredentialsProvider {
 public:
  WebIdentityCredentialsProvider(std::string token_file, AssumeRoleParams params, std::string region,
                                 std::string origin, Clock& clock = SystemClock::instance());
  // The environment's web identity (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE,
  // AWS_ROLE_SESSION_NAME), or null when AWS_ROLE_ARN or AWS_WEB_IDENTITY_TOKEN_FILE is unset.
  static std::shared_ptr<WebIdentityCredentialsProvider> from_environment(Clock& clock);
  Result<Credentials> get() override;
  [[nodiscard]] std::string name() const override;

 private:
  std::string token_file_;
  AssumeRoleParams params_;
  std::string region_, origin_;
  Clock& clock_;
};

// credential_process: runs the command directly (split into arguments like a POSIX shell
// would, quotes and backslashes honoured, but never through a shell), its stderr passed
// through to ours, and reads the JSON it prints: {"Version": 1, "AccessKeyId", "SecretAccessKey",
// "SessionToken" (optional), "Expiration" (optional, ISO 8601)}. Output is never quoted in
// errors (it holds secrets). Uncached: wrap it in a CachingCredentialsProvider.
class ProcessCredentialsProvider final : public CredentialsProvider {
 public:
  ProcessCredentialsProvider(std::string command, std::string origin);
  Result<Credentials> get() override;
  [[nodiscard]] std::string name() const override;

 private:
  std::string command_, origin_;
};

// IAM Identity Center: the access token that `aws sso login` cached in
// ~/.aws/sso/cache/<sha1(session name, or start URL for legacy profiles)>.json, exchanged at
// portal.sso.<sso_region>.amazonaws.com (AWS_ENDPOINT_URL_SSO) by GetRoleCredentials. A missing
// or expired token is an error saying to run `aws sso login --profile <profile>` (dynarep does
// not refresh SSO tokens itself). Uncached: wrap it in a CachingCredentialsProvider.
struct SsoSettings {
  std::string session_name{};  // empty for a legacy profile
  std::string start_url{};
  std::string region{};
  std::string account_id{};
  std::string role_name{};
};
class SsoCredentialsProvider final : public CredentialsProvider {
 public:
  SsoCredentialsProvider(SsoSettings settings, std::string profile, Clock& clock = SystemClock::instance());
  Result<Credentials> get() override;
  [[nodiscard]] std::string name() const override;

 private:
  SsoSettings settings_;
  std::string profile_;
  Clock& clock_;
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
// While the cached credentials are still valid, a refresh runs in one caller while the others
// keep using them, and a failed refresh keeps them and is retried after a backoff (1 s,
// doubling, at most `max_backoff`), so a daemon rides out an STS outage for as long as its
// credentials last. Once they have expired, every get() fails with an error naming the
// provider (profile, role) and the refresh failure; refreshes keep being retried with the
// same backoff. Without any valid credentials, concurrent callers wait for the one refresh.
class CachingCredentialsProvider final : public CredentialsProvider {
 public:
  CachingCredentialsProvider(std::shared_ptr<CredentialsProvider> inner, Clock& clock,
                             std::chrono::seconds refresh_before = std::chrono::minutes(5),
                             std::chrono::seconds max_backoff = std::chrono::seconds(60));
  Result<Credentials> get() override;
  void invalidate() override;
  [[nodiscard]] std::string name() const override { return inner_->name(); }

 private:
  std::shared_ptr<CredentialsProvider> inner_;
  Clock& clock_;
  std::chrono::seconds refresh_before_, max_backoff_;
  std::mutex mu_;
  std::condition_variable refreshed_;
  bool refreshing_ = false;
  std::optional<Credentials> cached_;
  std::optional<std::chrono::system_clock::time_point> refresh_at_;  // unset: no expiry
  int failures_ = 0;                                       // refreshes failed in a row
  std::chrono::system_clock::time_point retry_at_{};       // no refresh before this after a failure
  std::optional<Error> last_error_;                        // the last refresh failure
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

// environment -> web identity from the environment -> shared files (AWS_PROFILE, resolved as
// ProfileCredentialsProvider says) -> container -> IMDSv2 (unless
// AWS_EC2_METADATA_DISABLED=true); the temporary ones cached and refreshed through `clock`.
std::shared_ptr<CredentialsProvider> default_credentials_chain(Clock& clock = SystemClock::instance());

// The provider for a spec: the default chain (a new one) for an empty spec; else the named
// profile alone (as `aws --profile B`: environment keys do not override it) or the default
// chain, with the role assumed on top when role_arn is set. Non-empty specs get ONE provider
// per process, so all clients of one side share one cache and one refresh.
std::shared_ptr<CredentialsProvider> credentials_for(const CredentialsSpec& spec,
                                                     Clock& clock = SystemClock::instance());

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
// A credential_process command line split into arguments as a POSIX shell would (botocore
// uses shlex.split): blanks separate, '...' is literal, "..." honours \\ \" \$ \`, a backslash
// outside quotes escapes the next character. No expansion of any kind. Error on an unclosed quote.
Result<std::vector<std::string>> split_command(std::string_view command);
// Shared helpers of credentials*.cpp: an environment variable ("" when unset), $HOME (else the
// passwd entry), a whole small file (nullopt when unreadable), text without surrounding blanks.
std::string env(const char* name);
std::string home_dir();
std::optional<std::string> read_file(const std::string& path);
std::string_view trim(std::string_view s);
// A named section of the config file ("sso-session my-sso"), or nullopt.
std::optional<std::vector<std::pair<std::string, std::string>>> load_section(const std::string& config_file,
                                                                             const std::string& section);
}  // namespace detail

}  // namespace dynarep::aws
