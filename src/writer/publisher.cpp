#include "writer/publisher.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <stdexcept>

#include "model/item.h"

namespace dynarep::writer {
namespace {

// Entry error codes worth re-sending (Kinesis API reference, PutRecords: "ErrorCode ...
// ProvisionedThroughputExceededException or InternalFailure"; KMS throttling likewise passes).
// Other codes (KMSAccessDeniedException, KMSDisabledException, KMSNotFoundException ...) need
// a person, not another attempt.
bool retryable_entry_code(std::string_view code) {
  return code == "ProvisionedThroughputExceededException" || code == "InternalFailure" ||
         code == "KMSThrottlingException" || code == "ServiceUnavailable";
}

ErrorKind entry_error_kind(std::string_view code) {
  if (code == "ProvisionedThroughputExceededException" || code == "KMSThrottlingException") {
    return ErrorKind::kThrottled;
  }
  if (retryable_entry_code(code)) return ErrorKind::kTransient;
  if (code.starts_with("KMSAccessDenied")) return ErrorKind::kAuth;
  return ErrorKind::kFatal;
}

// How far a key may block the queue: a sender looks at most this many entries of keys held by
// other senders before it sends what it has, so a hot key cannot make every batch scan the
// whole queue.
constexpr std::size_t kMaxSkipped = 4096;

}  // namespace

PublishOutcome StreamPublisher::Ticket::wait() const {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return remaining_ == 0; });
  PublishOutcome out;
  auto failed = failed_;
  std::sort(failed.begin(), failed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [i, c] : failed) out.unpublished.push_back(std::move(c));
  if (!out.unpublished.empty()) out.error = error_;
  return out;
}

bool StreamPublisher::Ticket::done() const {
  std::lock_guard lock(mu_);
  return remaining_ == 0;
}

StreamPublisher::StreamPublisher(std::shared_ptr<kinesis::Client> client, PublisherOptions options)
    : client_(std::move(client)),
      opt_(std::move(options)),
      clock_(opt_.clock != nullptr ? *opt_.clock : SystemClock::instance()) {
  if (!client_) throw std::invalid_argument("StreamPublisher: no kinesis client");
  if (opt_.stream.empty()) throw std::invalid_argument("StreamPublisher: no stream name");
  opt_.max_attempts = std::max(1, opt_.max_attempts);
  opt_.max_in_flight = std::max(1, opt_.max_in_flight);
  opt_.max_batch_records = std::clamp<std::size_t>(opt_.max_batch_records, 1, kinesis::kMaxPutRecordsEntries);
  opt_.max_batch_bytes = std::clamp<std::size_t>(opt_.max_batch_bytes, 1, kinesis::kMaxPutRecordsBytes);
  opt_.max_pending = std::max<std::size_t>(1, opt_.max_pending);
  for (int i = 0; i < opt_.max_in_flight; ++i) senders_.emplace_back([this] { sender(); });
}

StreamPublisher::~StreamPublisher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : senders_) t.join();
}

std::shared_ptr<StreamPublisher::Ticket> StreamPublisher::submit(std::vector<Change> changes) {
  auto ticket = std::make_shared<Ticket>();
  ticket->remaining_ = changes.size();
  if (changes.empty()) return ticket;
  std::list<Entry> entries;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    Entry e;
    e.data = record_data(changes[i]);
    e.partition_key = record_partition_key(changes[i]);
    e.change = std::move(changes[i]);
    e.ticket = ticket;
    e.index = i;
    entries.push_back(std::move(e));
  }
  {
    std::unique_lock lock(mu_);
    space_cv_.wait(lock, [&] { return pending_.empty() || pending_.size() + entries.size() <= opt_.max_pending; });
    outstanding_ += entries.size();
    pending_.splice(pending_.end(), entries);
  }
  work_cv_.notify_all();
  return ticket;
}

void StreamPublisher::flush() {
  std::unique_lock lock(mu_);
  space_cv_.wait(lock, [&] { return outstanding_ == 0; });
}

PublisherStats StreamPublisher::stats() const {
  return {calls_.load(), published_.load(), resent_.load(), unpublished_.load()};
}

void StreamPublisher::sender() {
  std::unique_lock lock(mu_);
  while (true) {
    if (stopping_ && pending_.empty()) return;
    std::vector<Entry> batch = take_batch();
    if (batch.empty()) {
      work_cv_.wait(lock);
      continue;
    }
    lock.unlock();
    send(batch);
    lock.lock();
    for (const auto& e : batch) in_flight_.erase(e.partition_key);
    outstanding_ -= batch.size();
    space_cv_.notify_all();
    // Released keys may unblock records another sender skipped.
    work_cv_.notify_all();
  }
}

