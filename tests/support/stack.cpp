#include "support/stack.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>

#include "support/process.h"

namespace dynarep::testing {
namespace {

std::string own_stack_dir;

void stop_own_stack() {
  if (own_stack_dir.empty()) return;
  run_process({source_dir() + "/scripts/local-stack.sh", "stop", own_stack_dir});
}

// Reads `export NAME=value` lines into the environment and the endpoints.
StackEndpoints load_env_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("local stack env file missing: " + path);
  std::string line;
  while (std::getline(in, line)) {
    const std::string prefix = "export ";
    if (line.rfind(prefix, 0) != 0) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string name = line.substr(prefix.size(), eq - prefix.size());
    std::string value = line.substr(eq + 1);
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  auto get = [](const char* n) {
    const char* v = std::getenv(n);
    if (v == nullptr) throw std::runtime_error(std::string("local stack env lacks ") + n);
    return std::string(v);
  };
  return StackEndpoints{get("AWS_ENDPOINT_URL_DYNAMODB"), get("AWS_ENDPOINT_URL_KINESIS"),
                        get("AWS_ENDPOINT_URL_S3")};
}

}  // namespace

std::string source_dir() {
  if (const char* d = std::getenv("DYNAREP_SOURCE_DIR")) return d;
  return DYNAREP_SOURCE_DIR_DEFAULT;
}

const StackEndpoints& local_stack() {
  static std::once_flag once;
  static StackEndpoints endpoints;
  std::call_once(once, [] {
    // Config files on the developer's machine must not leak into tests.
    ::setenv("AWS_CONFIG_FILE", "/nonexistent/dynarep-test-config", 1);
    ::setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/dynarep-test-credentials", 1);
    ::unsetenv("AWS_PROFILE");
    if (const char* f = std::getenv("DYNAREP_STACK_ENV"); f != nullptr && *f != '\0') {
      endpoints = load_env_file(f);
      return;
    }
    own_stack_dir = "/tmp/dynarep-test-stack-" + std::to_string(::getpid());
    auto r = run_process({source_dir() + "/scripts/local-stack.sh", "start", own_stack_dir});
    if (r.exit_code != 0) throw std::runtime_error("could not start the local stack: " + r.err);
    std::atexit(stop_own_stack);
    endpoints = load_env_file(own_stack_dir + "/stack.env");
  });
  return endpoints;
}

std::string unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  static const unsigned salt = std::random_device{}();
  std::ostringstream s;
  s << prefix << "-" << ::getpid() << "-" << counter++ << "-" << std::hex << (salt & 0xffffu);
  return s.str();
}

}  // namespace dynarep::testing
