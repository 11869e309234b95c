// moto (moto_server), the second, independent local AWS implementation: one process on one
// free loopback port serves DynamoDB, DynamoDB Streams, Kinesis, S3, STS and IAM. Its DynamoDB
// has TransactWriteItems, which dynalite lacks.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>

namespace dynarep::testing {

// One moto_server process, started with this process's environment plus `extra_env` (e.g.
// INITIAL_NO_AUTH_ACTION_COUNT for a moto that enforces IAM), stopped by PID when destroyed.
// url() is "http://127.0.0.1:PORT", or "" when moto_server is not installed (the caller skips,
// saying so: scripts/setup.sh installs it where pip can). Throws when it does not start.
class MotoServer {
 public:
  explicit MotoServer(const std::map<std::string, std::string>& extra_env = {});
  ~MotoServer();
  MotoServer(const MotoServer&) = delete;
  MotoServer& operator=(const MotoServer&) = delete;
  [[nodiscard]] const std::string& url() const { return url_; }

 private:
  pid_t pid_ = 0;
  std::string url_;
};

// The shared moto of a test binary (no IAM enforcement): started on first use, stopped at exit.
const std::string& moto_endpoint();

}  // namespace dynarep::testing
