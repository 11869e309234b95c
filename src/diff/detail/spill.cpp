#include "diff/detail/spill.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace dynarep::diff::detail {
namespace {

Error io_error(std::string_view what, const std::string& path, int err) {
  return Error(ErrorKind::kFatal, "SpillIo", fmt::format("{} {}: {}", what, path, std::strerror(err)));
}

void put_u32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }
void put_u64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }
void put_hash(std::string& out, const Hash128& h) {
  put_u64(out, h.hi);
  put_u64(out, h.lo);
}

uint32_t get_u32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
uint64_t get_u64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
Hash128 get_hash(const char* p) { return Hash128{get_u64(p), get_u64(p + 8)}; }

size_t decode(std::string_view b, ScanRecord* r) { return decode_scan_record(b, r); }
size_t decode(std::string_view b, RoundRecord* r) { return decode_round_record(b, r); }

}  // namespace

Result<std::unique_ptr<TempDir>> TempDir::create(const std::string& parent) {
  std::string base = parent;
  if (base.empty()) {
    const char* t = std::getenv("TMPDIR");
    base = (t != nullptr && *t != '\0') ? t : "/tmp";
  }
  std::string tmpl = base + "/dynarep-diff-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  // mkdtemp creates the directory with mode 0700: other users cannot list or read it.
  if (::mkdtemp(buf.data()) == nullptr) return io_error("cannot create a temporary directory in", base, errno);
  return std::unique_ptr<TempDir>(new TempDir(std::string(buf.data())));
}

TempDir::~TempDir() {
  // Files are unlinked as soon as they are created, so the directory is empty here.
  ::rmdir(path_.c_str());
}

Result<std::unique_ptr<SpillFile>> TempDir::new_file(std::string_view name, size_t buffer_bytes) {
  std::string path = fmt::format("{}/{}-{}", path_, name, counter_++);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("cannot create spill file", path, errno);
  // Unlinked at once: the data goes away with the descriptor, even if the process is killed.
  ::unlink(path.c_str());
  return std::make_unique<SpillFile>(fd, std::move(path), buffer_bytes);
}

SpillFile::SpillFile(int fd, std::string name, size_t buffer_bytes)
    : fd_(fd), name_(std::move(name)), buffer_bytes_(buffer_bytes) {}

SpillFile::~SpillFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status SpillFile::write_out(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::pwrite(fd_, bytes.data(), bytes.size(), written_);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot write spill file", name_, errno);
    }
    written_ += n;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Status SpillFile::append(std::string_view bytes) {
  if (buf_.size() + bytes.size() > buffer_bytes_) {
    DR_TRY(flush());
    if (bytes.size() >= buffer_bytes_) return write_out(bytes);
  }
  buf_.append(bytes);
  return {};
}

Status SpillFile::flush() {
  if (buf_.empty()) return {};
  DR_TRY(write_out(buf_));
  buf_.clear();
  return {};
}

Status SpillFile::finish() {
  DR_TRY(flush());
  // Give the capacity back: the buffer is idle once the file is written.
  std::string().swap(buf_);
  return {};
}

Status SpillFile::read_at(int64_t offset, size_t max, std::string* out) const {
  out->resize(max);
  size_t got = 0;
  while (got < max) {
    ssize_t n = ::pread(fd_, out->data() + got, max - got, offset + static_cast<int64_t>(got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot read spill file", name_, errno);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out->resize(got);
  return {};
}

Result<std::string> SpillFile::read_all() const {
  std::string out;
  DR_TRY(read_at(0, static_cast<size_t>(written_), &out));
  if (static_cast<int64_t>(out.size()) != written_) {
    return Error(ErrorKind::kFatal, "SpillIo", fmt::format("spill file {} is shorter than written", name_));
  }
  return out;
}

void append_scan_record(std::string& out, const Hash128& key, const Hash128& fp, uint32_t size,
                        std::string_view key_json) {
  put_hash(out, key);
  put_hash(out, fp);
  put_u32(out, size);
  put_u32(out, static_cast<uint32_t>(key_json.size()));
  out.append(key_json);
}

void append_round_record(std::string& out, const RoundRecord& r) {
  put_hash(out, r.key);
  put_hash(out, r.primary_fp);
  put_hash(out, r.replica_fp);
  put_u32(out, r.size);
  put_u32(out, static_cast<uint32_t>(r.key_json.size()));
  out.append(r.key_json);
}

size_t decode_scan_record(std::string_view b, ScanRecord* r) {
  if (b.size() < kScanHeader) return 0;
  const char* p = b.data();
  uint32_t len = get_u32(p + 36);
  if (b.size() < kScanHeader + len) return 0;
  r->key = get_hash(p);
  r->fp = get_hash(p + 16);
  r->size = get_u32(p + 32);
  r->key_json = std::string_view(p + kScanHeader, len);
  return kScanHeader + len;
}

size_t decode_round_record(std::string_view b, RoundRecord* r) {
  if (b.size() < kRoundHeader) return 0;
  const char* p = b.data();
  uint32_t len = get_u32(p + 52);
  if (b.size() < kRoundHeader + len) return 0;
  r->key = get_hash(p);
  r->primary_fp = get_hash(p + 16);
  r->replica_fp = get_hash(p + 32);
  r->size = get_u32(p + 48);
  r->key_json = std::string_view(p + kRoundHeader, len);
  return kRoundHeader + len;
}

template <class Record>
Result<bool> RecordReader<Record>::next(Record* out) {
  while (true) {
    std::string_view rest(buf_.data() + pos_, buf_.size() - pos_);
    size_t used = decode(rest, out);
    if (used > 0) {
      pos_ += used;
      return true;
    }
    if (offset_ >= file_.size()) {
      if (!rest.empty()) {
        return Error(ErrorKind::kFatal, "SpillIo",
                     fmt::format("spill file {} ends inside a record", file_.name()));
      }
      return false;
    }
    std::string more;
    DR_TRY(file_.read_at(offset_, chunk_, &more));
    if (more.empty()) {
      return Error(ErrorKind::kFatal, "SpillIo", fmt::format("spill file {} is shorter than written", file_.name()));
    }
    offset_ += static_cast<int64_t>(more.size());
    buf_.erase(0, pos_);
    pos_ = 0;
    buf_ += more;
  }
}

template class RecordReader<ScanRecord>;
template class RecordReader<RoundRecord>;

}  // namespace dynarep::diff::detail
