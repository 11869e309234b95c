#include "compress/gzip.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "support/process.h"

namespace dynarep::compress {
namespace {

// Synthetic DynamoDB-JSON lines: compressible like real items, not trivially so.
std::string sample_lines(std::size_t count, unsigned seed = 7) {
  std::mt19937 rng(seed);
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    out += R"({"id":{"S":"user-)" + std::to_string(rng() % 1000000) + R"("},"n":{"N":")" +
           std::to_string(rng() % 100000) + R"("},"tags":{"SS":["a)" + std::to_string(rng() % 50) +
           R"(","b"]},"blob":{"B":")";
    for (int j = 0; j < 24; ++j) out += static_cast<char>('A' + rng() % 26);
    out += "\"}}\n";
  }
  return out;
}

std::string random_bytes(std::size_t n, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

Sink append_to(std::string& out) {
  return [&out](std::string_view b) -> Status {
    out.append(b);
    return {};
  };
}

// An independent reader: zlib's inflate with the gzip wrapper, one member after another, the
// way other zlib users (Python's gzip, Java's GZIPInputStream) read multi-member files.
std::string zlib_gunzip_all_members(const std::string& gz) {
  std::string out;
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  std::vector<unsigned char> buf(1 << 16);
  while (zs.avail_in > 0) {
    zs.next_out = buf.data();
    zs.avail_out = static_cast<uInt>(buf.size());
    int ret = inflate(&zs, Z_NO_FLUSH);
    out.append(reinterpret_cast<char*>(buf.data()), buf.size() - zs.avail_out);
    if (ret == Z_STREAM_END) {
      inflateReset(&zs);
    } else if (ret != Z_OK) {
      ADD_FAILURE() << "zlib inflate: " << ret;
      break;
    }
  }
  inflateEnd(&zs);
  return out;
}

std::string zlib_gzip(const std::string& data, int level) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, data.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/dynarep-gzip-test-XXXXXX";
    int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    close(fd);
    path_ = name;
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(GzipWriter, RoundTripsAcrossBlocksAndChunkings) {
  std::string data = sample_lines(20000);  // ~2 MiB
  for (std::size_t block : {std::size_t{4096}, std::size_t{65536}, std::size_t{1} << 20}) {
    std::string gz;
    GzipWriter w(append_to(gz), {.level = 6, .block_size = block});
    // Uneven writes: some smaller than a block, some spanning several.
    std::mt19937 rng(3);
    std::size_t pos = 0;
    while (pos < data.size()) {
      std::size_t n = std::min<std::size_t>(data.size() - pos, rng() % (3 * block));
      ASSERT_TRUE(w.write(std::string_view(data).substr(pos, n)).ok());
      pos += n;
    }
    ASSERT_TRUE(w.finish().ok());
    EXPECT_EQ(w.bytes_in(), data.size());
    EXPECT_EQ(w.bytes_out(), gz.size());
    EXPECT_EQ(w.members(), (data.size() + block - 1) / block) << "block " << block;
    EXPECT_LT(gz.size(), data.size() / 2);
    auto back = gunzip(gz);
    ASSERT_TRUE(back.ok()) << back.error().describe();
    EXPECT_EQ(*back, data);
    EXPECT_EQ(zlib_gunzip_all_members(gz), data);
  }
}

TEST(GzipWriter, EmptyInputIsOneValidEmptyMember) {
  std::string gz;
  GzipWriter w(append_to(gz));
  ASSERT_TRUE(w.finish().ok());
  EXPECT_EQ(w.members(), 1u);
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
  auto back = gunzip(gz);
  ASSERT_TRUE(back.ok()) << back.error().describe();
  EXPECT_EQ(*back, "");
}

TEST(GzipWriter, FlushEndsAMemberAndFinishIsIdempotent) {
  std::string gz;
  GzipWriter w(append_to(gz), {.level = 1, .block_size = 1 << 20});
  ASSERT_TRUE(w.write("abc\n").ok());
  ASSERT_TRUE(w.flush().ok());
  ASSERT_TRUE(w.flush().ok());  // nothing buffered: no empty member
  ASSERT_TRUE(w.write("def\n").ok());
  ASSERT_TRUE(w.finish().ok());
  ASSERT_TRUE(w.finish().ok());
  EXPECT_EQ(w.members(), 2u);
  EXPECT_FALSE(w.write("x").ok());
  EXPECT_EQ(*gunzip(gz), "abc\ndef\n");
}

TEST(GzipWriter, AllLevelsRoundTrip) {
  std::string data = sample_lines(500);
  for (int level = 0; level <= 12; ++level) {
    auto gz = gzip(data, {.level = level});
    ASSERT_TRUE(gz.ok());
    EXPECT_EQ(*gunzip(*gz), data) << "level " << level;
  }
  std::string sink;
  EXPECT_THROW(GzipWriter(append_to(sink), {.level = 13}), std::invalid_argument);
}

TEST(GzipWriter, SinkErrorIsReturnedAndSticky) {
  int calls = 0;
  GzipWriter w(
      [&calls](std::string_view) -> Status {
        ++calls;
        return transient("disk full");
      },
      {.level = 1, .block_size = 4096});
  Status st = w.write(std::string(10000, 'x'));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "disk full");
  EXPECT_FALSE(w.write("y").ok());
  EXPECT_FALSE(w.finish().ok());
  EXPECT_EQ(calls, 1);
}

