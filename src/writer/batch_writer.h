// BatchWriter: parallel BatchWriteItem with a change record per confirmed item.
//
// dynamodb::BatchWriter does the writing (requests routed to workers by key hash, so one key's
// writes keep their order and never share a call; unprocessed items re-sent with backoff until
// done, never dropped; each call's confirmed items counted at once, so `written` is true
// whenever the writer stops). This adds the stream: with a publisher, each confirmed item's
// change record (INSERT for a put, REMOVE for a delete) is submitted before that worker writes
// anything else, and finish() reports the records that could not be published.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/progress.h"
#include "dynamodb/client.h"
#include "dynamodb/parallel.h"
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

class BatchWriter : private dynamodb::BatchWriteObserver {
 public:
  BatchWriter(dynamodb::Client& client, std::string table, model::KeySchema key_schema, BatchWriterOptions options);
  ~BatchWriter() override;  // finishes (waits) if finish() was not called; errors are then lost
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

  [[nodiscard]] int64_t written() const { return writer_.written(); }

 private:
  using Tickets = std::deque<std::shared_ptr<StreamPublisher::Ticket>>;
  // dynamodb::BatchWriteObserver, on the engine's worker threads.
  void confirmed(size_t worker, const std::vector<dynamodb::ConfirmedWrite>& items) override;
  void between_batches(size_t worker, bool last) override;
  void collect(Tickets& tickets, bool wait);

  BatchWriterOptions opt_;
  uint64_t publisher_failures_at_start_ = 0;
  std::vector<Tickets> tickets_;  // per engine worker: records submitted, not yet confirmed
  mutable std::mutex mu_;
  std::optional<Error> publish_error_;
  std::vector<Change> unpublished_;
  std::atomic<bool> publish_failed_{false};
  bool finished_ = false;
  // Last: its worker threads call the members above, so it is built after and destroyed
  // (joined) before them.
  dynamodb::BatchWriter writer_;
};

}  // namespace dynarep::writer
