#include "backup/storage.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <istream>
#include <ostream>

#include "aws/credentials.h"
#include "crypto/encoding.h"
#include "crypto/random.h"
#include "crypto/sha256.h"
#include "s3/client.h"

namespace dynarep::backup {
namespace fs = std::filesystem;

namespace {

Error io_error(const std::string& what, const std::string& path) {
  return Error(ErrorKind::kFatal, "IOError", fmt::format("{}: {}", what, std::strerror(errno))).with_context(path);
}

std::string dir_prefix(const Location& dir) {
  if (dir.key.empty()) return "";
  return dir.key.back() == '/' ? dir.key : dir.key + "/";
}

// A local file written under a temporary name and renamed into place by finish().
class FileSink final : public ObjectSink {
 public:
  explicit FileSink(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp-" + crypto::random_hex(4)) {}
  ~FileSink() override {
    if (!done_) {
      out_.close();
      std::error_code ec;
      fs::remove(tmp_, ec);
    }
  }
  Status open() {
    fs::path parent = fs::path(path_).parent_path();
    if (!parent.empty()) {
      std::error_code ec;
      fs::create_directories(parent, ec);
      if (ec) return Error(ErrorKind::kFatal, "IOError", "cannot create directory: " + ec.message()).with_context(parent.string());
    }
    out_.open(tmp_, std::ios::binary | std::ios::trunc);
    if (!out_) return io_error("cannot create file", tmp_);
    return {};
  }
  Status write(std::string_view data) override {
    sha_.update(data);
    size_ += data.size();
    out_.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out_) return io_error("cannot write", tmp_);
    return {};
  }
  Result<Done> finish() override {
    out_.flush();
    if (!out_) return io_error("cannot write", tmp_);
    out_.close();
    std::error_code ec;
    fs::rename(tmp_, path_, ec);
    if (ec) return Error(ErrorKind::kFatal, "IOError", "cannot rename into place: " + ec.message()).with_context(path_);
    done_ = true;
    return Done{size_, crypto::hex_lower(sha_.finish())};
  }

 private:
  std::string path_, tmp_;
  std::ofstream out_;
  crypto::Sha256 sha_;
  uint64_t size_ = 0;
  bool done_ = false;
};

class StreamSink final : public ObjectSink {
 public:
  explicit StreamSink(std::ostream& out) : out_(out) {}
  Status write(std::string_view data) override {
    sha_.update(data);
    size_ += data.size();
    out_.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out_) return fatal("cannot write to standard output");
    return {};
  }
  Result<Done> finish() override {
    out_.flush();
    if (!out_) return fatal("cannot write to standard output");
    return Done{size_, crypto::hex_lower(sha_.finish())};
  }

 private:
  std::ostream& out_;
  crypto::Sha256 sha_;
  uint64_t size_ = 0;
};

class S3Sink final : public ObjectSink {
 public:
  S3Sink(const s3::Client& client, const Location& loc, const SinkOptions& o)
      : writer_(client, loc.bucket, loc.key,
                s3::ObjectWriterOptions{.part_size = o.part_size, .max_parts_in_flight = o.parts_in_flight, .put = {}}) {}
  Status write(std::string_view data) override { return writer_.write(data); }
  Result<Done> finish() override {
    DR_ASSIGN(s3::ObjectWriteResult r, writer_.finish());
    return Done{r.size, r.sha256_hex};
  }

 private:
  s3::ObjectWriter writer_;
};

}  // namespace

Location child(const Location& parent, std::string_view name) {
  Location c = parent;
  switch (parent.kind) {
    case Location::Kind::kS3:
      c.key = dir_prefix(parent) + std::string(name);
      c.display = "s3://" + c.bucket + "/" + c.key;
      break;
    case Location::Kind::kFile:
    case Location::Kind::kStdio: {
      c.kind = Location::Kind::kFile;
      std::string base = parent.kind == Location::Kind::kStdio ? "." : parent.path;
      if (base.empty()) base = ".";
      c.path = base.back() == '/' ? base + std::string(name) : base + "/" + std::string(name);
      c.display = c.path;
      break;
    }
  }
  return c;
}

