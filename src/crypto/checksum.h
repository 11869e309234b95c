// Non-cryptographic and legacy checksums that AWS protocols require.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dynarep::crypto {

// zlib's CRC-32 (IEEE 802.3, reflected, as in gzip and PNG). DynamoDB sends the CRC-32 of the
// response body in the x-amz-crc32 header; a mismatch means a corrupted response, which the
// SDKs retry. `seed` continues a running checksum: crc32(b, crc32(a)) == crc32(a + b).
uint32_t crc32(std::string_view data, uint32_t seed = 0);

// base64(MD5(data)), the S3 Content-MD5 header. MD5 is only an integrity check here.
std::string md5_base64(std::string_view data);

// hex(SHA-1(data)), lower case: the AWS CLI names its SSO token cache files so
// (~/.aws/sso/cache/<sha1 of the session name or start URL>.json). A file name, not security.
std::string sha1_hex(std::string_view data);

}  // namespace dynarep::crypto
