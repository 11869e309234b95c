// Random identifiers from OpenSSL's CSPRNG (event IDs, job ids, unique names).
#pragma once

#include <cstddef>
#include <string>

namespace dynarep::crypto {

// `bytes` random bytes from RAND_bytes, as 2*bytes lower-case hex characters. Throws
// std::runtime_error if the generator fails (it cannot be seeded: a start-up failure, not an
// expected one).
std::string random_hex(std::size_t bytes);

}  // namespace dynarep::crypto