std::string display(const Location& loc) {
  switch (loc.kind) {
    case Location::Kind::kS3: return "s3://" + loc.bucket + (loc.key.empty() ? "" : "/" + loc.key);
    case Location::Kind::kFile: return loc.path;
    case Location::Kind::kStdio: return "-";
  }
  return loc.display;
}

std::string base_name(const Location& loc) {
  std::string_view s = loc.kind == Location::Kind::kS3 ? std::string_view(loc.key) : std::string_view(loc.path);
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  size_t slash = s.rfind('/');
  return std::string(slash == std::string_view::npos ? s : s.substr(slash + 1));
}

Storage::Storage(std::string s3_endpoint, std::istream* in, std::ostream* out)
    : endpoint_(std::move(s3_endpoint)), in_(in), out_(out) {}
Storage::Storage(std::shared_ptr<s3::Client> client, std::istream* in, std::ostream* out)
    : in_(in), out_(out), client_(std::move(client)) {}
Storage::~Storage() = default;

Result<s3::Client*> Storage::s3() {
  std::lock_guard lock(mu_);
  if (!client_) {
    try {
      client_ = std::make_shared<s3::Client>(s3::Client::connect(aws::default_region(), endpoint_));
    } catch (const std::exception& e) {
      return fatal(fmt::format("cannot set up the S3 client: {}", e.what()));
    }
  }
  return client_.get();
}

Status Storage::for_each(const Location& dir, bool recursive, const std::string& start_after,
                         const std::function<Status(const ListedEntry&)>& fn) {
  if (dir.kind == Location::Kind::kS3) {
    DR_ASSIGN(s3::Client * c, s3());
    std::string prefix = dir_prefix(dir);
    s3::ListObjectsRequest req;
    req.prefix = prefix;
    if (!recursive) req.delimiter = "/";
    if (!start_after.empty()) req.start_after = prefix + start_after;
    s3::ObjectLister it = c->lister(dir.bucket, req);
    while (!it.done()) {
      DR_ASSIGN(s3::ListObjectsPage page, it.next());
      for (const auto& o : page.objects) {
        if (o.key.size() <= prefix.size()) continue;
        DR_TRY(fn(ListedEntry{o.key.substr(prefix.size()), o.size}));
      }
    }
    return {};
  }
  if (dir.kind == Location::Kind::kStdio) return invalid_input("standard input is not a directory");
  std::error_code ec;
  if (!fs::is_directory(dir.path, ec)) return {};
  fs::path root(dir.path);
  auto visit = [&](const fs::directory_entry& e) -> Status {
    if (!e.is_regular_file()) return {};
    std::string rel = fs::relative(e.path(), root).generic_string();
    if (rel.find(".tmp-") != std::string::npos) return {};  // a sink still writing
    if (!start_after.empty() && rel <= start_after) return {};
    return fn(ListedEntry{rel, static_cast<uint64_t>(e.file_size())});
  };
  if (recursive) {
    for (const auto& e : fs::recursive_directory_iterator(root, ec)) DR_TRY(visit(e));
  } else {
    for (const auto& e : fs::directory_iterator(root, ec)) DR_TRY(visit(e));
  }
  if (ec) return Error(ErrorKind::kFatal, "IOError", "cannot list: " + ec.message()).with_context(dir.path);
  return {};
}

