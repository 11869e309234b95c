// A bucket of its own for each test, on the local stack's s3rver.
#pragma once

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "s3/client.h"
#include "support/stack.h"

namespace dynarep::s3::testing {

// The client a user would get: endpoint from AWS_ENDPOINT_URL_S3, credentials from the chain.
inline Client stack_client(ClientOptions options = {}) {
  dynarep::testing::local_stack();
  return Client::connect("us-east-1", "", options);
}

inline std::string random_body(std::size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t v = rng();
    for (int b = 0; b < 8; ++b) s[i + static_cast<std::size_t>(b)] = static_cast<char>(v >> (8 * b));
  }
  for (; i < n; ++i) s[i] = static_cast<char>(rng());
  return s;
}

class S3Test : public ::testing::Test {
 protected:
  void SetUp() override {
    client_.emplace(stack_client());
    bucket_ = dynarep::testing::unique_name("dr-s3");
    Status st = client().create_bucket(bucket_);
    ASSERT_TRUE(st.ok()) << st.error().describe();
  }

  void TearDown() override {
    if (!client_) return;
    std::vector<std::string> keys;
    Status st = client().for_each_object(bucket_, {}, [&](const ListedObject& o) -> Status {
      keys.push_back(o.key);
      return {};
    });
    if (st.ok() && !keys.empty()) client().delete_objects(bucket_, keys).ignore_error();
    client().delete_bucket(bucket_).ignore_error();  // best effort: the stack is thrown away anyway
  }

  const Client& client() const { return *client_; }
  const std::string& bucket() const { return bucket_; }

 private:
  std::optional<Client> client_;
  std::string bucket_;
};

}  // namespace dynarep::s3::testing
