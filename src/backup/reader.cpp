#include "backup/reader.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <optional>

#include "compress/gzip.h"
#include "compress/line_splitter.h"
#include "crypto/encoding.h"
#include "crypto/sha256.h"

namespace dynarep::backup {

Md5::Md5() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_md5(), nullptr);
}
Md5::~Md5() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }
void Md5::update(std::string_view data) { EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size()); }
std::string Md5::finish_base64() {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), d, &n);
  return crypto::base64_encode(std::string_view(reinterpret_cast<const char*>(d), n));
}

Result<ReadStats> read_lines(Storage& storage, const Location& obj, const LineFn& on_line, const ReadOptions& options) {
  ReadStats stats;
  crypto::Sha256 sha;
  std::optional<Md5> md5;
  if (options.md5) md5.emplace();
  compress::LineSplitter splitter;
  compress::GzipReader gz;
  std::string head;            // the first bytes, until the format is known
  int mode = 0;                // 0 unknown, 1 gzip, 2 plain
  bool line_error = false;     // the error came from on_line: pass it through unchanged
  // A gzip object whose line failed: the rest is inflated without parsing, because corrupt
  // deflate data shows up as a garbled line before zlib (or the member's CRC) notices. If the
  // gzip stream turns out corrupt, that is the error to report; else the line's.
  std::optional<Error> drained_line_error;
  const std::string where = display(obj);

  compress::LineSplitter::LineFn each = [&](std::string_view line, uint64_t n) -> Status {
    if (options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed)) {
      return Error(ErrorKind::kCancelled, "Cancelled", "stopped");
    }
    if (drained_line_error) return {};
    if (line.empty() || line == "\r") return {};
    ++stats.lines;
    Status st = on_line(line, n);
    if (!st.ok()) {
      if (mode == 1 && st.error().kind == ErrorKind::kInvalidInput) {
        drained_line_error = st.error();
        return {};
      }
      line_error = true;
    }
    return st;
  };
  compress::Sink to_lines = [&](std::string_view raw) -> Status {
    stats.raw_bytes += raw.size();
    return splitter.feed(raw, each);
  };
  auto feed = [&](std::string_view data) -> Status {
    if (mode == 1) return gz.feed(data, to_lines);
    return to_lines(data);
  };
  auto wrap = [&](Error e) -> Error {
    if (line_error || e.kind == ErrorKind::kCancelled) return e;
    if (e.context.empty() || e.context.find(where) == std::string::npos) e.with_context(where);
    if (drained_line_error) {
      e.message += fmt::format(" (the first symptom: {})", drained_line_error->describe());
    } else {
      e.message += fmt::format(" (after line {})", splitter.lines());
    }
    return e;
  };

  Status st = storage.read_stream(obj, [&](std::string_view chunk) -> Status {
    stats.stored_bytes += chunk.size();
    sha.update(chunk);
    if (md5) md5->update(chunk);
    if (mode == 0) {
      head.append(chunk);
      if (head.size() < 2) return {};
      mode = (static_cast<unsigned char>(head[0]) == 0x1f && static_cast<unsigned char>(head[1]) == 0x8b) ? 1 : 2;
      std::string first = std::move(head);
      head.clear();
      return feed(first);
    }
    return feed(chunk);
  });
  if (st.ok() && mode == 0 && !head.empty()) {
    mode = 2;
    st = feed(head);
  }
  if (!st.ok()) {
    // A transfer error from S3 or the file already names the object.
    if (line_error || st.error().kind == ErrorKind::kCancelled) return st.error();
    if (st.error().kind == ErrorKind::kInvalidInput) return wrap(st.error());
    return st.error();
  }
  if (mode == 1) {
    // Before the last partial line: a truncated stream is the error, not its cut line.
    Status fin = gz.finish();
    if (!fin.ok()) return wrap(fin.error());
  }
  Status fin = splitter.finish(each);
  if (!fin.ok()) return line_error ? fin.error() : wrap(fin.error());
  if (drained_line_error) return *drained_line_error;
  stats.gzipped = mode == 1;
  stats.sha256 = crypto::hex_lower(sha.finish());
  if (md5) stats.md5_base64 = md5->finish_base64();
  return stats;
}

}  // namespace dynarep::backup
