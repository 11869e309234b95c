// Reading backup objects as lines: gzip or plain (told apart by the gzip magic bytes), from
// S3, a file or stdin, streamed (memory bounded by the chunk size and the longest line).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "backup/storage.h"
#include "core/result.h"

namespace dynarep::backup {

struct ReadStats {
  uint64_t stored_bytes = 0;  // bytes of the object as stored
  uint64_t raw_bytes = 0;     // after decompression
  uint64_t lines = 0;         // lines passed to on_line (empty lines are skipped, not counted)
  bool gzipped = false;
  std::string sha256;         // hex, of the stored bytes
  std::string md5_base64;     // base64 MD5 of the stored bytes, when ReadOptions::md5
};

struct ReadOptions {
  bool md5 = false;                          // also compute MD5 (AWS export manifests carry it)
  const std::atomic<bool>* cancel = nullptr;  // stop early (kCancelled) when set
};

// Called for each non-empty line (without its "\n" or "\r\n"), numbered from 1 counting every
// line of the (decompressed) object. An error stops reading and is returned as is.
using LineFn = std::function<Status(std::string_view line, uint64_t line_number)>;

// Errors (kInvalidInput) name the object, e.g.
//   "s3://b/p/j/0: corrupt gzip data at compressed byte 1234: invalid distance (after line 17)"
//   "s3://b/p/j/0: truncated gzip stream (ended inside a member) (after line 2000)"
Result<ReadStats> read_lines(Storage& storage, const Location& obj, const LineFn& on_line,
                             const ReadOptions& options = {});

// Streaming MD5 (OpenSSL), for AWS export manifests' md5Checksum.
class Md5 {
 public:
  Md5();
  ~Md5();
  Md5(const Md5&) = delete;
  Md5& operator=(const Md5&) = delete;
  void update(std::string_view data);
  std::string finish_base64();

 private:
  void* ctx_;
};

}  // namespace dynarep::backup
