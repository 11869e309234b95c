// The local AWS stack as tests see it. Under ctest, the `local_stack` fixture has started one
// stack and DYNAREP_STACK_ENV names its env file; run directly, a test binary starts its own
// stack on first use and stops it at exit.
#pragma once

#include <string>

namespace dynarep::testing {

struct StackEndpoints {
  std::string dynamodb;  // http://127.0.0.1:PORT
  std::string kinesis;
  std::string s3;
};

// Starts the stack if needed and exports AWS_ENDPOINT_URL_* and dummy credentials into this
// process's environment, so code under test finds it the way a user's shell would.
const StackEndpoints& local_stack();

// A name no other test in this run uses: "<prefix>-<pid>-<counter>-<random>".
std::string unique_name(const std::string& prefix);

// The source tree (for test data and scripts).
std::string source_dir();

}  // namespace dynarep::testing
