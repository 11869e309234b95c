// BatchWriter: parallel BatchWriteItem with a change record per confirmed item.
//
// Like dynamodb::BatchWriter (requests routed to workers by key hash, so one key's writes
// keep their order and never share a call; unprocessed items re-sent with backoff until done,
// never dropped), but it learns exactly which items each call wrote: a call's items minus
// the UnprocessedItems it returned. Each confirmed item is counted at once (so `written` is
// true whenever the writer stops) and, with a publisher, its change record is submitted
// (INSERT for a put, REMOVE for a delete) before the worker writes anything else.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/progress.h"
#include "dynamodb/client.h"
#include "writer/change.h"
#include "writer/publisher.h"
#include "writer/write_result.h"

namespace dynarep::writer {

struct BatchWriterOptions {
  int parallel = 4;                     // workers, each with one BatchWriteItem call at a time (default 4)
  std::size_t max_queued = 4096;        // requests waiting across all workers before add() blocks
  Progress* progress = nullptr;         // add()s confirmed items when set
  StreamPublisher* publisher = nullptr; // publish a change record per confirmed item when set
  std::string aws_region;               // the records' awsRegion (the table's region)
  Clock* clock = nullptr;               // backoff sleeps between unprocessed re-sends (default SystemClock)
};

struct BatchWriteSummary {
  int64_t written = 0;      // items the table confirmed
  int64_t not_written = 0;  // requests dropped from the queues after a write failed
  double write_units = 0;
};

class BatchWriter {
 public:
  BatchWriter(dynamodb::Client& client, std::string table, model::KeySchema key_schema, BatchWriterOptions options);
  ~BatchWriter();  // finishes (waits) if finish() was not called; errors are then lost
  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;

  // Queues one request (a put's whole item, or a delete's key). Fails without queueing on a
  // request without a valid key, or once a write has failed.
  Status add(dynamodb::WriteRequest request);
  // True once a write failed or a record was given up on: callers stop adding, so that the
  // gap between the table and the stream stays small.
  [[nodiscard]] bool failed() const;
  // Waits for every queued request to be written (or dropped after a write failure) and for
  // the records of every confirmed item; reports what is missing.
  WriteResult<BatchWriteSummary> finish();

  [[nodiscard]] int64_t written() const { return written_.load(); }

 private:
  struct Queued {
    dynamodb::WriteRequest request;
    model::Item key;
    uint64_t key_hash = 0;
  };
  void worker(std::size_t index);
  // One batch: calls until every item is written or a call fails.
  Status write_batch(std::vector<Queued>& batch, std::deque<std::shared_ptr<StreamPublisher::Ticket>>& tickets);
  void confirmed(std::vector<Queued*>& items, std::deque<std::shared_ptr<StreamPublisher::Ticket>>& tickets);
  void collect(std::deque<std::shared_ptr<StreamPublisher::Ticket>>& tickets, bool wait);

  dynamodb::Client& client_;
  std::string table_;
  model::KeySchema key_schema_;
  BatchWriterOptions opt_;
  Clock& clock_;

  mutable std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::vector<std::deque<Queued>> queues_;  // one per worker
  std::size_t queued_ = 0;
  bool closing_ = false;
  std::optional<Error> write_error_;
  std::optional<Error> publish_error_;
  std::vector<Change> unpublished_;
  uint64_t publisher_failures_at_start_ = 0;
  std::atomic<bool> failed_{false};
  std::atomic<int64_t> written_{0};
  int64_t not_written_ = 0;
  double write_units_ = 0;
  std::vector<std::thread> threads_;
  bool finished_ = false;
};

}  // namespace dynarep::writer
