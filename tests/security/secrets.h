// Credentials the security tests hand to dynarep, and the checks that none of them (nor a
// request signature) shows up in what dynarep prints.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/process.h"

namespace dynarep::security {

// Distinctive values, so a leak cannot hide behind a common substring.
inline const std::string kAccessKey = "AKIDSECURITYTEST0001";
inline const std::string kSecretKey = "sEcReT/KeY+ForTheSecurityTest0123456789Zz";
inline const std::string kSessionToken =
    "IQoJb3JpZ2luX2VjEXAMPLEsessionTOKEN/securityTest+0123456789abcdefGHIJKLmnopQRSTuvwxyz==";

// The environment of a user whose credentials are temporary (access key, secret, token).
inline std::map<std::string, std::string> credential_env() {
  return {{"AWS_ACCESS_KEY_ID", kAccessKey},
          {"AWS_SECRET_ACCESS_KEY", kSecretKey},
          {"AWS_SESSION_TOKEN", kSessionToken},
          {"AWS_REGION", "us-east-1"},
          {"AWS_PROFILE", ""},
          {"AWS_CONFIG_FILE", "/nonexistent/dynarep-security-config"},
          {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/dynarep-security-credentials"},
          // No instance-metadata lookups: the environment has the credentials.
          {"AWS_EC2_METADATA_DISABLED", "true"}};
}

// The hex signature of an "Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
// Signature=<hex>" header value; nullopt when there is none.
inline std::optional<std::string> signature_of(std::string_view authorization) {
  const auto at = authorization.find("Signature=");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view sig = authorization.substr(at + 10);
  sig = sig.substr(0, sig.find_first_of(", "));
  if (sig.empty()) return std::nullopt;
  return std::string(sig);
}

// EXPECTs that `text` holds none of the secrets nor any of `signatures`.
inline void expect_no_secrets(const std::string& text, const std::vector<std::string>& signatures,
                              const std::string& what) {
  EXPECT_EQ(text.find(kSecretKey), std::string::npos) << what << " prints the secret access key:\n" << text;
  EXPECT_EQ(text.find(kSessionToken), std::string::npos) << what << " prints the session token:\n" << text;
  // A third of the token is already too much (logs get cut, tokens get pasted).
  EXPECT_EQ(text.find(kSessionToken.substr(20, 30)), std::string::npos)
      << what << " prints part of the session token:\n" << text;
  for (const auto& sig : signatures) {
    EXPECT_EQ(text.find(sig), std::string::npos) << what << " prints a request signature (" << sig << "):\n" << text;
  }
}

inline void expect_no_secrets(const testing::ProcessResult& r, const std::vector<std::string>& signatures,
                              const std::string& what) {
  expect_no_secrets(r.out, signatures, what + " (stdout)");
  expect_no_secrets(r.err, signatures, what + " (stderr)");
}

}  // namespace dynarep::security
