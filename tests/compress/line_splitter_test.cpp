#include "compress/line_splitter.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "compress/gzip.h"

namespace dynarep::compress {
namespace {

using Lines = std::vector<std::pair<std::uint64_t, std::string>>;

LineSplitter::LineFn collect(Lines& out) {
  return [&out](std::string_view line, std::uint64_t n) -> Status {
    out.emplace_back(n, std::string(line));
    return {};
  };
}

Lines split_in_chunks(std::string_view data, std::size_t chunk, LineSplitterOptions opts = {}) {
  LineSplitter s(opts);
  Lines out;
  while (!data.empty()) {
    std::size_t n = std::min(chunk, data.size());
    EXPECT_TRUE(s.feed(data.substr(0, n), collect(out)).ok());
    data.remove_prefix(n);
  }
  EXPECT_TRUE(s.finish(collect(out)).ok());
  return out;
}

TEST(LineSplitter, SplitsAcrossAnyChunking) {
  std::string data = "{\"a\":1}\n\n{\"b\":2}\r\nlast line without newline";
  Lines want = {{1, "{\"a\":1}"}, {2, ""}, {3, "{\"b\":2}"}, {4, "last line without newline"}};
  for (std::size_t chunk = 1; chunk <= data.size(); ++chunk) {
    EXPECT_EQ(split_in_chunks(data, chunk), want) << "chunk " << chunk;
  }
}

TEST(LineSplitter, FinalNewlineMakesNoEmptyLine) {
  EXPECT_EQ(split_in_chunks("a\nb\n", 3), (Lines{{1, "a"}, {2, "b"}}));
  EXPECT_EQ(split_in_chunks("", 3), Lines{});
  EXPECT_EQ(split_in_chunks("\n", 1), (Lines{{1, ""}}));
}

TEST(LineSplitter, CrLfSplitBetweenChunks) {
  LineSplitter s;
  Lines out;
  ASSERT_TRUE(s.feed("abc\r", collect(out)).ok());
  EXPECT_TRUE(s.has_partial_line());
  ASSERT_TRUE(s.feed("\ndef", collect(out)).ok());
  ASSERT_TRUE(s.finish(collect(out)).ok());
  EXPECT_EQ(out, (Lines{{1, "abc"}, {2, "def"}}));
  EXPECT_EQ(s.lines(), 2u);
  EXPECT_EQ(s.bytes(), 8u);
}

TEST(LineSplitter, MaxLineLength) {
  LineSplitterOptions opts{.max_line_bytes = 8};
  // Exactly the limit, also with "\r\n", is fine.
  EXPECT_EQ(split_in_chunks("12345678\n12345678\r\n", 1, opts),
            (Lines{{1, "12345678"}, {2, "12345678"}}));

  for (std::size_t chunk : {std::size_t{1}, std::size_t{4}, std::size_t{100}}) {
    LineSplitter s(opts);
    Lines out;
    std::string data = "ok\n123456789\nnext\n";
    Status st;
    for (std::size_t i = 0; i < data.size() && st.ok(); i += chunk) {
      st = s.feed(std::string_view(data).substr(i, chunk), collect(out));
    }
    ASSERT_FALSE(st.ok()) << chunk;
    EXPECT_EQ(st.error().kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(st.error().message.rfind("line 2 is longer than 8 bytes", 0), 0u) << st.error().message;
    EXPECT_EQ(out, (Lines{{1, "ok"}}));
    EXPECT_FALSE(s.finish(collect(out)).ok());  // sticky
  }

  // A final unterminated line over the limit.
  LineSplitter s(opts);
  Lines out;
  ASSERT_TRUE(s.feed("123456789", collect(out)).ok());  // within the one byte of "\r" slack
  Status st = s.finish(collect(out));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message.rfind("line 1 is longer than 8 bytes", 0), 0u);
}

TEST(LineSplitter, CallbackErrorStops) {
  LineSplitter s;
  int calls = 0;
  auto fn = [&calls](std::string_view, std::uint64_t n) -> Status {
    ++calls;
    if (n == 2) return invalid_input("bad item on line 2");
    return {};
  };
  Status st = s.feed("a\nb\nc\n", fn);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "bad item on line 2");
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(s.feed("d\n", fn).ok());
}

TEST(LineSplitter, BehindGzipReader) {
  std::string data;
  for (int i = 0; i < 50000; ++i) data += "{\"id\":{\"N\":\"" + std::to_string(i) + "\"}}\n";
  auto gz = gzip(data, {.level = 6, .block_size = 8192});
  ASSERT_TRUE(gz.ok());
  GzipReader r;
  LineSplitter s;
  std::uint64_t count = 0;
  bool in_order = true;
  auto on_line = [&](std::string_view line, std::uint64_t n) -> Status {
    ++count;
    if (line != "{\"id\":{\"N\":\"" + std::to_string(n - 1) + "\"}}") in_order = false;
    return {};
  };
  std::string_view in = *gz;
  while (!in.empty()) {
    std::size_t n = std::min<std::size_t>(in.size(), 1000);
    ASSERT_TRUE(r.feed(in.substr(0, n), [&](std::string_view b) { return s.feed(b, on_line); }).ok());
    in.remove_prefix(n);
  }
  ASSERT_TRUE(r.finish().ok());
  ASSERT_TRUE(s.finish(on_line).ok());
  EXPECT_EQ(count, 50000u);
  EXPECT_TRUE(in_order);
}

}  // namespace
}  // namespace dynarep::compress
