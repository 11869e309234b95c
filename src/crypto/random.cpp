#include "crypto/random.h"

#include <openssl/rand.h>

#include <climits>
#include <stdexcept>
#include <string>

#include "crypto/encoding.h"

namespace dynarep::crypto {

std::string random_hex(std::size_t bytes) {
  if (bytes > static_cast<std::size_t>(INT_MAX)) throw std::length_error("random_hex: too many bytes");
  std::string raw(bytes, '\0');
  if (bytes > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    throw std::runtime_error("OpenSSL: RAND_bytes failed");
  }
  return hex_lower(raw);
}

}  // namespace dynarep::crypto
