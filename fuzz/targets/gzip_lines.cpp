// The line-reading pipeline of restore: GzipReader feeding LineSplitter feeding ItemParser
// (compress/gzip.h, compress/line_splitter.h, model/codec.h).
//
// Input: byte 0 = mode and line limit, byte 1 = chunking seed, byte 2 = gzip level, then the
// payload. Even modes treat the payload as a gzip stream (corrupt members, truncation, trailing
// garbage, concatenated members); odd modes treat it as text, compress it with GzipWriter
// (written in uneven pieces with flushes, one member per flush or block), and read it back.
//
// Properties: however the stream is cut into chunks, GzipReader produces the same bytes as
// gunzip() of the whole and succeeds or fails with it; errors are clean kInvalidInput errors;
// what GzipWriter wrote decompresses to the text; LineSplitter yields exactly the lines of
// the text (one "\r" before "\n" dropped, the last unterminated line kept as is) up to the
// first line longer than its limit, which fails with a clean error; ItemParser accepts a line
// exactly when parse_item does.
#include <vector>

#include "common/check.h"
#include "compress/gzip.h"
#include "compress/line_splitter.h"
#include "model/codec.h"
#include "targets/targets.h"

namespace dynarep::fuzz {
namespace {

struct Lines {
  std::vector<std::string> lines;
  bool too_long = false;  // stopped at a line over the limit
};

// The reference splitter.
Lines split_reference(std::string_view text, std::size_t max) {
  Lines out;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (nl != std::string_view::npos && !line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > max) {
      out.too_long = true;
      return out;
    }
    out.lines.emplace_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

// Decompresses in chunks; nullopt-like error result when the stream is bad.
Result<std::string> gunzip_chunked(std::string_view gz, std::uint32_t seed) {
  compress::GzipReader reader;
  std::string out;
  Status st;
  for_each_chunk(gz, seed, [&](std::string_view chunk) {
    if (!st.ok()) return;
    st = reader.feed(chunk, [&](std::string_view b) -> Status {
      out.append(b);
      return {};
    });
  });
  if (!st.ok()) return std::move(st).error();
  DR_TRY(reader.finish());
  FUZZ_CHECK(reader.bytes_in() == gz.size(), "bytes_in is not the stream's size");
  FUZZ_CHECK(reader.bytes_out() == out.size(), "bytes_out is not the output's size");
  return out;
}

// GzipReader -> LineSplitter -> ItemParser, as restore reads a backup object.
Lines pipeline(std::string_view gz, std::uint32_t seed, std::size_t max, Status* status) {
  compress::GzipReader reader;
  compress::LineSplitter splitter(compress::LineSplitterOptions{max});
  model::ItemParser parser;
  Lines got;
  std::uint64_t expected_number = 1;
  const compress::LineSplitter::LineFn on_line = [&](std::string_view line, std::uint64_t n) -> Status {
    FUZZ_CHECK(n == expected_number, "line numbers are not consecutive");
    ++expected_number;
    got.lines.emplace_back(line);
    auto item = parser.parse(line);
    auto reference = model::parse_item(line);
    FUZZ_CHECK(item.ok() == reference.ok(), "ItemParser and parse_item disagree on a line");
    if (item.ok()) FUZZ_CHECK(*item == *reference, "ItemParser and parse_item read a line differently");
    return {};
  };
  const compress::Sink to_lines = [&](std::string_view raw) -> Status { return splitter.feed(raw, on_line); };
  Status st;
  for_each_chunk(gz, seed, [&](std::string_view chunk) {
    if (st.ok()) st = reader.feed(chunk, to_lines);
  });
  if (st.ok()) st = reader.finish();
  if (st.ok()) st = splitter.finish(on_line);
  *status = st;
  return got;
}

void check_clean(const Status& st, const char* what) {
  if (st.ok()) return;
  FUZZ_CHECK(st.error().kind == ErrorKind::kInvalidInput, std::string(what) + ": error is not kInvalidInput: " +
                                                              st.error().describe());
  FUZZ_CHECK(!st.error().message.empty(), std::string(what) + ": error without a message");
}

}  // namespace

void gzip_lines(std::string_view data) {
  Bytes in(data);
  const std::uint8_t mode = in.u8();
  const std::uint8_t seed = in.u8();
  const std::uint8_t level_byte = in.u8();
  const std::string_view payload = in.rest();
  // Line limits from 0 to 126 bytes, or the default 8 MiB.
  const std::size_t max = (mode >> 1) == 127 ? compress::LineSplitterOptions{}.max_line_bytes : (mode >> 1);

  std::string gz;
  std::string text;
  bool text_known = false;
  if ((mode & 1) == 0) {
    gz = std::string(payload);
    auto whole = compress::gunzip(gz);
    auto chunked = gunzip_chunked(gz, seed);
    FUZZ_CHECK(whole.ok() == chunked.ok(), "gunzip of the whole and of chunks disagree");
    if (!whole.ok()) {
      check_clean(whole.error(), "gunzip");
      check_clean(chunked.error(), "chunked gunzip");
    } else {
      FUZZ_CHECK(*whole == *chunked, "chunked gunzip gives other bytes");
      text = std::move(whole).value();
      text_known = true;
    }
  } else {
    // Compress the text in uneven writes, flushing now and then: every flush ends a member.
    compress::GzipWriterOptions options;
    options.level = level_byte % 13;
    options.block_size = 4096;
    compress::GzipWriter writer([&](std::string_view b) -> Status {
      gz.append(b);
      return {};
    }, options);
    std::uint32_t n = 0;
    for_each_chunk(payload, seed + 1u, [&](std::string_view piece) {
      Status w = writer.write(piece);
      FUZZ_CHECK(w.ok(), "GzipWriter::write failed: " + w.error().describe());
      if ((++n & 7u) == (level_byte & 7u)) {
        Status f = writer.flush();
        FUZZ_CHECK(f.ok(), "GzipWriter::flush failed");
      }
    });
    Status f = writer.finish();
    FUZZ_CHECK(f.ok(), "GzipWriter::finish failed");
    FUZZ_CHECK(writer.bytes_in() == payload.size(), "bytes_in is not the text's size");
    FUZZ_CHECK(writer.bytes_out() == gz.size(), "bytes_out is not the stream's size");
    auto back = gunzip_chunked(gz, seed);
    FUZZ_CHECK(back.ok(), "GzipWriter output does not decompress: " + back.error().describe());
    FUZZ_CHECK(*back == payload, "GzipWriter output decompresses to other bytes");
    auto whole = compress::gzip(payload, options);
    FUZZ_CHECK(whole.ok(), "gzip() failed");
    auto whole_back = compress::gunzip(*whole);
    FUZZ_CHECK(whole_back.ok() && *whole_back == payload, "gzip() output does not decompress to the text");
    text = std::string(payload);
    text_known = true;
  }

  Status st;
  const Lines got = pipeline(gz, seed, max, &st);
  check_clean(st, "pipeline");
  if (!text_known) {
    FUZZ_CHECK(!st.ok(), "the pipeline accepted a stream gunzip rejects");
    return;
  }
  const Lines want = split_reference(text, max);
  if (want.too_long) {
    FUZZ_CHECK(!st.ok(), "a line over the limit was accepted");
    FUZZ_CHECK(st.error().message.find("longer than") != std::string::npos, "wrong error: " + st.error().describe());
  } else {
    FUZZ_CHECK(st.ok(), "a good stream failed: " + st.error().describe());
  }
  FUZZ_CHECK(got.lines.size() == want.lines.size(), "passed " + std::to_string(got.lines.size()) +
                                                       " lines, the text has " + std::to_string(want.lines.size()) +
                                                       (want.too_long ? " before the long one" : ""));
  for (std::size_t i = 0; i < got.lines.size(); ++i) {
    FUZZ_CHECK(got.lines[i] == want.lines[i], "line " + std::to_string(i + 1) + " differs: " + printable(got.lines[i]) +
                                                  " vs " + printable(want.lines[i]));
  }
}

}  // namespace dynarep::fuzz
