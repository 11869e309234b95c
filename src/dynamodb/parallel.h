// Parallel scan and parallel batch writing: the two bulk paths that scan, export, import,
// diff, backup and restore share. Both bound their memory (pages in flight, queued writes)
// and hand the first worker error back to the caller.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/progress.h"
#include "dynamodb/client.h"

namespace dynarep::dynamodb {

struct ParallelScanOptions {
  std::string table;
  int total_segments = 1;       // how the table is split (the service's TotalSegments)
  std::vector<int> segments;    // which of them this process scans; empty: all
  int parallel = 1;             // worker threads (segments scanned at once)
  bool consistent_read = false;
  std::optional<int> page_limit;
  RateLimiter* rate_limiter = nullptr;  // items/s across all workers, optional
};

struct ScanTotals {
  int64_t items = 0;
  int64_t scanned = 0;
  double read_units = 0;
};

// Calls on_page for every page of every selected segment, from worker threads (on_page must
// be thread-safe; pages of one segment arrive in order, on one thread). A failed on_page or
// scan stops all workers; that first error is returned.
Result<ScanTotals> parallel_scan(Client& client, const ParallelScanOptions& options,
                                 const std::function<Status(int segment, ScanPage&)>& on_page);
Result<ScanTotals> parallel_scan_raw(Client& client, const ParallelScanOptions& options,
                                     const std::function<Status(int segment, RawScanPage&)>& on_page);

// What one BatchWriteItem call confirmed: its items minus the UnprocessedItems it returned.
struct ConfirmedWrite {
  const WriteRequest* request;
  const model::Item* key;  // request's key, extracted once by add()
};

// Told, on a worker's thread, what each call wrote; the writer module publishes a change record
// per confirmed item through it. A worker calls nothing else on its queue until confirmed()
// returns, so a key's notices come in the order its writes were added.
class BatchWriteObserver {
 public:
  virtual ~BatchWriteObserver() = default;
  virtual void confirmed(size_t worker, const std::vector<ConfirmedWrite>& items) = 0;
  // After each batch of a worker, and once more with last=true when the worker ends: where
  // work started in confirmed() can be collected.
  virtual void between_batches(size_t worker, bool last) = 0;
};

// Writes put/delete requests with `parallel` workers, each sending BatchWriteItem calls of up
// to 25 and re-sending unprocessed items (capped exponential backoff with jitter) until done,
// never dropping one. It learns exactly which items each call wrote (the call's items minus its
// UnprocessedItems) and counts them at once, so written() is exact whenever the writer stops.
// add() blocks when `max_queued` requests are waiting, so a fast reader cannot run memory up.
//
// Requests for one key always go to the same worker, in the order added, and never share a
// batch (BatchWriteItem rejects duplicate keys in one call): so when a key is written twice
// the later write wins, as it would written one by one.
//
// The first failed call stops every worker; what was still queued is not written (counted in
// not_written()). This is the one batch writer: import, restore, diff's repair and the writer
// module's put (through BatchWriteObserver) all use it.
class BatchWriter {
 public:
  struct Options {
    int parallel = 4;
    size_t max_queued = 4096;                 // across all workers
    Progress* progress = nullptr;             // add()s confirmed items when set
    Clock* clock = nullptr;                   // sleeps between unprocessed re-sends (default SystemClock)
    BatchWriteObserver* observer = nullptr;   // told each call's confirmed items when set
  };
  BatchWriter(Client& client, std::string table, model::KeySchema key_schema, Options options);
  ~BatchWriter();  // finishes (waits) if finish() was not called; errors are then lost
  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;

  // Queues one request (a put's whole item, or a delete's key). Fails without queueing on a
  // request without a valid key, or once a write has failed.
  Status add(WriteRequest request);
  // Waits until everything queued is written (or dropped after a failure); the first write
  // error, if any.
  Status finish();
  // True once a call failed: callers stop adding.
  [[nodiscard]] bool failed() const { return failed_.load(); }
  int64_t written() const { return written_.load(); }
  // Requests dropped from the queues after a failure (known after finish()).
  int64_t not_written() const;
  double write_units() const;

 private:
  struct Queued {
    WriteRequest request;
    model::Item key;
    uint64_t key_hash = 0;
  };
  void worker(size_t index);
  // One batch: calls until every item is written or a call fails.
  Status write_batch(size_t worker, std::vector<Queued>& batch);

  Client& client_;
  std::string table_;
  model::KeySchema key_schema_;
  Options opt_;
  Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::vector<std::deque<Queued>> queues_;  // one per worker
  size_t queued_ = 0;
  bool closing_ = false;
  std::optional<Error> error_;
  std::atomic<bool> failed_{false};
  std::atomic<int64_t> written_{0};
  int64_t not_written_ = 0;
  double write_units_ = 0;
  std::vector<std::thread> threads_;
  bool finished_ = false;
};

}  // namespace dynarep::dynamodb
