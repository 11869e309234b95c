#include "crypto/sha256.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <new>
#include <stdexcept>
#include <utility>

#include "crypto/encoding.h"

namespace dynarep::crypto {
namespace {

// OpenSSL 3 looks an algorithm up in the provider tables on every EVP_sha256()-style implicit
// fetch; fetching once and reusing a per-thread context halves the cost of a small hash
// (measured: ~220 ns instead of ~540 ns for 200 bytes with EVP_Digest; HMAC() one-shot ~1.7 us).
const EVP_MD* sha256_md() {
  static const EVP_MD* const md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (m == nullptr) throw std::runtime_error("OpenSSL: SHA256 digest not available");
    return m;
  }();
  return md;
}

void check(int rc, const char* what) {
  if (rc != 1) throw std::runtime_error(std::string("OpenSSL: ") + what + " failed");
}

struct ThreadDigestCtx {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ThreadDigestCtx() {
    if (ctx == nullptr) throw std::bad_alloc();
  }
  ~ThreadDigestCtx() { EVP_MD_CTX_free(ctx); }
  ThreadDigestCtx(const ThreadDigestCtx&) = delete;
  ThreadDigestCtx& operator=(const ThreadDigestCtx&) = delete;
};

EVP_MD_CTX* thread_ctx() {
  thread_local ThreadDigestCtx t;
  return t.ctx;
}

// Hashes the concatenation of up to two pieces with the thread's context.
void digest_into(EVP_MD_CTX* ctx, std::string_view a, std::string_view b, uint8_t* out) {
  check(EVP_DigestInit_ex2(ctx, sha256_md(), nullptr), "EVP_DigestInit_ex2");
  check(EVP_DigestUpdate(ctx, a.data(), a.size()), "EVP_DigestUpdate");
  if (!b.empty()) check(EVP_DigestUpdate(ctx, b.data(), b.size()), "EVP_DigestUpdate");
  unsigned int len = 0;
  check(EVP_DigestFinal_ex(ctx, out, &len), "EVP_DigestFinal_ex");
}

std::string_view as_view(const uint8_t* p, std::size_t n) {
  return std::string_view(reinterpret_cast<const char*>(p), n);
}

}  // namespace

Digest256 sha256(std::string_view data) {
  Digest256 out{};
  digest_into(thread_ctx(), data, {}, out.data());
  return out;
}

std::string sha256_hex(std::string_view data) { return hex_lower(sha256(data)); }

// RFC 2104 written out over the reused digest context: measured ~370 ns for a 200-byte message
// against ~510 ns for a reused EVP_MAC context (whose init re-parses parameters every call).
Digest256 hmac_sha256(std::string_view key, std::string_view data) {
  constexpr std::size_t kBlock = 64;
  uint8_t block[kBlock] = {};
  if (key.size() > kBlock) {
    const Digest256 hashed = sha256(key);
    std::memcpy(block, hashed.data(), hashed.size());
  } else if (!key.empty()) {
    std::memcpy(block, key.data(), key.size());
  }
  uint8_t pad[kBlock];
  for (std::size_t i = 0; i < kBlock; ++i) pad[i] = static_cast<uint8_t>(block[i] ^ 0x36);
  EVP_MD_CTX* ctx = thread_ctx();
  Digest256 inner{};
  digest_into(ctx, as_view(pad, kBlock), data, inner.data());
  for (std::size_t i = 0; i < kBlock; ++i) pad[i] = static_cast<uint8_t>(block[i] ^ 0x5c);
  Digest256 out{};
  digest_into(ctx, as_view(pad, kBlock), as_view(inner.data(), inner.size()), out.data());
  OPENSSL_cleanse(block, sizeof block);
  OPENSSL_cleanse(pad, sizeof pad);
  return out;
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) throw std::bad_alloc();
  check(EVP_DigestInit_ex2(ctx_, sha256_md(), nullptr), "EVP_DigestInit_ex2");
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

Sha256::Sha256(Sha256&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}

Sha256& Sha256::operator=(Sha256&& other) noexcept {
  if (this != &other) {
    EVP_MD_CTX_free(ctx_);
    ctx_ = std::exchange(other.ctx_, nullptr);
  }
  return *this;
}

void Sha256::update(std::string_view data) {
  if (ctx_ == nullptr) throw std::logic_error("Sha256::update on a moved-from object");
  check(EVP_DigestUpdate(ctx_, data.data(), data.size()), "EVP_DigestUpdate");
}

Digest256 Sha256::finish() {
  if (ctx_ == nullptr) throw std::logic_error("Sha256::finish on a moved-from object");
  Digest256 out{};
  unsigned int len = 0;
  check(EVP_DigestFinal_ex(ctx_, out.data(), &len), "EVP_DigestFinal_ex");
  check(EVP_DigestInit_ex2(ctx_, sha256_md(), nullptr), "EVP_DigestInit_ex2");
  return out;
}

}  // namespace dynarep::crypto
