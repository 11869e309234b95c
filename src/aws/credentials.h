// AWS credentials and the standard provider chain (environment, shared files with AWS_PROFILE,
// container credentials, IMDSv2).
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace dynarep::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
  std::optional<std::chrono::system_clock::time_point> expiration;
};

}  // namespace dynarep::aws
