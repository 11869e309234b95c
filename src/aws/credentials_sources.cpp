// The providers of temporary credentials that a profile (or the environment) can name: an
// assumed role, a web identity, an external process, IAM Identity Center. credentials.cpp
// decides which one a profile describes.
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <simdjson.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "aws/credentials.h"
#include "aws/errors.h"
#include "aws/location.h"
#include "aws/sigv4.h"
#include "aws/sts.h"
#include "crypto/checksum.h"
#include "http/client.h"

extern char** environ;  // NOLINT: POSIX

namespace dynarep::aws {
namespace {

using detail::env;
using detail::trim;

Error failed(std::string code, std::string message) { return Error(ErrorKind::kAuth, std::move(code), std::move(message)); }

// Keeps an error's kind (a transient STS failure stays retryable) but makes sure it is never
// "NoCredentials": the provider is configured, so the chain must not move on to another identity.
Error configured_failure(Error e) {
  if (e.code == "NoCredentials") e.code = "CredentialsFailed";
  return e;
}

}  // namespace

// --- assumed role --------------------------------------------------------------------------

AssumeRoleCredentialsProvider::AssumeRoleCredentialsProvider(std::shared_ptr<CredentialsProvider> source,
                                                             AssumeRoleParams params, std::string region,
                                                             std::string origin, Clock& clock)
    : source_(std::move(source)), params_(std::move(params)), region_(std::move(region)), origin_(std::move(origin)),
      clock_(clock) {}

std::string AssumeRoleCredentialsProvider::name() const {
  return fmt::format("role {} ({})", params_.role_arn, origin_);
}

Result<Credentials> AssumeRoleCredentialsProvider::get() {
  auto creds = assume_role(resolve_endpoint(Service::kSts, region_), source_, params_, clock_);
  if (!creds.ok()) {
    Error e = configured_failure(std::move(creds).error());
    e.with_context(origin_);
    return e;
  }
  return creds;
}

// --- web identity --------------------------------------------------------------------------

WebIdentityCredentialsProvider::WebIdentityCredentialsProvider(std::string token_file, AssumeRoleParams params,
                                                               std::string region, std::string origin, Clock& clock)
    : token_file_(std::move(token_file)), params_(std::move(params)), region_(std::move(region)),
      origin_(std::move(origin)), clock_(clock) {}

std::shared_ptr<WebIdentityCredentialsProvider> WebIdentityCredentialsProvider::from_environment(Clock& clock) {
  const std::string role = env("AWS_ROLE_ARN");
  const std::string file = env("AWS_WEB_IDENTITY_TOKEN_FILE");
  if (role.empty() || file.empty()) return nullptr;
  AssumeRoleParams p;
  p.role_arn = role;
  p.session_name = env("AWS_ROLE_SESSION_NAME");
  return std::make_shared<WebIdentityCredentialsProvider>(file, std::move(p), default_region(),
                                                          "AWS_ROLE_ARN/AWS_WEB_IDENTITY_TOKEN_FILE", clock);
}

std::string WebIdentityCredentialsProvider::name() const {
  return fmt::format("web identity {} with token file {} ({})", params_.role_arn, token_file_, origin_);
}

Result<Credentials> WebIdentityCredentialsProvider::get() {
  auto token = detail::read_file(token_file_);
  if (!token) {
    return failed("CredentialsFailed", fmt::format("cannot read the web identity token file {} ({}): {}", token_file_,
                                                   origin_, std::strerror(errno)));
  }
  const std::string_view t = trim(*token);
  if (t.empty()) return failed("CredentialsFailed", fmt::format("the web identity token file {} is empty", token_file_));
  auto creds = assume_role_with_web_identity(resolve_endpoint(Service::kSts, region_), params_, t, clock_);
  if (!creds.ok()) {
    Error e = configured_failure(std::move(creds).error());
    e.with_context(fmt::format("{}, token file {}", origin_, token_file_));
    return e;
  }
  return creds;
}

// --- credential_process --------------------------------------------------------------------

namespace detail {

Result<std::vector<std::string>> split_command(std::string_view command) {
  std::vector<std::string> out;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < command.size(); ++i) {
    const char c = command[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) out.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\\') {
      if (i + 1 < command.size()) word += command[++i];
    } else if (c == '\'') {
      const auto close = command.find('\'', i + 1);
      if (close == std::string_view::npos) return invalid_input("credential_process has an unclosed ' quote");
      word += command.substr(i + 1, close - i - 1);
      i = close;
    } else if (c == '"') {
      size_t j = i + 1;
      for (; j < command.size() && command[j] != '"'; ++j) {
        if (command[j] == '\\' && j + 1 < command.size() &&
            std::string_view("\\\"$`\n").find(command[j + 1]) != std::string_view::npos) {
          ++j;
        }
        word += command[j];
      }
      if (j >= command.size()) return invalid_input("credential_process has an unclosed \" quote");
      i = j;
    } else {
      word += c;
    }
  }
  if (in_word) out.push_back(std::move(word));
  return out;
}

}  // namespace detail

