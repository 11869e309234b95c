#include "crypto/checksum.h"

#include <openssl/evp.h>
#include <zlib.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "crypto/encoding.h"

namespace dynarep::crypto {

uint32_t crc32(std::string_view data, uint32_t seed) {
  // zlib takes uInt lengths: feed very large inputs in pieces.
  uLong crc = seed;
  const auto* p = reinterpret_cast<const Bytef*>(data.data());
  std::size_t left = data.size();
  while (left > 0) {
    const auto n = static_cast<uInt>(std::min<std::size_t>(left, std::numeric_limits<uInt>::max()));
    crc = ::crc32(crc, p, n);
    p += n;
    left -= n;
  }
  return static_cast<uint32_t>(crc);
}

namespace {

// The raw digest of `data`. S3's Content-MD5 and SSO cache names are rare, so the implicit
// fetch of EVP_Digest is fine here.
std::string digest(std::string_view data, const EVP_MD* type, const char* what) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, type, nullptr) != 1) {
    throw std::runtime_error(std::string("OpenSSL: ") + what + " digest failed");
  }
  return std::string(reinterpret_cast<const char*>(md), len);
}

}  // namespace

std::string md5_base64(std::string_view data) { return base64_encode(digest(data, EVP_md5(), "MD5")); }

std::string sha1_hex(std::string_view data) { return hex_lower(digest(data, EVP_sha1(), "SHA-1")); }

}  // namespace dynarep::crypto