TEST(GzipWriter, GzipCommandReadsMultiMemberOutput) {
  std::string data = sample_lines(3000);
  auto gz = gzip(data, {.level = 6, .block_size = 16384});
  ASSERT_TRUE(gz.ok());
  TempFile f(*gz);
  auto r = testing::run_process({"/bin/sh", "-c", "gzip -dc < '" + f.path() + "'"});
  if (r.exit_code == 127) GTEST_SKIP() << "no gzip command";
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, data);
}

// Node's zlib.gunzipSync reads every member (Node >= 8; checked with Node 20), so the
// original Node tools can read our backups.
TEST(GzipWriter, NodeGunzipReadsMultiMemberOutput) {
  std::string data = sample_lines(3000);
  auto gz = gzip(data, {.level = 6, .block_size = 16384});
  ASSERT_TRUE(gz.ok());
  TempFile f(*gz);
  auto which = testing::run_process({"/bin/sh", "-c", "command -v node"});
  if (which.exit_code != 0) GTEST_SKIP() << "no node";
  auto r = testing::run_process(
      {"/bin/sh", "-c",
       "node -e \"process.stdout.write(require('zlib').gunzipSync(require('fs').readFileSync("
       "process.argv[1])))\" '" + f.path() + "'"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.size(), data.size());
  EXPECT_EQ(r.out, data);
}

TEST(GzipReader, ReadsZlibOutputAndConcatenations) {
  std::string a = sample_lines(200, 1), b = sample_lines(300, 2);
  std::string gz = zlib_gzip(a, 9) + zlib_gzip(b, 1) + *gzip(a);
  GzipReader r;
  std::string out;
  ASSERT_TRUE(r.feed(gz, append_to(out)).ok());
  ASSERT_TRUE(r.finish().ok());
  EXPECT_EQ(out, a + b + a);
  EXPECT_EQ(r.members(), 3u);
  EXPECT_EQ(r.bytes_in(), gz.size());
  EXPECT_EQ(r.bytes_out(), out.size());
}

TEST(GzipReader, ByteAtATime) {
  std::string data = sample_lines(300);
  std::string gz = *gzip(data, {.level = 6, .block_size = 4096});
  GzipReader r;
  std::string out;
  for (char c : gz) ASSERT_TRUE(r.feed(std::string_view(&c, 1), append_to(out)).ok());
  ASSERT_TRUE(r.finish().ok());
  EXPECT_EQ(out, data);
}

TEST(GzipReader, IncompressibleAndLargeOutput) {
  std::string data = random_bytes(3 << 20) + std::string(5 << 20, 'z');  // 8 MiB
  std::string gz = *gzip(data, {.level = 1});
  auto back = gunzip(gz);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, data);
}

