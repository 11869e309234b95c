#include "writer/batch_writer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <unordered_set>

#include "model/item.h"

namespace dynarep::writer {
namespace {

// Capped exponential backoff with equal jitter between re-sends of unprocessed items (the AWS
// layer already retried each call; this is the loop over partial results).
std::chrono::milliseconds unprocessed_backoff(int attempt) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  int64_t cap = std::min<int64_t>(2000, int64_t{25} << std::min(attempt, 10));
  std::uniform_int_distribution<int64_t> dist(0, cap / 2);
  return std::chrono::milliseconds(cap - cap / 2 + dist(rng));
}

}  // namespace

BatchWriter::BatchWriter(dynamodb::Client& client, std::string table, model::KeySchema key_schema,
                         BatchWriterOptions options)
    : client_(client),
      table_(std::move(table)),
      key_schema_(std::move(key_schema)),
      opt_(std::move(options)),
      clock_(opt_.clock != nullptr ? *opt_.clock : SystemClock::instance()) {
  if (opt_.publisher != nullptr) publisher_failures_at_start_ = opt_.publisher->unpublished_count();
  std::size_t n = static_cast<std::size_t>(std::max(1, opt_.parallel));
  queues_.resize(n);
  for (std::size_t i = 0; i < n; ++i) threads_.emplace_back([this, i] { worker(i); });
}

BatchWriter::~BatchWriter() {
  if (!finished_) finish().ignore_error();
}

Status BatchWriter::add(dynamodb::WriteRequest request) {
  auto key = model::extract_key(request.item, key_schema_);
  if (!key.ok()) return std::move(key).error().with_context("table " + table_);
  uint64_t h = model::key_hash(*key);
  std::unique_lock lock(mu_);
  not_full_.wait(lock, [&] { return queued_ < opt_.max_queued || write_error_.has_value(); });
  if (write_error_) return *write_error_;
  auto& q = queues_[h % queues_.size()];
  q.push_back({std::move(request), std::move(key).value(), h});
  ++queued_;
  if (q.size() >= dynamodb::kMaxBatchWrite) not_empty_.notify_all();
  return {};
}

bool BatchWriter::failed() const {
  if (failed_.load()) return true;
  return opt_.publisher != nullptr && opt_.publisher->unpublished_count() > publisher_failures_at_start_;
}

WriteResult<BatchWriteSummary> BatchWriter::finish() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  not_empty_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  finished_ = true;
  std::lock_guard lock(mu_);
  for (auto& q : queues_) {
    not_written_ += static_cast<int64_t>(q.size());
    q.clear();
  }
  queued_ = 0;
  if (!write_error_ && unpublished_.empty()) {
    return BatchWriteSummary{written_.load(), not_written_, write_units_};
  }
  WriteError e;
  e.write_error = write_error_;
  if (!unpublished_.empty()) e.publish_error = publish_error_;
  e.unpublished = unpublished_;
  e.written = written_.load();
  return e;
}

void BatchWriter::worker(std::size_t index) {
  std::vector<Queued> batch;
  std::vector<uint64_t> hashes;
  std::deque<std::shared_ptr<StreamPublisher::Ticket>> tickets;
  auto& queue = queues_[index];
  while (true) {
    batch.clear();
    hashes.clear();
    {
      std::unique_lock lock(mu_);
      // Wait for a full batch, or whatever is left once closing.
      not_empty_.wait(lock, [&] {
        return queue.size() >= dynamodb::kMaxBatchWrite || closing_ || write_error_.has_value();
      });
      if (write_error_) break;  // another worker failed: what is queued is not written
      if (queue.empty()) {
        if (closing_) break;
        continue;
      }
      while (!queue.empty() && batch.size() < dynamodb::kMaxBatchWrite) {
        // A key already in this batch ends it: its second write goes in the next one.
        if (std::find(hashes.begin(), hashes.end(), queue.front().key_hash) != hashes.end()) break;
        hashes.push_back(queue.front().key_hash);
        batch.push_back(std::move(queue.front()));
        queue.pop_front();
      }
      queued_ -= batch.size();
    }
    not_full_.notify_all();
    Status st = write_batch(batch, tickets);
    if (!st.ok()) {
      {
        std::lock_guard lock(mu_);
        if (!write_error_) write_error_ = st.error();
        failed_.store(true);
      }
      not_full_.notify_all();
      not_empty_.notify_all();
      break;
    }
    collect(tickets, false);
  }
  collect(tickets, true);
}

