// Where backups live: an S3 bucket/prefix, a local directory or file, or stdin/stdout, behind
// one small interface, so backup, restore, incremental and history code never asks which.
//
// Names: a "directory" location is a prefix; its children are `<prefix>/<name>` (S3 keys) or
// `<dir>/<name>` (files). An empty S3 prefix is the bucket's root.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/location.h"
#include "aws/retry.h"
#include "core/result.h"

namespace dynarep::s3 {
class Client;
}

namespace dynarep::backup {

using Location = aws::ObjectLocation;

// `<parent>/<name>` (name may contain '/').
Location child(const Location& parent, std::string_view name);
// "s3://bucket/key", the path, or "-".
std::string display(const Location& loc);
// The last '/'-separated part of a location's key or path.
std::string base_name(const Location& loc);

// An object being written: bytes in, then finish() makes it appear whole (S3 multipart
// completes; a local file is renamed from a temporary name). Destroying an unfinished sink
// leaves no object behind (S3: aborted; local: temporary file removed).
class ObjectSink {
 public:
  virtual ~ObjectSink() = default;
  virtual Status write(std::string_view data) = 0;
  struct Done {
    uint64_t size = 0;
    std::string sha256;  // lower-case hex of the bytes written
  };
  virtual Result<Done> finish() = 0;
};

struct ListedEntry {
  std::string name;  // relative to the listed directory: "0", "manifest.json", "data/x.json.gz"
  uint64_t size = 0;
};

// A condition on an S3 write (the incremental backup's fence, docs/backup.md): the write is
// refused (kConditionFailed, or kNotFound for if_match on a missing object) unless the object
// still is what the writer last saw. Servers that ignore conditions (s3rver) apply the write
// anyway: backup::probe_conditional_writes tells which.
struct WriteCondition {
  std::string if_match;   // the object must have this ETag (without quotes)
  bool if_absent = false;  // the object must not exist (If-None-Match: *)
};

struct SinkOptions {
  size_t part_size = size_t{8} << 20;  // S3 multipart part size (default 8 MiB)
  int parts_in_flight = 4;             // S3 parts uploading at once (default 4)
};

class Storage {
 public:
  // S3 through a client made on first use for aws::default_region() and `s3_endpoint` (empty:
  // AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL / AWS). `in`/`out` serve the "-" location.
  explicit Storage(std::string s3_endpoint = "", std::istream* in = nullptr, std::ostream* out = nullptr);
  // Over a given client (tests).
  explicit Storage(std::shared_ptr<s3::Client> client, std::istream* in = nullptr, std::ostream* out = nullptr);
  ~Storage();

  Result<s3::Client*> s3();

  // Every object under `dir` (recursive), or with `recursive` false only its direct children,
  // with the names of sub-directories (common prefixes, without '/') in `subdirs`. Sorted by
  // name. A directory that does not exist lists as empty.
  Result<std::vector<ListedEntry>> list(const Location& dir, bool recursive,
                                        std::vector<std::string>* subdirs = nullptr);
  // Calls fn for each listed object as pages arrive (S3) or as the directory is walked (local),
  // with names relative to dir; start_after is a relative name too. Not sorted for local dirs.
  Status for_each(const Location& dir, bool recursive, const std::string& start_after,
                  const std::function<Status(const ListedEntry&)>& fn);
  // The object's size, or nullopt when it does not exist (for a local directory: nullopt).
  Result<std::optional<uint64_t>> stat(const Location& obj);
  // A whole small object; an error when it is larger than max_bytes.
  Result<std::string> read_all(const Location& obj, size_t max_bytes = size_t{64} << 20);
  // Streams an object, a file or stdin in chunks, holding none of it.
  Status read_stream(const Location& obj, const std::function<Status(std::string_view)>& on_chunk);
  // Writes a small object whole (manifests, incremental objects).
  Status write_all(const Location& obj, std::string body);
  // Removes an object; no error when it does not exist.
  Status remove(const Location& obj);
  // S3 only (kInvalidInput otherwise): the object's ETag (without quotes), nullopt when absent;
  // a conditional PutObject; a DeleteObject If-Match `if_match` (empty: unconditional). `call`
  // bounds the retries (a deadline past which no attempt starts).
  Result<std::optional<std::string>> etag(const Location& obj);
  Status write_all(const Location& obj, std::string body, const WriteCondition& condition,
                   const aws::CallOptions& call);
  Status remove(const Location& obj, const std::string& if_match, const aws::CallOptions& call);
  Result<std::unique_ptr<ObjectSink>> open_sink(const Location& obj, const SinkOptions& options = {});

 private:
  std::string endpoint_;
  std::istream* in_;
  std::ostream* out_;
  std::mutex mu_;
  std::shared_ptr<s3::Client> client_;
};

}  // namespace dynarep::backup
