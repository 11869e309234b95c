// Streaming gzip for backups (docs/formats.md §4.1: backup objects are gzip of the line format).
//
// GzipWriter compresses with libdeflate, one whole block at a time: each block (1 MiB by
// default) becomes its own gzip member (RFC 1952 §2.2: "A gzip file consists of a series of
// members"). libdeflate cannot stream, but compressing a whole block in one call is 2-3x faster
// than zlib's deflate at the same level and the members cost ~18 bytes each. Readers that
// handle concatenated members (checked: `gzip -d`, zlib's inflate with 16+MAX_WBITS looping
// over members as GzipReader does, Node's zlib.gunzipSync/createGunzip since Node 8, the AWS
// CLI piping through gzip) read the result as one stream.
//
// GzipReader inflates with zlib (streaming), member after member, and says what is wrong when
// the data is not a complete gzip stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace dynarep::compress {

// Where compressed or decompressed bytes go. An error stops the writer/reader and is returned
// by the call that produced the bytes.
using Sink = std::function<Status(std::string_view)>;

struct GzipWriterOptions {
  // libdeflate level, 0 (stored) .. 12 (slowest, smallest). Default 6: on DynamoDB JSON lines
  // it compresses about as small as zlib -6 at more than twice its speed (bench/gzip_bench.cpp).
  int level = 6;
  // Uncompressed bytes per gzip member. Default 1 MiB: large enough that the member overhead
  // (18 bytes + a fresh dictionary) costs < 0.5% of ratio, small enough to keep memory low
  // (one input block + one output block per writer). Minimum 4 KiB.
  std::size_t block_size = std::size_t{1} << 20;
};

class GzipWriter {
 public:
  explicit GzipWriter(Sink sink, GzipWriterOptions options = {});
  ~GzipWriter();
  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;
  GzipWriter(GzipWriter&&) noexcept;
  GzipWriter& operator=(GzipWriter&&) noexcept;

  // Buffers `data`; every full block is compressed and handed to the sink.
  Status write(std::string_view data);
  // Compresses what is buffered now as one member (no-op when nothing is buffered).
  Status flush();
  // Compresses the rest. A writer that was given no bytes emits one empty member, so the
  // result is always a valid gzip file (an empty file is not). Further writes fail.
  Status finish();

  std::uint64_t bytes_in() const;   // uncompressed bytes accepted
  std::uint64_t bytes_out() const;  // compressed bytes handed to the sink
  std::uint64_t members() const;    // gzip members emitted

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Compresses a whole buffer (one member per block). For tests and small objects.
Result<std::string> gzip(std::string_view data, GzipWriterOptions options = {});

class GzipReader {
 public:
  GzipReader();
  ~GzipReader();
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;
  GzipReader(GzipReader&&) noexcept;
  GzipReader& operator=(GzipReader&&) noexcept;

  // Inflates `chunk` (any size, any split), calling `out` with decompressed bytes. Errors
  // (kInvalidInput): "not gzip (bad magic)", "corrupt gzip data at compressed byte N: <zlib>",
  // "CRC mismatch in gzip member M ...", "trailing garbage after gzip member M at compressed
  // byte N"; or the error `out` returned. After an error every call returns it again.
  Status feed(std::string_view chunk, const Sink& out);
  // Checks that the stream ended at a member boundary: "truncated gzip stream (ended inside a
  // member)" otherwise, "not gzip (empty input)" when nothing was fed.
  Status finish();

  std::uint64_t bytes_in() const;   // compressed bytes consumed
  std::uint64_t bytes_out() const;  // decompressed bytes produced
  std::uint64_t members() const;    // complete members read

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Decompresses a whole buffer. For tests and small objects.
Result<std::string> gunzip(std::string_view data);

}  // namespace dynarep::compress
