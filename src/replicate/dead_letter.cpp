#include "replicate/dead_letter.h"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

#include <simdjson.h>

#include "aws/location.h"
#include "core/json_writer.h"
#include "crypto/encoding.h"
#include "crypto/random.h"
#include "replicate/turnover.h"
#include "s3/client.h"

namespace dynarep::replicate {
namespace {

// Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF): the bytes can go
// into a JSON string as they are.
bool valid_utf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    if (c < 0x80) {
      len = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    if (len >= 3) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0) || (c == 0xF0 && c1 < 0x90) ||
          (c == 0xF4 && c1 >= 0x90)) {
        return false;
      }
    }
    i += len;
  }
  return true;
}

std::string iso_time(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

std::string safe_name(std::string_view s) {
  std::string out;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    out += ok ? c : '_';
  }
  if (out.empty() || out == "." || out == "..") out = "unknown-shard";
  return out;
}

Status write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fatal(fmt::format("dead letter file {}: write: {}", path, std::strerror(errno)));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

// Appends and fdatasyncs: the letters are on disk before the caller moves on.
Status append_durably(const std::string& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return fatal(fmt::format("dead letter file {}: open: {}", path, std::strerror(errno)));
  Status st = write_all(fd, text, path);
  if (st.ok() && ::fdatasync(fd) != 0) {
    st = fatal(fmt::format("dead letter file {}: fdatasync: {}", path, std::strerror(errno)));
  }
  ::close(fd);
  return st;
}

}  // namespace

std::string dead_letter_json(const DeadLetter& d) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.field("time", iso_time(d.time));
  w.field("shard", d.shard);
  w.field("sequenceNumber", d.sequence_number);
  if (!d.partition_key.empty()) w.field("partitionKey", d.partition_key);
  w.field("reason", d.reason);
  if (valid_utf8(d.data)) {
    w.field("data", d.data);
  } else {
    w.field("dataBase64", crypto::base64_encode(d.data));
  }
  w.end_object();
  return out;
}

Result<DeadLetter> parse_dead_letter(std::string_view line) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(line.data(), line.size()).get(obj) != simdjson::SUCCESS) {
    return invalid_input("not a JSON object");
  }
  auto text = [&](const char* field) -> std::optional<std::string> {
    std::string_view v;
    if (obj[field].get(v) != simdjson::SUCCESS) return std::nullopt;
    return std::string(v);
  };
  DeadLetter d;
  auto shard = text("shard");
  auto seq = text("sequenceNumber");
  if (!shard || !seq) return invalid_input("no \"shard\" or \"sequenceNumber\": not a dead letter");
  d.shard = std::move(*shard);
  d.sequence_number = std::move(*seq);
  d.partition_key = text("partitionKey").value_or("");
  d.reason = text("reason").value_or("");
  if (auto t = text("time")) {
    if (auto parsed = parse_turnover_time(*t); parsed.ok()) d.time = *parsed;
  }
  if (auto data = text("data")) {
    d.data = std::move(*data);
  } else if (auto b64 = text("dataBase64")) {
    DR_ASSIGN(d.data, crypto::base64_decode(*b64));
  } else {
    return invalid_input(fmt::format("dead letter of shard {} sequence number {} has no \"data\"", d.shard,
                                     d.sequence_number));
  }
  return d;
}

Result<std::unique_ptr<FileDeadLetterSink>> FileDeadLetterSink::open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fatal(fmt::format("dead letter directory {}: {}", dir, ec.message()));
  if (!std::filesystem::is_directory(dir, ec)) {
    return invalid_input(fmt::format("dead letter location {} is not a directory", dir));
  }
  return std::unique_ptr<FileDeadLetterSink>(new FileDeadLetterSink(dir));
}

std::string FileDeadLetterSink::path_for(std::string_view shard) const {
  return dir_ + "/" + safe_name(shard) + ".jsonl";
}

Status FileDeadLetterSink::write(const std::vector<DeadLetter>& letters) {
  if (letters.empty()) return {};
  std::map<std::string, std::string> by_file;
  for (const auto& d : letters) {
    auto& text = by_file[path_for(d.shard)];
    text += dead_letter_json(d);
    text += '\n';
  }
  std::lock_guard lock(mu_);
  for (const auto& [path, text] : by_file) DR_TRY(append_durably(path, text));
  return {};
}

Status SingleFileDeadLetterSink::write(const std::vector<DeadLetter>& letters) {
  if (letters.empty()) return {};
  std::string text;
  for (const auto& d : letters) text += dead_letter_json(d) + "\n";
  std::lock_guard lock(mu_);
  return append_durably(path_, text);
}

S3DeadLetterSink::S3DeadLetterSink(std::shared_ptr<s3::Client> client, std::string bucket, std::string prefix)
    : client_(std::move(client)), bucket_(std::move(bucket)), prefix_(std::move(prefix)) {
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
}

std::string S3DeadLetterSink::describe() const { return "s3://" + bucket_ + "/" + prefix_; }

Status S3DeadLetterSink::write(const std::vector<DeadLetter>& letters) {
  for (const auto& d : letters) {
    std::string key = (prefix_.empty() ? "" : prefix_ + "/") + safe_name(d.shard) + "/" +
                      (d.sequence_number.empty() ? "noseq" : safe_name(d.sequence_number)) + "-" +
                      crypto::random_hex(4) + ".json";
    s3::PutOptions po;
    po.content_type = "application/json";
    auto r = client_->put_object(bucket_, key, dead_letter_json(d) + "\n", po);
    if (!r.ok()) return std::move(r).error().with_context("writing a dead letter");
  }
  return {};
}

Result<std::unique_ptr<DeadLetterSink>> open_dead_letter_sink(std::string_view spec, const std::string& region,
                                                              const std::string& s3_endpoint,
                                                              const aws::CredentialsSpec& credentials) {
  if (spec.empty()) return std::unique_ptr<DeadLetterSink>(std::make_unique<LogDeadLetterSink>());
  if (spec.rfind("s3://", 0) == 0) {
    DR_ASSIGN(aws::ObjectLocation loc, aws::parse_object_location(spec));
    auto client = std::make_shared<s3::Client>(s3::Client::connect(region, s3_endpoint, {}, credentials));
    return std::unique_ptr<DeadLetterSink>(std::make_unique<S3DeadLetterSink>(client, loc.bucket, loc.key));
  }
  if (spec == "-") return invalid_input("--dead-letter: give a directory or s3://bucket/prefix, not -");
  DR_ASSIGN(auto sink, FileDeadLetterSink::open(std::string(spec)));
  return std::unique_ptr<DeadLetterSink>(std::move(sink));
}

}  // namespace dynarep::replicate