ProcessCredentialsProvider::ProcessCredentialsProvider(std::string command, std::string origin)
    : command_(std::move(command)), origin_(std::move(origin)) {}

std::string ProcessCredentialsProvider::name() const { return fmt::format("credential_process ({})", origin_); }

Result<Credentials> ProcessCredentialsProvider::get() {
  auto argv_r = detail::split_command(command_);
  if (!argv_r.ok() || argv_r->empty()) {
    return failed("CredentialsFailed", fmt::format("credential_process of {} is not a command line{}", origin_,
                                                   argv_r.ok() ? "" : ": " + argv_r.error().message));
  }
  const std::vector<std::string>& args = *argv_r;
  const std::string& program = args.front();
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return failed("CredentialsFailed", fmt::format("credential_process of {}: pipe: {}", origin_, std::strerror(errno)));
  }
  // stdout to our pipe; stdin from /dev/null (never our stdin: that is data for some commands);
  // stderr stays ours, so the program's own messages reach the user.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  // Run directly, never through a shell: the command line is split above, as the AWS CLI does.
  const int rc = ::posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return failed("CredentialsFailed",
                  fmt::format("credential_process of {}: cannot run '{}': {}", origin_, program, std::strerror(rc)));
  }
  // Bounded: a credentials document is well under 64 KiB; more is a broken program.
  constexpr size_t kMaxOutput = 64 * 1024;
  std::string out;
  char buf[4096];
  bool too_long = false;
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (out.size() + static_cast<size_t>(n) > kMaxOutput) {
      too_long = true;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (too_long) {
    return failed("CredentialsFailed", fmt::format("credential_process of {} ('{}') printed more than {} bytes",
                                                   origin_, program, kMaxOutput));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const std::string how = WIFEXITED(status) ? fmt::format("exited with status {}", WEXITSTATUS(status))
                                              : fmt::format("was killed by signal {}", WTERMSIG(status));
    return failed("CredentialsFailed",
                  fmt::format("credential_process of {} ('{}') {} (its own messages are above)", origin_, program, how));
  }
  // Never quote the output in errors: it holds the secret key.
  const std::string source = fmt::format("credential_process of {} ('{}')", origin_, program);
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(out).get(obj) != simdjson::SUCCESS) {
    return failed("CredentialsFailed", source + " did not print a JSON object");
  }
  int64_t version = 0;
  if (obj["Version"].get(version) != simdjson::SUCCESS || version != 1) {
    return failed("CredentialsFailed", source + " printed JSON without \"Version\": 1");
  }
  auto str = [&](const char* key) -> std::string {
    std::string_view v;
    return obj[key].get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
  };
  Credentials c{str("AccessKeyId"), str("SecretAccessKey"), str("SessionToken"), std::nullopt};
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return failed("CredentialsFailed", source + " printed no AccessKeyId/SecretAccessKey");
  }
  if (std::string exp = str("Expiration"); !exp.empty()) {
    c.expiration = detail::parse_iso8601(exp);
    if (!c.expiration) return failed("CredentialsFailed", fmt::format("{} printed an unreadable Expiration '{}'", source, exp));
  }
  return c;
}

