#include "compress/gzip.h"

#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

namespace dynarep::compress {

namespace {

constexpr std::size_t kMinBlockSize = 4096;
constexpr std::size_t kInflateBufferSize = 256 * 1024;

struct CompressorDeleter {
  void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// GzipWriter

struct GzipWriter::Impl {
  Sink sink;
  GzipWriterOptions options;
  std::unique_ptr<libdeflate_compressor, CompressorDeleter> compressor;
  std::string buffer;             // pending input, < block_size bytes between calls
  std::vector<char> out;          // one compressed member
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t members = 0;
  bool finished = false;
  std::optional<Error> failed;    // sticky: the first error

  Status compress_member(std::string_view data) {
    std::size_t n = libdeflate_gzip_compress(compressor.get(), data.data(), data.size(), out.data(),
                                             out.size());
    if (n == 0) {
      // Cannot happen with a buffer of libdeflate_gzip_compress_bound() bytes.
      return fail(fatal(fmt::format("gzip: libdeflate could not compress a block of {} bytes into {}",
                                    data.size(), out.size())));
    }
    Status st = sink(std::string_view(out.data(), n));
    if (!st.ok()) return fail(std::move(st).error());
    bytes_out += n;
    ++members;
    return {};
  }

  Status fail(Error e) {
    failed = e;
    return e;
  }
};

GzipWriter::GzipWriter(Sink sink, GzipWriterOptions options) : impl_(std::make_unique<Impl>()) {
  if (options.level < 0 || options.level > 12) {
    throw std::invalid_argument(fmt::format("gzip level {} is outside 0..12", options.level));
  }
  options.block_size = std::max(options.block_size, kMinBlockSize);
  impl_->sink = std::move(sink);
  impl_->options = options;
  impl_->compressor.reset(libdeflate_alloc_compressor(options.level));
  if (!impl_->compressor) throw std::bad_alloc();
  impl_->out.resize(libdeflate_gzip_compress_bound(impl_->compressor.get(), options.block_size));
  impl_->buffer.reserve(options.block_size);
}

GzipWriter::~GzipWriter() = default;
GzipWriter::GzipWriter(GzipWriter&&) noexcept = default;
GzipWriter& GzipWriter::operator=(GzipWriter&&) noexcept = default;

Status GzipWriter::write(std::string_view data) {
  Impl& s = *impl_;
  if (s.failed) return *s.failed;
  if (s.finished) return fatal("gzip: write after finish");
  s.bytes_in += data.size();
  const std::size_t block = s.options.block_size;
  // Top up a partly filled buffer first.
  if (!s.buffer.empty()) {
    std::size_t take = std::min(block - s.buffer.size(), data.size());
    s.buffer.append(data.substr(0, take));
    data.remove_prefix(take);
    if (s.buffer.size() < block) return {};
    DR_TRY(s.compress_member(s.buffer));
    s.buffer.clear();
  }
  // Whole blocks straight from the caller's memory, no copy.
  while (data.size() >= block) {
    DR_TRY(s.compress_member(data.substr(0, block)));
    data.remove_prefix(block);
  }
  s.buffer.append(data);
  return {};
}

Status GzipWriter::flush() {
  Impl& s = *impl_;
  if (s.failed) return *s.failed;
  if (s.finished) return fatal("gzip: flush after finish");
  if (s.buffer.empty()) return {};
  DR_TRY(s.compress_member(s.buffer));
  s.buffer.clear();
  return {};
}

Status GzipWriter::finish() {
  Impl& s = *impl_;
  if (s.failed) return *s.failed;
  if (s.finished) return {};
  if (!s.buffer.empty() || s.members == 0) {
    DR_TRY(s.compress_member(s.buffer));
    s.buffer.clear();
  }
  s.finished = true;
  return {};
}

std::uint64_t GzipWriter::bytes_in() const { return impl_->bytes_in; }
std::uint64_t GzipWriter::bytes_out() const { return impl_->bytes_out; }
std::uint64_t GzipWriter::members() const { return impl_->members; }

Result<std::string> gzip(std::string_view data, GzipWriterOptions options) {
  std::string out;
  GzipWriter w(
      [&out](std::string_view b) -> Status {
        out.append(b);
        return {};
      },
      options);
  DR_TRY(w.write(data));
  DR_TRY(w.finish());
  return out;
}

// ---------------------------------------------------------------------------------------------
// GzipReader

struct GzipReader::Impl {
  z_stream zs{};
  bool initialized = false;
  bool in_member = false;   // inside a member: its first byte has been consumed
  int magic_seen = 0;       // bytes of the current member's magic (1f 8b) checked so far
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t members = 0;
  std::vector<unsigned char> buf;
  std::optional<Error> failed;

