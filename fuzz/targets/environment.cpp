#include <spdlog/spdlog.h>

#include <cstdlib>

#include "targets/targets.h"

namespace dynarep::fuzz {

void setup_environment() {
  // Location parsing reads endpoint overrides and the default region from the environment
  // and the AWS config files: pin them, so an input means the same thing on every machine.
  for (const char* name : {"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_KINESIS",
                           "AWS_ENDPOINT_URL_S3", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_PROFILE",
                           "AWS_DEFAULT_REGION"}) {
    ::unsetenv(name);
  }
  ::setenv("AWS_REGION", "us-east-1", 1);
  ::setenv("AWS_CONFIG_FILE", "/nonexistent/dynarep-fuzz-config", 1);
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/dynarep-fuzz-credentials", 1);
  spdlog::set_level(spdlog::level::off);
}

}  // namespace dynarep::fuzz
