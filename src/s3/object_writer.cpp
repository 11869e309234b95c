// ObjectWriter: streaming upload with bounded memory and bounded parts in flight (the
// first worker error is handed back to the producer).
//
// The producer (caller) thread fills one part buffer at a time. A full buffer goes to a queue
// served by max_parts_in_flight worker threads; the producer blocks while that many parts are
// queued or uploading, so at most max_parts_in_flight + 1 buffers exist. A part is only sent
// once more data follows it: an object that fits in one part is sent as one PutObject at
// finish(), and every multipart upload's last part holds at least one byte.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "crypto/encoding.h"
#include "crypto/sha256.h"
#include "s3/client.h"
#include "s3/detail.h"

namespace dynarep::s3 {

namespace {

constexpr std::size_t kMinPartSize = std::size_t{5} << 20;   // S3: all parts but the last
constexpr std::size_t kMaxPartSize = std::size_t{5} << 30;   // S3: 5 GiB
constexpr int kMaxParts = 10000;                              // S3: part numbers 1..10000
constexpr int kPartsPerSizeStep = 2000;

}  // namespace

struct ObjectWriter::State {
  enum class Phase { kOpen, kFinished, kAborted, kFailed };

  Client client;
  std::string bucket, key;
  ObjectWriterOptions options;
  crypto::Sha256 sha;
  std::uint64_t bytes = 0;
  std::string current;  // the part being filled
  std::optional<MultipartUpload> upload;
  int next_part = 1;
  Phase phase = Phase::kOpen;
  std::optional<Error> failure;  // what made phase kFailed

  // Shared with the workers, under mu.
  struct Job {
    int part_number;
    std::string body;
  };
  std::mutex mu;
  std::condition_variable work_cv;  // workers wait for jobs or stop
  std::condition_variable done_cv;  // the producer waits for room or for all parts
  std::deque<Job> queue;
  int in_flight = 0;  // queued + uploading
  int peak_in_flight = 0;
  bool stop = false;
  std::vector<CompletedPart> completed;
  std::optional<Error> worker_error;  // the first part that failed
  std::atomic<bool> cancel{false};    // tells retrying parts to give up
  std::vector<std::thread> workers;

  State(const Client& c, std::string b, std::string k, ObjectWriterOptions o)
      : client(c), bucket(std::move(b)), key(std::move(k)), options(std::move(o)) {
    options.part_size = std::clamp(options.part_size, kMinPartSize, kMaxPartSize);
    options.max_parts_in_flight = std::max(1, options.max_parts_in_flight);
  }

  std::size_t part_size_for(int part_number) const {
    std::size_t size = options.part_size;
    for (int step = (part_number - 1) / kPartsPerSizeStep; step > 0 && size < kMaxPartSize; --step) size *= 2;
    return std::min(size, kMaxPartSize);
  }

  void worker() {
    for (;;) {
      Job job;
      {
        std::unique_lock lk(mu);
        work_cv.wait(lk, [&] { return stop || !queue.empty(); });
        if (queue.empty()) return;
        job = std::move(queue.front());
        queue.pop_front();
      }
      Result<std::string> etag = cancel.load() ? Result<std::string>(Error(ErrorKind::kCancelled, "Cancelled",
                                                                           "another part failed"))
                                               : upload->upload_part(job.part_number, std::move(job.body), &cancel);
      {
        std::lock_guard lk(mu);
        --in_flight;
        if (etag.ok()) {
          completed.push_back({job.part_number, std::move(etag).value()});
        } else if (!worker_error) {
          worker_error = std::move(etag).error();
          cancel = true;
        }
      }
      done_cv.notify_all();
    }
  }

  void stop_workers() {
    {
      std::lock_guard lk(mu);
      stop = true;
      if (phase != Phase::kFinished) {
        cancel = true;
        queue.clear();
      }
    }
    work_cv.notify_all();
    for (auto& t : workers) t.join();
    workers.clear();
    // Jobs dropped from the queue were counted in flight.
    std::lock_guard lk(mu);
    in_flight = 0;
  }

  // Ends in failure: stops the workers, aborts the upload, remembers and returns `e`.
  Error fail(Error e) {
    phase = Phase::kFailed;
    stop_workers();
    abort_upload();
    failure = e;
    return e;
  }

  void abort_upload() {
    if (!upload) return;
    Status st = upload->abort();
    if (!st.ok()) {
      // The parts stay (and are billed) until a lifecycle rule removes them; no object appears.
      spdlog::warn("{}; its parts remain until a lifecycle rule removes them", st.error().describe());
    }
    upload.reset();
  }