  Impl() : buf(kInflateBufferSize) {
    // 16 + MAX_WBITS: gzip wrapper only (no zlib/raw auto-detection), full 32 KiB window.
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw std::bad_alloc();
    initialized = true;
  }
  ~Impl() {
    if (initialized) inflateEnd(&zs);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Status fail(Error e) {
    failed = e;
    return e;
  }

  Status bad_magic(std::uint64_t at) {
    if (members == 0) return fail(invalid_input("not gzip (bad magic)"));
    return fail(invalid_input(fmt::format(
        "trailing garbage after gzip member {} at compressed byte {}", members, at)));
  }

  Status zlib_error(int ret, std::uint64_t at) {
    std::string msg = zs.msg != nullptr ? zs.msg : fmt::format("zlib error {}", ret);
    if (ret == Z_MEM_ERROR) return fail(fatal("gzip: out of memory inflating"));
    if (msg == "incorrect data check") {
      return fail(invalid_input(fmt::format(
          "CRC mismatch in gzip member {} (ending at compressed byte {}): the data is corrupt",
          members + 1, at)));
    }
    if (msg == "incorrect length check") {
      return fail(invalid_input(fmt::format(
          "length mismatch in gzip member {} (ending at compressed byte {}): the data is corrupt",
          members + 1, at)));
    }
    return fail(invalid_input(fmt::format("corrupt gzip data at compressed byte {}: {}", at, msg)));
  }
};

GzipReader::GzipReader() : impl_(std::make_unique<Impl>()) {}
GzipReader::~GzipReader() = default;
GzipReader::GzipReader(GzipReader&&) noexcept = default;
GzipReader& GzipReader::operator=(GzipReader&&) noexcept = default;

Status GzipReader::feed(std::string_view chunk, const Sink& out) {
  Impl& s = *impl_;
  if (s.failed) return *s.failed;
  while (!chunk.empty()) {
    // RFC 1952 §2.3.1: ID1 = 0x1f, ID2 = 0x8b. Checked here, across chunk boundaries, so a
    // non-gzip input gets a plain answer instead of zlib's "incorrect header check".
    if (s.magic_seen < 2) {
      static constexpr unsigned char kMagic[2] = {0x1f, 0x8b};
      std::size_t i = 0;
      while (s.magic_seen < 2 && i < chunk.size()) {
        if (static_cast<unsigned char>(chunk[i]) != kMagic[s.magic_seen]) {
          return s.bad_magic(s.bytes_in + i - static_cast<std::uint64_t>(s.magic_seen));
        }
        ++s.magic_seen;
        ++i;
      }
    }
    s.in_member = true;
    s.zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(chunk.data()));
    s.zs.avail_in = static_cast<uInt>(std::min<std::size_t>(chunk.size(), UINT32_MAX));
    const uInt given = s.zs.avail_in;
    int ret = Z_OK;
    for (;;) {
      s.zs.next_out = s.buf.data();
      s.zs.avail_out = static_cast<uInt>(s.buf.size());
      ret = inflate(&s.zs, Z_NO_FLUSH);
      std::size_t produced = s.buf.size() - s.zs.avail_out;
      if (produced > 0) {
        s.bytes_out += produced;
        Status st = out(std::string_view(reinterpret_cast<const char*>(s.buf.data()), produced));
        if (!st.ok()) return s.fail(std::move(st).error());
      }
      if (ret == Z_STREAM_END) break;
      if (ret == Z_BUF_ERROR || (ret == Z_OK && s.zs.avail_in == 0 && s.zs.avail_out != 0)) {
        ret = Z_OK;  // needs more input
        break;
      }
      if (ret != Z_OK) {
        return s.zlib_error(ret, s.bytes_in + (given - s.zs.avail_in));
      }
    }
    std::size_t consumed = given - s.zs.avail_in;
    s.bytes_in += consumed;
    chunk.remove_prefix(consumed);
    if (ret == Z_STREAM_END) {
      ++s.members;
      s.in_member = false;
      s.magic_seen = 0;
      if (inflateReset(&s.zs) != Z_OK) return s.fail(fatal("gzip: inflateReset failed"));
    }
  }
  return {};
}

Status GzipReader::finish() {
  Impl& s = *impl_;
  if (s.failed) return *s.failed;
  if (s.in_member || s.magic_seen > 0) {
    return s.fail(invalid_input(fmt::format(
        "truncated gzip stream (ended inside a member) after {} compressed bytes", s.bytes_in)));
  }
  if (s.members == 0) return s.fail(invalid_input("not gzip (empty input)"));
  return {};
}

std::uint64_t GzipReader::bytes_in() const { return impl_->bytes_in; }
std::uint64_t GzipReader::bytes_out() const { return impl_->bytes_out; }
std::uint64_t GzipReader::members() const { return impl_->members; }

Result<std::string> gunzip(std::string_view data) {
  std::string out;
  GzipReader r;
  DR_TRY(r.feed(data, [&out](std::string_view b) -> Status {
    out.append(b);
    return {};
  }));
  DR_TRY(r.finish());
  return out;
}

}  // namespace dynarep::compress
