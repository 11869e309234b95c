// moto (moto_server), the second, independent local AWS implementation: one process on one
// free loopback port serves DynamoDB, DynamoDB Streams, Kinesis, S3, STS and IAM. Started once
// per test binary on first use, stopped by PID at exit. Its DynamoDB has TransactWriteItems,
// which dynalite lacks.
#pragma once

#include <string>

namespace dynarep::testing {

// The endpoint ("http://127.0.0.1:PORT"), or "" when moto_server is not installed (the caller
// skips, saying so: scripts/setup.sh installs it where pip can).
const std::string& moto_endpoint();

}  // namespace dynarep::testing