Result<std::vector<ListedEntry>> Storage::list(const Location& dir, bool recursive, std::vector<std::string>* subdirs) {
  std::vector<ListedEntry> out;
  if (dir.kind == Location::Kind::kS3) {
    DR_ASSIGN(s3::Client * c, s3());
    std::string prefix = dir_prefix(dir);
    s3::ListObjectsRequest req;
    req.prefix = prefix;
    if (!recursive) req.delimiter = "/";
    s3::ObjectLister it = c->lister(dir.bucket, req);
    while (!it.done()) {
      DR_ASSIGN(s3::ListObjectsPage page, it.next());
      for (const auto& o : page.objects) {
        if (o.key.size() <= prefix.size()) continue;
        out.push_back(ListedEntry{o.key.substr(prefix.size()), o.size});
      }
      if (subdirs != nullptr) {
        for (const auto& p : page.common_prefixes) {
          std::string name = p.substr(std::min(prefix.size(), p.size()));
          while (!name.empty() && name.back() == '/') name.pop_back();
          if (!name.empty()) subdirs->push_back(name);
        }
      }
    }
  } else {
    DR_TRY(for_each(dir, recursive, "", [&](const ListedEntry& e) -> Status {
      out.push_back(e);
      return {};
    }));
    if (subdirs != nullptr && !recursive && dir.kind == Location::Kind::kFile) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(dir.path, ec)) {
        if (e.is_directory()) subdirs->push_back(e.path().filename().string());
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const ListedEntry& a, const ListedEntry& b) { return a.name < b.name; });
  if (subdirs != nullptr) std::sort(subdirs->begin(), subdirs->end());
  return out;
}

Result<std::optional<uint64_t>> Storage::stat(const Location& obj) {
  switch (obj.kind) {
    case Location::Kind::kS3: {
      if (obj.key.empty() || obj.key.back() == '/') return std::optional<uint64_t>();
      DR_ASSIGN(s3::Client * c, s3());
      auto info = c->head_object(obj.bucket, obj.key);
      if (!info.ok()) {
        if (info.error().kind == ErrorKind::kNotFound && info.error().code != "NoSuchBucket") {
          return std::optional<uint64_t>();
        }
        return info.error();
      }
      return std::optional<uint64_t>(info->size);
    }
    case Location::Kind::kFile: {
      std::error_code ec;
      if (!fs::is_regular_file(obj.path, ec)) return std::optional<uint64_t>();
      return std::optional<uint64_t>(fs::file_size(obj.path, ec));
    }
    case Location::Kind::kStdio: return std::optional<uint64_t>();
  }
  return std::optional<uint64_t>();
}

Result<std::string> Storage::read_all(const Location& obj, size_t max_bytes) {
  if (obj.kind == Location::Kind::kS3) {
    // One GET (a streaming read costs a HEAD too): small objects, read by the thousand.
    DR_ASSIGN(s3::Client * c, s3());
    DR_ASSIGN(s3::GetObjectResult r, c->get_object(obj.bucket, obj.key));
    if (r.body.size() > max_bytes) {
      return invalid_input(fmt::format("larger than {} bytes", max_bytes)).with_context(display(obj));
    }
    return std::move(r.body);
  }
  std::string body;
  DR_TRY(read_stream(obj, [&](std::string_view chunk) -> Status {
    if (body.size() + chunk.size() > max_bytes) {
      return invalid_input(fmt::format("larger than {} bytes", max_bytes)).with_context(display(obj));
    }
    body.append(chunk);
    return {};
  }));
  return body;
}

Status Storage::read_stream(const Location& obj, const std::function<Status(std::string_view)>& on_chunk) {
  switch (obj.kind) {
    case Location::Kind::kS3: {
      DR_ASSIGN(s3::Client * c, s3());
      auto r = c->get_object_streaming(obj.bucket, obj.key, on_chunk);
      if (!r.ok()) return r.error();
      return {};
    }
    case Location::Kind::kFile: {
      std::ifstream in(obj.path, std::ios::binary);
      if (!in) return io_error("cannot open", obj.path);
      std::string buf(size_t{1} << 20, '\0');
      while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        auto n = static_cast<size_t>(in.gcount());
        if (n > 0) DR_TRY(on_chunk(std::string_view(buf.data(), n)));
      }
      if (in.bad()) return io_error("cannot read", obj.path);
      return {};
    }
    case Location::Kind::kStdio: {
      if (in_ == nullptr) return invalid_input("standard input is not available here");
      std::string buf(size_t{1} << 20, '\0');
      while (*in_) {
        in_->read(buf.data(), static_cast<std::streamsize>(buf.size()));
        auto n = static_cast<size_t>(in_->gcount());
        if (n > 0) DR_TRY(on_chunk(std::string_view(buf.data(), n)));
      }
      return {};
    }
  }
  return {};
}

