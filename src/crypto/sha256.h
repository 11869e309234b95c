// SHA-256 and HMAC-SHA256 over OpenSSL 3 EVP. Used by the SigV4 signer (hot path: one HMAC and
// one or two hashes per request), S3 multipart part checksums and backup manifests.
// The free functions are thread-safe (each thread reuses its own digest context); a Sha256
// object belongs to one thread at a time.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, declared here so users need no OpenSSL include

namespace dynarep::crypto {

using Digest256 = std::array<uint8_t, 32>;

// One-shot SHA-256. Reuses a per-thread digest context, so it is cheap for small inputs.
Digest256 sha256(std::string_view data);
// hex_lower(sha256(data)): the form SigV4 and x-amz-content-sha256 use.
std::string sha256_hex(std::string_view data);

// HMAC-SHA256 (RFC 2104). Keys longer than the 64-byte block are hashed first, as the RFC says.
Digest256 hmac_sha256(std::string_view key, std::string_view data);

// Streaming SHA-256 for data that arrives in pieces (multipart parts, backup files).
// finish() returns the digest and resets the object, so it can hash another stream.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&& other) noexcept;
  Sha256& operator=(Sha256&& other) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view data);
  Digest256 finish();

 private:
  evp_md_ctx_st* ctx_;  // null only after a move
};

}  // namespace dynarep::crypto
