// Dead letters: records the replicator cannot apply however often it tries (malformed JSON,
// missing or wrong keys, images DynamoDB would reject). Each is logged (shard + sequence number
// + reason) and written to a sink, and the shard moves on. Transient failures (throttling, 5xx)
// are never dead-lettered: the batch is retried instead.
//
// One dead letter is one JSON line:
//   {"time":"2024-05-01T12:00:00.123Z","shard":"shardId-000000000001","sequenceNumber":"4960...",
//    "partitionKey":"{\"id\":{\"S\":\"a\"}}","reason":"record does not parse: ...","data":"<record>"}
// "data" is the record's bytes as a JSON string when they are UTF-8, else "dataBase64".
//
// Sinks:
//   DIR              DIR/<shard>.jsonl, appended, fdatasync'd before the batch is checkpointed
//   FILE             (redrive only) FILE, appended, fdatasync'd
//   s3://bucket/pfx  one object per dead letter: pfx/<shard>/<sequence number>-<8 hex>.json
//   (none)           stderr only
// A batch is checkpointed only after its dead letters are written; when writing one fails, the
// batch is retried, so a dead letter may be written twice (at least once, like everything else).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "aws/credentials.h"
#include "core/result.h"

namespace dynarep::s3 {
class Client;
}

namespace dynarep::replicate {

struct DeadLetter {
  std::chrono::system_clock::time_point time{};
  std::string shard;
  std::string sequence_number;
  std::string partition_key;
  std::string reason;
  std::string data;
};

// The JSON line (without the newline).
std::string dead_letter_json(const DeadLetter& letter);
// The inverse, for `dynarep redrive`: a line as dead_letter_json writes it ("dataBase64" is
// decoded into `data`). An error saying what is wrong when the line is not a dead letter.
Result<DeadLetter> parse_dead_letter(std::string_view line);

class DeadLetterSink {
 public:
  virtual ~DeadLetterSink() = default;
  // Writes the letters durably, or fails (the caller retries the batch). Thread-safe.
  virtual Status write(const std::vector<DeadLetter>& letters) = 0;
  // "directory /var/dl", "s3://bucket/prefix", "stderr only".
  [[nodiscard]] virtual std::string describe() const = 0;
};

class LogDeadLetterSink final : public DeadLetterSink {
 public:
  Status write(const std::vector<DeadLetter>&) override { return {}; }  // the replicator logs each
  [[nodiscard]] std::string describe() const override { return "stderr only"; }
};

class FileDeadLetterSink final : public DeadLetterSink {
 public:
  // Creates the directory if needed.
  static Result<std::unique_ptr<FileDeadLetterSink>> open(const std::string& dir);
  Status write(const std::vector<DeadLetter>& letters) override;
  [[nodiscard]] std::string describe() const override { return "directory " + dir_; }
  // The file for a shard: DIR/<shard with characters other than [A-Za-z0-9._-] as '_'>.jsonl
  [[nodiscard]] std::string path_for(std::string_view shard) const;

 private:
  explicit FileDeadLetterSink(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
  std::mutex mu_;
};

// One file, appended and fdatasync'd at every write: where `dynarep redrive --dead-letter FILE`
// puts the letters that still fail.
class SingleFileDeadLetterSink final : public DeadLetterSink {
 public:
  explicit SingleFileDeadLetterSink(std::string path) : path_(std::move(path)) {}
  Status write(const std::vector<DeadLetter>& letters) override;
  [[nodiscard]] std::string describe() const override { return "file " + path_; }

 private:
  std::string path_;
  std::mutex mu_;
};

class S3DeadLetterSink final : public DeadLetterSink {
 public:
  S3DeadLetterSink(std::shared_ptr<s3::Client> client, std::string bucket, std::string prefix);
  Status write(const std::vector<DeadLetter>& letters) override;
  [[nodiscard]] std::string describe() const override;

 private:
  std::shared_ptr<s3::Client> client_;
  std::string bucket_, prefix_;
};

// "s3://bucket/prefix" (S3 in `region`, endpoint from `s3_endpoint` or the environment, signed
// with `credentials`: empty, the default chain) or a directory path. An empty spec gives the
// stderr-only sink.
Result<std::unique_ptr<DeadLetterSink>> open_dead_letter_sink(std::string_view spec, const std::string& region,
                                                              const std::string& s3_endpoint = "",
                                                              const aws::CredentialsSpec& credentials = {});

}  // namespace dynarep::replicate