Status Storage::write_all(const Location& obj, std::string body) {
  if (obj.kind == Location::Kind::kS3) {
    DR_ASSIGN(s3::Client * c, s3());
    auto r = c->put_object(obj.bucket, obj.key, std::move(body));
    if (!r.ok()) return r.error();
    return {};
  }
  DR_ASSIGN(auto sink, open_sink(obj));
  DR_TRY(sink->write(body));
  auto done = sink->finish();
  if (!done.ok()) return done.error();
  return {};
}

Status Storage::remove(const Location& obj) {
  if (obj.kind == Location::Kind::kS3) {
    DR_ASSIGN(s3::Client * c, s3());
    return c->delete_object(obj.bucket, obj.key);
  }
  if (obj.kind == Location::Kind::kStdio) return invalid_input("cannot remove standard output");
  std::error_code ec;
  fs::remove(obj.path, ec);
  if (ec) return Error(ErrorKind::kFatal, "IOError", "cannot remove: " + ec.message()).with_context(obj.path);
  return {};
}

Result<std::optional<std::string>> Storage::etag(const Location& obj) {
  if (obj.kind != Location::Kind::kS3) return invalid_input("conditional writes need S3: " + display(obj));
  DR_ASSIGN(s3::Client * c, s3());
  auto info = c->head_object(obj.bucket, obj.key);
  if (!info.ok()) {
    if (info.error().kind == ErrorKind::kNotFound && info.error().code != "NoSuchBucket") {
      return std::optional<std::string>();
    }
    return info.error();
  }
  return std::optional<std::string>(info->etag);
}

Status Storage::write_all(const Location& obj, std::string body, const WriteCondition& condition,
                          const aws::CallOptions& call) {
  if (obj.kind != Location::Kind::kS3) return invalid_input("conditional writes need S3: " + display(obj));
  DR_ASSIGN(s3::Client * c, s3());
  s3::PutOptions put;
  put.if_match = condition.if_match;
  put.if_none_match = condition.if_absent;
  auto r = c->put_object(obj.bucket, obj.key, std::move(body), put, call);
  if (!r.ok()) return r.error();
  return {};
}

Status Storage::remove(const Location& obj, const std::string& if_match, const aws::CallOptions& call) {
  if (obj.kind != Location::Kind::kS3) return invalid_input("conditional deletes need S3: " + display(obj));
  DR_ASSIGN(s3::Client * c, s3());
  return c->delete_object(obj.bucket, obj.key, s3::DeleteOptions{.if_match = if_match}, call);
}

Result<std::unique_ptr<ObjectSink>> Storage::open_sink(const Location& obj, const SinkOptions& options) {
  switch (obj.kind) {
    case Location::Kind::kS3: {
      DR_ASSIGN(s3::Client * c, s3());
      return std::unique_ptr<ObjectSink>(std::make_unique<S3Sink>(*c, obj, options));
    }
    case Location::Kind::kFile: {
      auto sink = std::make_unique<FileSink>(obj.path);
      DR_TRY(sink->open());
      return std::unique_ptr<ObjectSink>(std::move(sink));
    }
    case Location::Kind::kStdio:
      if (out_ == nullptr) return invalid_input("standard output is not available here");
      return std::unique_ptr<ObjectSink>(std::make_unique<StreamSink>(*out_));
  }
  return invalid_input("unknown location kind");
}

}  // namespace dynarep::backup