TEST(GzipReader, NotGzip) {
  GzipReader r;
  std::string out;
  Status st = r.feed("{\"id\":{\"S\":\"a\"}}\n", append_to(out));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(st.error().message, "not gzip (bad magic)");
  // Sticky.
  EXPECT_EQ(r.feed("more", append_to(out)).error().message, "not gzip (bad magic)");
  EXPECT_FALSE(r.finish().ok());

  // The second magic byte wrong, across a chunk boundary.
  GzipReader r2;
  ASSERT_TRUE(r2.feed("\x1f", append_to(out)).ok());
  st = r2.feed("\x8c", append_to(out));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "not gzip (bad magic)");
}

TEST(GzipReader, EmptyInput) {
  GzipReader r;
  std::string out;
  ASSERT_TRUE(r.feed("", append_to(out)).ok());
  Status st = r.finish();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "not gzip (empty input)");
}

TEST(GzipReader, Truncated) {
  std::string gz = *gzip(sample_lines(1000));
  for (std::size_t cut : {std::size_t{1}, std::size_t{5}, gz.size() / 2, gz.size() - 1}) {
    GzipReader r;
    std::string out;
    ASSERT_TRUE(r.feed(std::string_view(gz).substr(0, cut), append_to(out)).ok()) << cut;
    Status st = r.finish();
    ASSERT_FALSE(st.ok()) << cut;
    EXPECT_EQ(st.error().kind, ErrorKind::kInvalidInput);
    EXPECT_NE(st.error().message.find("truncated gzip stream (ended inside a member)"),
              std::string::npos)
        << st.error().message;
  }
}

TEST(GzipReader, CorruptData) {
  std::string gz = *gzip(sample_lines(1000));
  gz[gz.size() / 2] = static_cast<char>(gz[gz.size() / 2] ^ 0x55);
  gz[gz.size() / 2 + 1] = static_cast<char>(gz[gz.size() / 2 + 1] ^ 0xaa);
  auto r = gunzip(gz);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
  // Either the deflate stream breaks ("corrupt gzip data at compressed byte N: invalid ...")
  // or it still decodes and the CRC catches it.
  const std::string& m = r.error().message;
  EXPECT_TRUE(m.rfind("corrupt gzip data at compressed byte ", 0) == 0 ||
              m.rfind("CRC mismatch", 0) == 0)
      << m;
}

TEST(GzipReader, CorruptDataNamesTheByte) {
  // A stored-looking header with an invalid block type (BTYPE = 11) right after the header.
  std::string gz = *gzip("hello hello hello\n");
  gz[10] = static_cast<char>(0x07);  // BFINAL=1, BTYPE=11 (reserved)
  auto r = gunzip(gz);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("corrupt gzip data at compressed byte ", 0), 0u)
      << r.error().message;
  EXPECT_NE(r.error().message.find("invalid block type"), std::string::npos) << r.error().message;
}

TEST(GzipReader, CrcMismatch) {
  std::string gz = *gzip("abc\n") + *gzip("def\n");
  std::size_t first_len = gzip("abc\n")->size();
  // The second member's CRC32 is the 8th-to-5th bytes from the end.
  gz[gz.size() - 8] = static_cast<char>(gz[gz.size() - 8] ^ 1);
  GzipReader r;
  std::string out;
  Status st = r.feed(gz, append_to(out));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message.rfind("CRC mismatch in gzip member 2", 0), 0u) << st.error().message;
  EXPECT_EQ(out, "abc\ndef\n");  // the data was produced before the trailer was checked
  EXPECT_GT(gz.size(), first_len);

  // ISIZE (the length mod 2^32) wrong.
  std::string gz2 = *gzip("abc\n");
  gz2[gz2.size() - 1] = static_cast<char>(gz2[gz2.size() - 1] ^ 1);
  auto r2 = gunzip(gz2);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().message.rfind("length mismatch in gzip member 1", 0), 0u);
}

TEST(GzipReader, TrailingGarbage) {
  std::string gz = *gzip("abc\n");
  auto r = gunzip(gz + "garbage");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "trailing garbage after gzip member 1 at compressed byte " + std::to_string(gz.size()));
}

TEST(GzipReader, OutputSinkErrorStops) {
  std::string gz = *gzip(sample_lines(1000));
  GzipReader r;
  Status st = r.feed(gz, [](std::string_view) -> Status { return invalid_input("bad line 3"); });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "bad line 3");
  EXPECT_FALSE(r.finish().ok());
}

}  // namespace
}  // namespace dynarep::compress
