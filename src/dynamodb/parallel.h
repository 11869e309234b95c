// Parallel scan and parallel batch writing: the two bulk paths that scan, export, import,
// diff, backup and restore share. Both bound their memory (pages in flight, queued writes)
// and hand the first worker error back to the caller.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

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

// Writes put/delete requests with `parallel` workers, each sending BatchWriteItem calls of up
// to 25 and re-sending unprocessed items until done. add() blocks when `max_queued` requests
// are waiting, so a fast reader cannot run memory up.
//
// Requests for one key always go to the same worker, in the order added, and never share a
// batch (BatchWriteItem rejects duplicate keys in one call): so when a key is written twice
// the later write wins, as it would written one by one.
class BatchWriter {
 public:
  struct Options {
    int parallel = 4;
    size_t max_queued = 4096;      // across all workers
    Progress* progress = nullptr;  // add()s written items when set
  };
  BatchWriter(Client& client, std::string table, model::KeySchema key_schema, Options options);
  ~BatchWriter();  // finishes (waits) if finish() was not called; errors are then lost
  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;

  // Queues one request. Fails (without queueing) once a worker has failed.
  Status add(WriteRequest request);
  // Waits until everything queued is written; returns the first worker error, if any.
  Status finish();
  int64_t written() const { return written_.load(); }
  double write_units() const;

 private:
  struct Queued {
    WriteRequest request;
    uint64_t key_hash;
  };
  void worker(size_t index);
  Client& client_;
  std::string table_;
  model::KeySchema key_schema_;
  Options opt_;
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::vector<std::deque<Queued>> queues_;  // one per worker
  size_t queued_ = 0;
  bool closing_ = false;
  std::optional<Error> error_;
  std::atomic<int64_t> written_{0};
  double write_units_ = 0;
  std::vector<std::thread> threads_;
  bool finished_ = false;
};

}  // namespace dynarep::dynamodb
