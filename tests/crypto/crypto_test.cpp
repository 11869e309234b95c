// Known-answer tests for the crypto module: FIPS 180-2 (SHA-256), RFC 4231 (HMAC-SHA256),
// RFC 4648 (base64), the CRC-32 check value, RFC 1321 (MD5).
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "crypto/checksum.h"
#include "crypto/encoding.h"
#include "crypto/random.h"
#include "crypto/sha256.h"

namespace dynarep::crypto {
namespace {

std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (int b : list) s.push_back(static_cast<char>(b));
  return s;
}

std::string view_of(const Digest256& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

// ------------------------------------------------------------------------------------ SHA-256

TEST(Sha256Test, Fips180Vectors) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, ArrayAndHexAgree) {
  const Digest256 d = sha256("abc");
  EXPECT_EQ(d[0], 0xba);
  EXPECT_EQ(d[31], 0xad);
  EXPECT_EQ(hex_lower(d), sha256_hex("abc"));
}

TEST(Sha256Test, StreamingMatchesOneShotForEverySplit) {
  const std::string msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  for (std::size_t cut = 0; cut <= msg.size(); ++cut) {
    Sha256 h;
    h.update(std::string_view(msg).substr(0, cut));
    h.update(std::string_view(msg).substr(cut));
    EXPECT_EQ(hex_lower(h.finish()), sha256_hex(msg)) << "split at " << cut;
  }
}

TEST(Sha256Test, StreamingMillionAInChunksAndReuseAfterFinish) {
  Sha256 h;
  const std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) h.update(chunk);
  EXPECT_EQ(hex_lower(h.finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // finish() resets: the object hashes a new stream.
  h.update("ab");
  h.update("c");
  EXPECT_EQ(hex_lower(h.finish()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex_lower(h.finish()), sha256_hex(""));
}

TEST(Sha256Test, MovedObjectKeepsState) {
  Sha256 a;
  a.update("ab");
  Sha256 b(std::move(a));
  b.update("c");
  EXPECT_EQ(hex_lower(b.finish()), sha256_hex("abc"));
  Sha256 c;
  c = std::move(b);
  c.update("abc");
  EXPECT_EQ(hex_lower(c.finish()), sha256_hex("abc"));
}

TEST(Sha256Test, ThreadsHashIndependently) {
  // Each thread has its own digest context; interleaved use must not mix states.
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      const std::string msg(static_cast<std::size_t>(100 + t), static_cast<char>('a' + t));
      const std::string expected = sha256_hex(msg);
      for (int i = 0; i < 2000; ++i) {
        if (sha256_hex(msg) != expected) ++failures[static_cast<std::size_t>(t)];
        if (hex_lower(hmac_sha256("Jefe", "what do ya want for nothing?")) !=
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") {
          ++failures[static_cast<std::size_t>(t)];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

// ------------------------------------------------------------------------------------ HMAC

struct HmacCase {
  std::string name, key, data, expected_hex;
};

TEST(HmacSha256Test, Rfc4231Vectors) {
  const std::vector<HmacCase> cases = {
      {"1", std::string(20, '\x0b'), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"2", "Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {"3", std::string(20, '\xaa'), std::string(50, '\xdd'),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {"4", bytes({0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
                   0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19}),
       std::string(50, '\xcd'), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {"6 (131-byte key)", std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {"7 (131-byte key, long data)", std::string(131, '\xaa'),
       "This is a test using a larger than block-size key and a larger than block-size data. The key "
       "needs to be hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(hex_lower(hmac_sha256(c.key, c.data)), c.expected_hex) << "RFC 4231 test case " << c.name;
  }
}

TEST(HmacSha256Test, Rfc4231TruncatedCase5) {
  // Case 5 publishes only the first 128 bits.
  EXPECT_EQ(hex_lower(hmac_sha256(std::string(20, '\x0c'), "Test With Truncation")).substr(0, 32),
            "a3b6167473100ee06e0c796c2955552b");
}

TEST(HmacSha256Test, KeyLengthBoundaries) {
  // Values cross-checked with Python's hmac module.
  EXPECT_EQ(hex_lower(hmac_sha256(std::string(64, 'k'), "x")),
            "f91c4c403625fb06910ef93999265bbd2d62baeaec6ff36455498cc124fe3e66");
  EXPECT_EQ(hex_lower(hmac_sha256(std::string(65, 'k'), "x")),
            "75092ca3ee2b307470c227697b42b3e65376aa3bae98fb5a1f7b7536daa9588a");
  EXPECT_EQ(hex_lower(hmac_sha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  // RFC 2104: a key longer than the block is replaced by its hash.
  const std::string long_key(200, 'z');
  EXPECT_EQ(hmac_sha256(long_key, "data"), hmac_sha256(view_of(sha256(long_key)), "data"));
}

TEST(HmacSha256Test, SigV4KeyDerivationExample) {
  // The derived signing key of AWS's documented example (secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY,
  // 20150830/us-east-1/iam): c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9.
  std::string k = view_of(hmac_sha256("AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830"));
  k = view_of(hmac_sha256(k, "us-east-1"));
  k = view_of(hmac_sha256(k, "iam"));
  k = view_of(hmac_sha256(k, "aws4_request"));
  EXPECT_EQ(hex_lower(k), "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
}

// ------------------------------------------------------------------------------------ hex

TEST(HexTest, LowerCaseTwoDigitsPerByte) {
  EXPECT_EQ(hex_lower(""), "");
  EXPECT_EQ(hex_lower(bytes({0x00, 0x01, 0x7f, 0x80, 0xab, 0xff})), "00017f80abff");
  std::array<uint8_t, 3> a{0xde, 0xad, 0x01};
  EXPECT_EQ(hex_lower(a), "dead01");
}

// ------------------------------------------------------------------------------------ base64

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    auto decoded = base64_decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded << ": " << decoded.error().describe();
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64Test, EveryByteAndLengthRoundTrips) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t len = 0; len <= all.size(); len += 1) {
    const std::string piece = all.substr(all.size() - len);
    const std::string enc = base64_encode(piece);
    EXPECT_EQ(enc.size() % 4, 0u);
    auto dec = base64_decode(enc);
    ASSERT_TRUE(dec.ok()) << dec.error().describe();
    EXPECT_EQ(*dec, piece);
  }
  EXPECT_EQ(base64_encode(bytes({0xfb, 0xff, 0xbf})), "+/+/");
}

TEST(Base64Test, ArrayOverload) {
  std::array<uint8_t, 3> a{'f', 'o', 'o'};
  EXPECT_EQ(base64_encode(a), "Zm9v");
}

TEST(Base64Test, RejectsMalformedInputWithAClearError) {
  struct Bad {
    std::string text, message_part;
  };
  const std::vector<Bad> bad = {
      {"Zg=", "not a multiple of 4"},
      {"Zm9vY", "not a multiple of 4"},
      {"Zm9v\n", "not a multiple of 4"},
      {"Zm 9", "invalid character ' ' at offset 2"},
      {"Zm-_", "invalid character '-' at offset 2"},  // URL-safe alphabet is not accepted
      {"Zm9\xc3", "byte 0xc3 at offset 3"},
      {"Zg=a", "padding '=' at offset 2"},
      {"Z===", "padding '=' at offset 1"},
      {"====", "padding '=' at offset 0"},
      {"Zg==Zg==", "padding '=' at offset 2"},  // padding in the middle
      {"Zh==", "non-zero padding bits"},
      {"Zm9=", "non-zero padding bits"},
  };
  for (const auto& b : bad) {
    auto r = base64_decode(b.text);
    ASSERT_FALSE(r.ok()) << "accepted " << b.text;
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(r.error().code, "InvalidBase64");
    EXPECT_NE(r.error().message.find(b.message_part), std::string::npos)
        << "input '" << b.text << "' gave: " << r.error().message;
  }
}

// ------------------------------------------------------------------------------------ checksums

TEST(ChecksumTest, Crc32CheckValueAndChaining) {
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(crc32(""), 0u);
  EXPECT_EQ(crc32("The quick brown fox jumps over the lazy dog"), 0x414FA339u);
  EXPECT_EQ(crc32("56789", crc32("1234")), 0xCBF43926u);
}

TEST(ChecksumTest, Md5Base64Rfc1321) {
  EXPECT_EQ(md5_base64(""), "1B2M2Y8AsgTpgAmY7PhCfg==");     // d41d8cd98f00b204e9800998ecf8427e
  EXPECT_EQ(md5_base64("abc"), "kAFQmDzST7DWlj99KOF/cg==");  // 900150983cd24fb0d6963f7d28e17f72
  EXPECT_EQ(md5_base64("The quick brown fox jumps over the lazy dog"), "nhB9nTcrtoJr2B01QqQZ1g==");
}

TEST(ChecksumTest, Sha1HexFips180) {
  EXPECT_EQ(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

// ------------------------------------------------------------------------------------ random

TEST(RandomTest, HexOfRequestedLengthAndDistinct) {
  EXPECT_EQ(random_hex(0), "");
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string r = random_hex(16);
    ASSERT_EQ(r.size(), 32u);
    EXPECT_EQ(r.find_first_not_of("0123456789abcdef"), std::string::npos) << r;
    seen.insert(r);
  }
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace dynarep::crypto