std::vector<StreamPublisher::Entry> StreamPublisher::take_batch() {
  std::vector<Entry> batch;
  std::size_t bytes = 0;
  std::size_t skipped = 0;
  for (auto it = pending_.begin(); it != pending_.end() && batch.size() < opt_.max_batch_records;) {
    if (in_flight_.contains(it->partition_key)) {
      // Held by another sender, or already in this batch: its later records wait their turn.
      if (++skipped > kMaxSkipped) break;
      ++it;
      continue;
    }
    std::size_t size = it->data.size() + it->partition_key.size();
    if (!batch.empty() && bytes + size > opt_.max_batch_bytes) break;
    bytes += size;
    in_flight_.emplace(it->partition_key, 1);
    batch.push_back(std::move(*it));
    it = pending_.erase(it);
  }
  if (!batch.empty()) space_cv_.notify_all();
  return batch;
}

std::chrono::milliseconds StreamPublisher::backoff(int attempts) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  int64_t base = opt_.base_backoff.count();
  int64_t cap = opt_.max_backoff.count();
  int shift = std::min(attempts - 1, 20);
  int64_t d = std::min(cap, base << std::max(0, shift));
  // Equal jitter: at least half the delay, so a retry never goes out at once.
  std::uniform_int_distribution<int64_t> dist(0, d / 2);
  return std::chrono::milliseconds(d - d / 2 + dist(rng));
}

void StreamPublisher::resolve(Entry& entry, const std::optional<Error>& failure) {
  if (failure) {
    unpublished_.fetch_add(1);
    spdlog::debug("stream {}: giving up on {} after {} attempts: {}", opt_.stream, describe(entry.change),
                  entry.attempts, failure->describe());
  } else {
    published_.fetch_add(1);
  }
  Ticket& t = *entry.ticket;
  std::lock_guard lock(t.mu_);
  if (failure) {
    t.failed_.emplace_back(entry.index, entry.change);
    t.error_ = failure;
  }
  if (--t.remaining_ == 0) t.cv_.notify_all();
}

void StreamPublisher::send(std::vector<Entry>& batch) {
  std::vector<Entry*> todo;
  todo.reserve(batch.size());
  for (auto& e : batch) todo.push_back(&e);
  std::vector<kinesis::PutRecordsEntry> request;
  while (!todo.empty()) {
    request.clear();
    request.reserve(todo.size());
    for (Entry* e : todo) request.push_back({e->data, e->partition_key, std::nullopt});
    calls_.fetch_add(1);
    auto r = client_->put_records(opt_.stream, request);
    std::vector<Entry*> again;
    int max_attempts_seen = 0;
    if (!r.ok() || r->entries.size() != todo.size()) {
      Error e = r.ok() ? Error(ErrorKind::kTransient, "MalformedResponse",
                               fmt::format("PutRecords answered {} results for {} records", r->entries.size(),
                                           todo.size()))
                                 .with_context("kinesis PutRecords on stream " + opt_.stream)
                       : r.error();
      // A call no retry can fix (the stream is gone, access denied, a validation error) gives
      // up on every record at once; a transient one counts as an attempt for each.
      for (Entry* entry : todo) {
        ++entry->attempts;
        if (!e.retryable() || entry->attempts >= opt_.max_attempts) {
          resolve(*entry, e);
        } else {
          again.push_back(entry);
          max_attempts_seen = std::max(max_attempts_seen, entry->attempts);
        }
      }
    } else {
      for (std::size_t i = 0; i < todo.size(); ++i) {
        Entry* entry = todo[i];
        const auto& res = r->entries[i];
        ++entry->attempts;
        if (res.ok()) {
          resolve(*entry, std::nullopt);
          continue;
        }
        if (retryable_entry_code(res.error_code) && entry->attempts < opt_.max_attempts) {
          again.push_back(entry);
          max_attempts_seen = std::max(max_attempts_seen, entry->attempts);
          continue;
        }
        Error e(entry_error_kind(res.error_code), res.error_code, res.error_message);
        e.with_context(fmt::format("kinesis PutRecords on stream {}: record for key {} ({} attempts)", opt_.stream,
                                   model::canonical_key_json(entry->change.key), entry->attempts));
        resolve(*entry, e);
      }
    }
    if (!again.empty()) {
      resent_.fetch_add(again.size());
      spdlog::debug("stream {}: re-sending {} of {} records", opt_.stream, again.size(), todo.size());
      clock_.sleep_for(backoff(max_attempts_seen));
    }
    todo = std::move(again);
  }
}

}  // namespace dynarep::writer
