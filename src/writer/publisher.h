// StreamPublisher: puts change records on a Kinesis stream after their writes are confirmed.
//
//   - Batches: PutRecords calls of up to 500 records / 5 MiB (data + partition keys), filled
//     from whatever is waiting, so many writers share calls.
//   - Retries: entries the service refused (ProvisionedThroughputExceeded, InternalFailure,
//     KMSThrottling) and calls that failed transiently are re-sent after a capped, jittered
//     backoff, up to `max_attempts` sends per record. Errors no retry can fix (the stream does
//     not exist, access denied, validation) give up at once.
//   - Order per key: at most one record of a key is in flight at a time (one per call, and
//     no two calls at once hold the same key), and a failed record is re-sent (by the sender
//     that holds its key) before any later record of its key is sent. So records of one key
//     reach their shard in the order they were submitted. (Kinesis keeps no order between
//     the entries of one call when one of them fails: hence never two records of a key in one.)
//   - No silent loss: what is still not published after the retries comes back to the caller
//     (PublishOutcome::unpublished) to republish later or to report.
//
// Exactly one record per submitted change, with one exception the protocol cannot rule out:
// a PutRecords call whose response is lost after the service stored the records is retried
// and stores them again. A duplicate KEYS_ONLY record is harmless: the replicator reads the
// item's current state for every record.
//
// Thread-safe. `max_in_flight` sender threads do the calls; submit() returns at once (or
// blocks while `max_pending` records wait), publish() waits for its records.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "kinesis/client.h"
#include "kinesis/types.h"
#include "writer/change.h"

namespace dynarep::writer {

struct PublisherOptions {
  std::string stream;                                   // required
  int max_attempts = 6;                                 // sends of one record, the first included (default 6)
  std::chrono::milliseconds base_backoff{100};          // first re-send waits ~100 ms (default) ...
  std::chrono::milliseconds max_backoff{5000};          // ... doubling up to 5 s (default)
  int max_in_flight = 4;                                // PutRecords calls at once (default 4)
  std::size_t max_pending = 20000;                      // records waiting before submit() blocks (default)
  std::size_t max_batch_records = kinesis::kMaxPutRecordsEntries;  // per call (default 500)
  std::size_t max_batch_bytes = kinesis::kMaxPutRecordsBytes;      // per call (default 5 MiB)
  Clock* clock = nullptr;                               // backoff sleeps (default SystemClock)
};

struct PublishOutcome {
  std::vector<Change> unpublished;  // in submission order
  std::optional<Error> error;       // the last failure seen; set when unpublished is not empty
  [[nodiscard]] bool ok() const { return unpublished.empty(); }
};

struct PublisherStats {
  uint64_t calls = 0;        // PutRecords calls made (not counting the AWS layer's own retries)
  uint64_t published = 0;    // records the service stored
  uint64_t resent = 0;       // records sent again after a failure
  uint64_t unpublished = 0;  // records given up on
};

class StreamPublisher {
 public:
  // One submit(): wait() for its outcome. Safe to wait from any thread, any number of times.
  class Ticket {
   public:
    PublishOutcome wait() const;
    [[nodiscard]] bool done() const;

   private:
    friend class StreamPublisher;
    mutable std::mutex mu_;
    mutable std::condition_variable cv_;
    std::size_t remaining_ = 0;
    std::vector<std::pair<std::size_t, Change>> failed_;  // (index in the submit, change)
    std::optional<Error> error_;
  };

  StreamPublisher(std::shared_ptr<kinesis::Client> client, PublisherOptions options);
  // Sends what is still waiting (within max_attempts), then stops the senders.
  ~StreamPublisher();
  StreamPublisher(const StreamPublisher&) = delete;
  StreamPublisher& operator=(const StreamPublisher&) = delete;

  // Queues the records of `changes` (in this order) and returns at once, unless max_pending
  // records are already waiting: then it blocks until there is room.
  std::shared_ptr<Ticket> submit(std::vector<Change> changes);
  // submit() and wait().
  PublishOutcome publish(std::vector<Change> changes) { return submit(std::move(changes))->wait(); }
  // Sends records that an earlier call could not publish (a WriteError's or PublishOutcome's
  // `unpublished`, or a file read with parse_change_line): the same records, same event IDs.
  PublishOutcome republish(const std::vector<Change>& unpublished) { return publish(unpublished); }
  // Waits until every record submitted so far is published or given up.
  void flush();

  [[nodiscard]] PublisherStats stats() const;
  [[nodiscard]] const std::string& stream() const { return opt_.stream; }
  // Records given up on so far (cheap; writers poll it to stop early).
  [[nodiscard]] uint64_t unpublished_count() const { return unpublished_.load(); }

 private:
  struct Entry {
    Change change;
    std::string data;
    std::string partition_key;
    std::shared_ptr<Ticket> ticket;
    std::size_t index = 0;  // in the ticket's submit
    int attempts = 0;       // sends so far
  };
  void sender();
  std::vector<Entry> take_batch();  // with mu_ held
  void send(std::vector<Entry>& batch);
  void resolve(Entry& entry, const std::optional<Error>& failure);
  std::chrono::milliseconds backoff(int attempts);

  std::shared_ptr<kinesis::Client> client_;
  PublisherOptions opt_;
  Clock& clock_;

  std::mutex mu_;
  std::condition_variable work_cv_;   // senders: something to send, or stopping
  std::condition_variable space_cv_;  // submitters: room in the queue; flush: all resolved
  std::list<Entry> pending_;          // FIFO, waiting for a sender
  std::unordered_map<std::string, int> in_flight_;  // partition keys held by a sender
  std::size_t outstanding_ = 0;       // submitted, not yet resolved
  bool stopping_ = false;
  std::vector<std::thread> senders_;

  std::atomic<uint64_t> calls_{0}, published_{0}, resent_{0}, unpublished_{0};
};

}  // namespace dynarep::writer
