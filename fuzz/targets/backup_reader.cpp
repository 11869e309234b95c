// The backup line reader (backup/reader.h: read_lines), reading "-" (stdin) through Storage.
//
// Input: byte 0 = mode, then the payload. Even modes give the payload to read_lines as is
// (plain text, or gzip when it starts with 1f 8b); odd modes gzip the payload first.
//
// Properties: failures are clean errors naming the object ("-"); stored_bytes, raw_bytes and
// sha256 describe what was read; the lines passed are exactly the non-empty lines of the
// (decompressed) text with their line numbers, "\r\n" and "\n" both ending a line, blank and
// "\r"-only lines skipped; a gzip object is read exactly when gunzip() accepts it.
#include <sstream>
#include <vector>

#include "backup/reader.h"
#include "backup/storage.h"
#include "common/check.h"
#include "compress/gzip.h"
#include "crypto/encoding.h"
#include "crypto/sha256.h"
#include "targets/targets.h"

namespace dynarep::fuzz {
namespace {

struct Line {
  std::string text;
  std::uint64_t number;
  bool operator==(const Line&) const = default;
};

// Non-empty lines and their numbers (every line counts, as the splitter numbers them).
std::vector<Line> reference_lines(std::string_view text) {
  std::vector<Line> out;
  std::uint64_t number = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (nl != std::string_view::npos && !line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++number;
    if (!line.empty() && line != "\r") out.push_back(Line{std::string(line), number});
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

}  // namespace

void backup_reader(std::string_view data) {
  Bytes in(data);
  const std::uint8_t mode = in.u8();
  std::string stored(in.rest());
  if ((mode & 1) != 0) {
    auto gz = compress::gzip(stored);
    FUZZ_CHECK(gz.ok(), "gzip() failed");
    stored = std::move(gz).value();
  }

  std::istringstream stdin_stream(stored);
  backup::Storage storage("", &stdin_stream, nullptr);
  aws::ObjectLocation loc;
  loc.kind = aws::ObjectLocation::Kind::kStdio;
  loc.display = "-";
  std::vector<Line> got;
  auto r = backup::read_lines(storage, loc, [&](std::string_view line, std::uint64_t n) -> Status {
    got.push_back(Line{std::string(line), n});
    return {};
  });

  const bool is_gzip = stored.size() >= 2 && static_cast<unsigned char>(stored[0]) == 0x1f &&
                       static_cast<unsigned char>(stored[1]) == 0x8b;
  std::string text = stored;
  if (is_gzip) {
    auto plain = compress::gunzip(stored);
    FUZZ_CHECK(plain.ok() == r.ok(), std::string("read_lines ") + (r.ok() ? "accepts" : "rejects") +
                                         " a gzip stream gunzip " + (plain.ok() ? "accepts" : "rejects"));
    if (!plain.ok()) {
      FUZZ_CHECK(r.error().kind == ErrorKind::kInvalidInput, "error is not kInvalidInput: " + r.error().describe());
      FUZZ_CHECK(r.error().describe().find('-') != std::string::npos, "error does not name the object");
      return;
    }
    text = std::move(plain).value();
  } else {
    FUZZ_CHECK(r.ok(), "read_lines rejects plain text: " + r.error().describe());
  }
  if (!r.ok()) return;

  FUZZ_CHECK(r->gzipped == is_gzip, "gzipped flag is wrong");
  FUZZ_CHECK(r->stored_bytes == stored.size(), "stored_bytes is not the object's size");
  FUZZ_CHECK(r->raw_bytes == text.size(), "raw_bytes is not the decompressed size");
  FUZZ_CHECK(r->sha256 == crypto::sha256_hex(stored), "sha256 is not the stored bytes' digest");
  const std::vector<Line> want = reference_lines(text);
  FUZZ_CHECK(r->lines == want.size(), "lines counts " + std::to_string(r->lines) + ", the text has " +
                                          std::to_string(want.size()) + " non-empty lines");
  FUZZ_CHECK(got.size() == want.size(), "passed " + std::to_string(got.size()) + " lines, the text has " +
                                            std::to_string(want.size()));
  for (std::size_t i = 0; i < got.size(); ++i) {
    FUZZ_CHECK(got[i] == want[i], "line " + std::to_string(want[i].number) + " differs: " + printable(got[i].text) +
                                      " (number " + std::to_string(got[i].number) + ") vs " + printable(want[i].text));
  }
}

}  // namespace dynarep::fuzz
