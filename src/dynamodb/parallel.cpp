#include "dynamodb/parallel.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <unordered_set>

#include "dynamodb/detail/batch_backoff.h"
#include "model/item.h"

namespace dynarep::dynamodb {
namespace {

template <class Page, class ScanFn>
Result<ScanTotals> run_parallel_scan(const ParallelScanOptions& opt, ScanFn scan_page,
                                     const std::function<Status(int, Page&)>& on_page) {
  std::vector<int> segments = opt.segments;
  if (segments.empty()) {
    for (int i = 0; i < opt.total_segments; ++i) segments.push_back(i);
  }
  for (int s : segments) {
    if (s < 0 || s >= opt.total_segments) {
      return invalid_input(fmt::format("segment {} is outside 0..{}", s, opt.total_segments - 1));
    }
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::optional<Error> first_error;
  ScanTotals totals;

  auto work = [&] {
    ScanTotals mine;
    while (!failed.load()) {
      size_t idx = next.fetch_add(1);
      if (idx >= segments.size()) break;
      ScanRequest req;
      req.table = opt.table;
      if (opt.total_segments > 1) {
        req.segment = segments[idx];
        req.total_segments = opt.total_segments;
      }
      req.consistent_read = opt.consistent_read;
      req.limit = opt.page_limit;
      while (!failed.load()) {
        Result<Page> page = scan_page(req);
        Status st = page.ok() ? Status{} : Status(page.error());
        if (st.ok()) {
          mine.items += static_cast<int64_t>(page->items.size());
          mine.scanned += page->scanned_count;
          mine.read_units += page->consumed_read_units;
          if (opt.rate_limiter != nullptr) {
            opt.rate_limiter->acquire(static_cast<int64_t>(page->items.size()));
          }
          std::optional<Item> next_key = std::move(page->last_evaluated_key);
          st = on_page(segments[idx], *page);
          if (st.ok()) {
            if (!next_key) break;
            req.exclusive_start_key = std::move(next_key);
            continue;
          }
        }
        std::lock_guard lock(mu);
        if (!first_error) first_error = st.error();
        failed.store(true);
      }
    }
    std::lock_guard lock(mu);
    totals.items += mine.items;
    totals.scanned += mine.scanned;
    totals.read_units += mine.read_units;
  };

  int n = std::max(1, std::min<int>(opt.parallel, static_cast<int>(segments.size())));
  std::vector<std::thread> threads;
  for (int i = 1; i < n; ++i) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  if (first_error) return *first_error;
  return totals;
}

}  // namespace

Result<ScanTotals> parallel_scan(Client& client, const ParallelScanOptions& options,
                                 const std::function<Status(int, ScanPage&)>& on_page) {
  return run_parallel_scan<ScanPage>(
      options, [&](const ScanRequest& r) { return client.scan(r); }, on_page);
}

Result<ScanTotals> parallel_scan_raw(Client& client, const ParallelScanOptions& options,
                                     const std::function<Status(int, RawScanPage&)>& on_page) {
  return run_parallel_scan<RawScanPage>(
      options, [&](const ScanRequest& r) { return client.scan_raw(r); }, on_page);
}

BatchWriter::BatchWriter(Client& client, std::string table, model::KeySchema key_schema, Options options)
    : client_(client),
      table_(std::move(table)),
      key_schema_(std::move(key_schema)),
      opt_(options),
      clock_(opt_.clock != nullptr ? *opt_.clock : SystemClock::instance()) {
  size_t n = static_cast<size_t>(std::max(1, opt_.parallel));
  queues_.resize(n);
  for (size_t i = 0; i < n; ++i) threads_.emplace_back([this, i] { worker(i); });
}

BatchWriter::~BatchWriter() {
  if (!finished_) finish().ignore_error();
}

Status BatchWriter::add(WriteRequest request) {
  auto key = model::extract_key(request.item, key_schema_);
  if (!key.ok()) return std::move(key).error().with_context("table " + table_);
  uint64_t h = model::key_hash(*key);
  std::unique_lock lock(mu_);
  not_full_.wait(lock, [&] { return queued_ < opt_.max_queued || error_.has_value(); });
  if (error_) return *error_;
  auto& q = queues_[h % queues_.size()];
  q.push_back({std::move(request), std::move(key).value(), h});
  ++queued_;
  if (q.size() >= kMaxBatchWrite) not_empty_.notify_all();
  return {};
}

Status BatchWriter::finish() {
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
  if (error_) return *error_;
  return {};
}

int64_t BatchWriter::not_written() const {
  std::lock_guard lock(mu_);
  return not_written_;
}

double BatchWriter::write_units() const {
  std::lock_guard lock(mu_);
  return write_units_;
}

void BatchWriter::worker(size_t index) {
  std::vector<Queued> batch;
  std::vector<uint64_t> hashes;
  auto& queue = queues_[index];
  while (true) {
    batch.clear();
    hashes.clear();
    {
      std::unique_lock lock(mu_);
      // Wait for a full batch, or whatever is left once closing.
      not_empty_.wait(lock, [&] { return queue.size() >= kMaxBatchWrite || closing_ || error_.has_value(); });
      if (error_) break;  // another worker failed: what is queued is not written
      if (queue.empty()) {
        if (closing_) break;
        continue;
      }
      while (!queue.empty() && batch.size() < kMaxBatchWrite) {
        // A key already in this batch ends it: its second write goes in the next one.
        if (std::find(hashes.begin(), hashes.end(), queue.front().key_hash) != hashes.end()) break;
        hashes.push_back(queue.front().key_hash);
        batch.push_back(std::move(queue.front()));
        queue.pop_front();
      }
      queued_ -= batch.size();
    }
    not_full_.notify_all();
    Status st = write_batch(index, batch);
    if (!st.ok()) {
      {
        std::lock_guard lock(mu_);
        if (!error_) error_ = st.error();
        failed_.store(true);
      }
      not_full_.notify_all();
      not_empty_.notify_all();
      break;
    }
    if (opt_.observer != nullptr) opt_.observer->between_batches(index, false);
  }
  if (opt_.observer != nullptr) opt_.observer->between_batches(index, true);
}

Status BatchWriter::write_batch(size_t worker, std::vector<Queued>& batch) {
  std::vector<Queued*> pending;
  pending.reserve(batch.size());
  for (auto& q : batch) pending.push_back(&q);
  std::vector<WriteRequest> requests;
  detail::BatchBackoff backoff(clock_);
  while (!pending.empty()) {
    // Move the requests into the call and back: no copies of the items.
    requests.clear();
    for (Queued* q : pending) requests.push_back(std::move(q->request));
    auto r = client_.batch_write(table_, requests);
    for (size_t i = 0; i < pending.size(); ++i) pending[i]->request = std::move(requests[i]);
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
    std::vector<Queued*> again;
    std::vector<ConfirmedWrite> done;
    for (Queued* q : pending) {
      if (unprocessed.contains(q->key_hash)) {
        again.push_back(q);
      } else {
        done.push_back({&q->request, &q->key});
      }
    }
    if (!done.empty()) {
      written_.fetch_add(static_cast<int64_t>(done.size()));
      if (opt_.progress != nullptr) opt_.progress->add(static_cast<int64_t>(done.size()));
      if (opt_.observer != nullptr) opt_.observer->confirmed(worker, done);
    }
    if (!again.empty()) {
      spdlog::debug("table {}: {} of {} writes unprocessed, re-sending", table_, again.size(), pending.size());
      backoff.wait();
    } else {
      backoff.reset();
    }
    pending = std::move(again);
  }
  return {};
}

}  // namespace dynarep::dynamodb