  Status submit_current() {
    if (!upload) {
      DR_ASSIGN(MultipartUpload u, MultipartUpload::create(client, bucket, key, options.put));
      upload.emplace(std::move(u));
      for (int i = 0; i < options.max_parts_in_flight; ++i) workers.emplace_back([this] { worker(); });
    }
    if (next_part > kMaxParts) {
      return Error(ErrorKind::kInvalidInput, "TooManyParts",
                   fmt::format("{}: object larger than {} parts ({} bytes so far)", Client::display(bucket, key),
                               kMaxParts, bytes));
    }
    {
      std::unique_lock lk(mu);
      done_cv.wait(lk, [&] { return in_flight < options.max_parts_in_flight || worker_error.has_value(); });
      if (worker_error) return *worker_error;
      queue.push_back({next_part++, std::move(current)});
      ++in_flight;
      peak_in_flight = std::max(peak_in_flight, in_flight);
    }
    work_cv.notify_one();
    current = std::string();
    return {};
  }

  Status check_open() {
    switch (phase) {
      case Phase::kOpen: break;
      case Phase::kFailed: return *failure;
      case Phase::kFinished: return fatal(fmt::format("{}: ObjectWriter used after finish()", Client::display(bucket, key)));
      case Phase::kAborted: return Error(ErrorKind::kCancelled, "Aborted",
                                         fmt::format("{}: upload was aborted", Client::display(bucket, key)));
    }
    std::lock_guard lk(mu);
    if (worker_error) return *worker_error;
    return {};
  }
};

ObjectWriter::ObjectWriter(const Client& client, std::string bucket, std::string key, ObjectWriterOptions options)
    : state_(std::make_unique<State>(client, std::move(bucket), std::move(key), std::move(options))) {}

ObjectWriter::~ObjectWriter() {
  if (state_ && state_->phase == State::Phase::kOpen) abort().ignore_error();  // logged by abort_upload
}

Status ObjectWriter::write(std::string_view data) {
  State& s = *state_;
  if (Status st = s.check_open(); !st.ok()) {
    if (s.phase == State::Phase::kOpen) return s.fail(std::move(st).error());
    return st;
  }
  s.sha.update(data);
  s.bytes += data.size();
  while (!data.empty()) {
    const std::size_t target = s.part_size_for(s.next_part);
    if (s.current.size() >= target) {
      Status st = s.submit_current();
      if (!st.ok()) return s.fail(std::move(st).error());
      continue;
    }
    if (s.current.empty()) s.current.reserve(target);
    const std::size_t take = std::min(target - s.current.size(), data.size());
    s.current.append(data.substr(0, take));
    data.remove_prefix(take);
  }
  return {};
}

Result<ObjectWriteResult> ObjectWriter::finish() {
  State& s = *state_;
  if (Status st = s.check_open(); !st.ok()) {
    if (s.phase == State::Phase::kOpen) return s.fail(std::move(st).error());
    return std::move(st).error();
  }
  ObjectWriteResult out;
  out.size = s.bytes;
  out.sha256_hex = crypto::hex_lower(s.sha.finish());
  if (!s.upload) {
    auto put = s.client.put_object(s.bucket, s.key, std::move(s.current), s.options.put);
    s.current = std::string();
    if (!put.ok()) {
      s.phase = State::Phase::kFailed;
      s.failure = put.error();
      return std::move(put).error();
    }
    s.phase = State::Phase::kFinished;
    out.etag = put->etag;
    out.version_id = put->version_id;
    return out;
  }
  if (Status st = s.submit_current(); !st.ok()) return s.fail(std::move(st).error());
  {
    std::unique_lock lk(s.mu);
    s.done_cv.wait(lk, [&] { return s.in_flight == 0 || s.worker_error.has_value(); });
    if (s.worker_error) {
      Error e = *s.worker_error;
      lk.unlock();
      return s.fail(std::move(e));
    }
  }
  s.phase = State::Phase::kFinished;  // before stop_workers: nothing left to cancel
  s.stop_workers();
  out.parts = static_cast<int>(s.completed.size());
  auto done = s.upload->complete(std::move(s.completed));
  if (!done.ok()) {
    s.phase = State::Phase::kOpen;
    return s.fail(std::move(done).error());
  }
  s.upload.reset();
  out.etag = done->etag;
  out.version_id = done->version_id;
  return out;
}

Status ObjectWriter::abort() {
  State& s = *state_;
  if (s.phase == State::Phase::kAborted || s.phase == State::Phase::kFinished) return {};
  const bool had_upload = s.upload.has_value();
  s.stop_workers();
  Status st;
  if (s.upload) {
    st = s.upload->abort();
    s.upload.reset();
  }
  if (s.phase == State::Phase::kOpen) s.phase = State::Phase::kAborted;
  s.current = std::string();
  if (!st.ok() && had_upload) {
    spdlog::warn("{}; its parts remain until a lifecycle rule removes them", st.error().describe());
  }
  return st;
}

std::uint64_t ObjectWriter::bytes_written() const { return state_->bytes; }
int ObjectWriter::parts_started() const { return state_->next_part - 1; }
int ObjectWriter::peak_parts_in_flight() const {
  std::lock_guard lk(state_->mu);
  return state_->peak_in_flight;
}

}  // namespace dynarep::s3