Status BatchWriter::write_batch(std::vector<Queued>& batch,
                                std::deque<std::shared_ptr<StreamPublisher::Ticket>>& tickets) {
  std::vector<Queued*> pending;
  pending.reserve(batch.size());
  for (auto& q : batch) pending.push_back(&q);
  std::vector<dynamodb::WriteRequest> requests;
  int attempt = 0;
  while (!pending.empty()) {
    // Move the requests into the call and back: no copies of the items.
    requests.clear();
    for (Queued* q : pending) requests.push_back(std::move(q->request));
    auto r = client_.batch_write(table_, requests);
    for (std::size_t i = 0; i < pending.size(); ++i) pending[i]->request = std::move(requests[i]);
    if (!r.ok()) {
      Error e = r.error();
      e.with_context(fmt::format("BatchWriteItem of {} items, first key {}: {} items written before this call",
                                 pending.size(), model::canonical_key_json(pending.front()->key),
                                 written_.load()));
      return e;
    }
    {
      std::lock_guard lock(mu_);
      write_units_ += r->consumed_write_units;
    }
    std::unordered_set<uint64_t> unprocessed;
    for (const auto& u : r->unprocessed) {
      auto k = model::extract_key(u.item, key_schema_);
      if (!k.ok()) {
        return Error(ErrorKind::kFatal, "MalformedResponse",
                     "BatchWriteItem returned an unprocessed item without a valid key: " + k.error().describe())
            .with_context("table " + table_);
      }
      unprocessed.insert(model::key_hash(*k));
    }
    std::vector<Queued*> done, again;
    for (Queued* q : pending) (unprocessed.contains(q->key_hash) ? again : done).push_back(q);
    confirmed(done, tickets);
    if (!again.empty()) {
      spdlog::debug("table {}: {} of {} writes unprocessed, re-sending", table_, again.size(), pending.size());
      clock_.sleep_for(unprocessed_backoff(attempt++));
    } else {
      attempt = 0;
    }
    pending = std::move(again);
  }
  return {};
}

void BatchWriter::confirmed(std::vector<Queued*>& items,
                            std::deque<std::shared_ptr<StreamPublisher::Ticket>>& tickets) {
  if (items.empty()) return;
  written_.fetch_add(static_cast<int64_t>(items.size()));
  if (opt_.progress != nullptr) opt_.progress->add(static_cast<int64_t>(items.size()));
  if (opt_.publisher == nullptr) return;
  std::vector<Change> changes;
  changes.reserve(items.size());
  for (Queued* q : items) {
    Event ev = q->request.kind == dynamodb::WriteRequest::Kind::kPut ? Event::kInsert : Event::kRemove;
    changes.push_back(make_change(q->key, ev, opt_.aws_region));
  }
  tickets.push_back(opt_.publisher->submit(std::move(changes)));
}

void BatchWriter::collect(std::deque<std::shared_ptr<StreamPublisher::Ticket>>& tickets, bool wait) {
  while (!tickets.empty() && (wait || tickets.front()->done())) {
    PublishOutcome out = tickets.front()->wait();
    tickets.pop_front();
    if (out.ok()) continue;
    std::lock_guard lock(mu_);
    for (auto& c : out.unpublished) unpublished_.push_back(std::move(c));
    publish_error_ = out.error;
    failed_.store(true);
  }
}

}  // namespace dynarep::writer
