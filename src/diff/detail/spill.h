// Spill files: where diff-tables keeps what it scanned, so its memory does not grow with the
// table.
//
// A TempDir is a private directory (mkdtemp, mode 0700) under $TMPDIR or a given parent. Each
// SpillFile in it is created and unlinked at once, and lives on as an open descriptor: the
// data disappears with the process even when it is killed, and the (empty) directory is
// removed by ~TempDir, on success and on error alike.
//
// Records are fixed-layout binary (native byte order: they never leave the process):
//   scan record:   key id (16) | item fingerprint (16) | item size (u32) | json length (u32) | key json
//   round record:  key id (16) | primary fp (16) | replica fp (16) | item size (u32) | json length (u32) | key json
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "diff/detail/fingerprint.h"

namespace dynarep::diff::detail {

class SpillFile;

class TempDir {
 public:
  // Creates "<parent>/dynarep-diff-XXXXXX". An empty parent means $TMPDIR, else /tmp.
  static Result<std::unique_ptr<TempDir>> create(const std::string& parent);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // A new, already unlinked file; `buffer_bytes` of appends are buffered before a write(2).
  Result<std::unique_ptr<SpillFile>> new_file(std::string_view name, size_t buffer_bytes = 64 * 1024);

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
  uint64_t counter_ = 0;
};

class SpillFile {
 public:
  SpillFile(int fd, std::string name, size_t buffer_bytes);
  ~SpillFile();
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;

  // Appends (buffered). Not thread-safe: callers serialize.
  Status append(std::string_view bytes);
  Status flush();
  // flush() and release the buffer's memory (the file is then only read, or appended to
  // again through a new buffer).
  Status finish();
  // Bytes appended so far, buffered ones included.
  int64_t size() const { return written_ + static_cast<int64_t>(buf_.size()); }
  // Reads up to `max` bytes at `offset` (after flush()) into `out` (replaced).
  Status read_at(int64_t offset, size_t max, std::string* out) const;
  // The whole file (after flush()).
  Result<std::string> read_all() const;
  const std::string& name() const { return name_; }

 private:
  Status write_out(std::string_view bytes);
  int fd_;
  std::string name_;
  size_t buffer_bytes_;
  std::string buf_;
  int64_t written_ = 0;
};

struct ScanRecord {
  Hash128 key;
  Hash128 fp;
  uint32_t size = 0;
  std::string_view key_json;
};

struct RoundRecord {
  Hash128 key;
  Hash128 primary_fp;
  Hash128 replica_fp;
  uint32_t size = 0;
  std::string_view key_json;
};

inline constexpr size_t kScanHeader = 16 + 16 + 4 + 4;
inline constexpr size_t kRoundHeader = 16 + 16 + 16 + 4 + 4;

void append_scan_record(std::string& out, const Hash128& key, const Hash128& fp, uint32_t size,
                        std::string_view key_json);
void append_round_record(std::string& out, const RoundRecord& r);

// Decodes one record at the start of `bytes`; returns the bytes it used, or 0 when `bytes`
// holds less than a whole record.
size_t decode_scan_record(std::string_view bytes, ScanRecord* out);
size_t decode_round_record(std::string_view bytes, RoundRecord* out);

// Reads a file of records front to back in chunks, so a file of any size streams through a
// bounded buffer. The string_views handed out stay valid until the next call to next().
template <class Record>
class RecordReader {
 public:
  explicit RecordReader(const SpillFile& file, size_t chunk_bytes = 1 << 20)
      : file_(file), chunk_(chunk_bytes) {}
  // False at the end of the file. Errors: a read failure or a truncated last record.
  Result<bool> next(Record* out);

 private:
  const SpillFile& file_;
  size_t chunk_;
  std::string buf_;
  size_t pos_ = 0;
  int64_t offset_ = 0;  // file offset of buf_'s end
};

extern template class RecordReader<ScanRecord>;
extern template class RecordReader<RoundRecord>;

}  // namespace dynarep::diff::detail