// --- IAM Identity Center -------------------------------------------------------------------

SsoCredentialsProvider::SsoCredentialsProvider(SsoSettings settings, std::string profile, Clock& clock)
    : settings_(std::move(settings)), profile_(std::move(profile)), clock_(clock) {}

std::string SsoCredentialsProvider::name() const {
  return fmt::format("IAM Identity Center (profile {}, account {}, role {})", profile_, settings_.account_id,
                     settings_.role_name);
}

Result<Credentials> SsoCredentialsProvider::get() {
  const std::string login = fmt::format("run `aws sso login --profile {}`", profile_);
  const std::string key = settings_.session_name.empty() ? settings_.start_url : settings_.session_name;
  const std::string file = detail::home_dir() + "/.aws/sso/cache/" + crypto::sha1_hex(key) + ".json";
  auto text = detail::read_file(file);
  if (!text) {
    return failed("SsoLoginRequired", fmt::format("profile '{}' has no IAM Identity Center token ({} is missing); {}",
                                                  profile_, file, login));
  }
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  std::string_view token;
  std::string_view expires;
  if (parser.parse(*text).get(obj) != simdjson::SUCCESS || obj["accessToken"].get(token) != simdjson::SUCCESS ||
      obj["expiresAt"].get(expires) != simdjson::SUCCESS) {
    return failed("SsoLoginRequired",
                  fmt::format("the IAM Identity Center token of profile '{}' ({}) is unreadable; {}", profile_, file, login));
  }
  // The CLI writes "2024-05-01T12:00:00Z"; older versions wrote "...UTC".
  std::string when(expires);
  if (when.ends_with("UTC")) when = when.substr(0, when.size() - 3) + "Z";
  const auto expiry = detail::parse_iso8601(when);
  if (!expiry || clock_.now() >= *expiry) {
    return failed("SsoLoginRequired", fmt::format("the IAM Identity Center token of profile '{}' expired at {} ({}); {}",
                                                  profile_, expires, file, login));
  }
  const Endpoint portal = resolve_endpoint(Service::kSso, settings_.region);
  http::Request req;
  req.url = fmt::format("{}/federation/credentials?account_id={}&role_name={}", portal.url,
                        uri_encode(settings_.account_id), uri_encode(settings_.role_name));
  req.headers = {{"x-amz-sso_bearer_token", std::string(token)}};
  req.timeout = std::chrono::seconds(10);
  http::Client http;
  auto resp = http.send(req);
  if (!resp.ok() && resp.error().retryable()) resp = http.send(req);
  const std::string what = fmt::format("GetRoleCredentials {} for profile '{}' (account {}, role {})", portal.url,
                                       profile_, settings_.account_id, settings_.role_name);
  if (!resp.ok()) {
    Error e = configured_failure(std::move(resp).error());
    e.with_context(what);
    return e;
  }
  if (resp->status != 200) {
    Error e = configured_failure(error_from_response(*resp));
    if (resp->status == 401 || resp->status == 403) {
      e.kind = ErrorKind::kAuth;
      e.message += "; " + login;
    }
    e.with_context(what);
    return e;
  }
  simdjson::dom::parser answer_parser;
  simdjson::dom::object role;
  if (answer_parser.parse(resp->body).get(obj) != simdjson::SUCCESS ||
      obj["roleCredentials"].get(role) != simdjson::SUCCESS) {
    return failed("CredentialsFailed", what + ": the answer has no roleCredentials object");
  }
  auto str = [&](const char* k) -> std::string {
    std::string_view v;
    return role[k].get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
  };
  Credentials c{str("accessKeyId"), str("secretAccessKey"), str("sessionToken"), std::nullopt};
  int64_t expiration_ms = 0;
  if (c.access_key_id.empty() || c.secret_access_key.empty() ||
      role["expiration"].get(expiration_ms) != simdjson::SUCCESS) {
    return failed("CredentialsFailed", what + ": the answer lacks accessKeyId, secretAccessKey or expiration");
  }
  c.expiration = std::chrono::system_clock::time_point(std::chrono::milliseconds(expiration_ms));
  return c;
}

}  // namespace dynarep::aws
