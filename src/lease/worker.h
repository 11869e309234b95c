// A stream consumer with leases (Kinesis or DynamoDB Streams, lease/shard_source.h), after the Kinesis Client Library: any number of
// Worker processes (each with its own worker id) share a stream's shards through a lease table;
// each shard is processed by one worker at a time, in order, and checkpointed after every
// batch the RecordProcessor has made durable. Delivery is at-least-once: a batch processed but
// not checkpointed (crash, lost lease) is processed again by the next owner, so processing must
// be idempotent.
//
//   lease::Config cfg;
//   cfg.stream = "orders-changes";
//   cfg.lease_table = lease::default_lease_table(cfg.stream);
//   lease::Worker worker(cfg, kinesis, lease_db, processor, SystemClock::instance());
//   std::atomic<bool> stop{false};       // set from a signal handler for a graceful stop
//   Status st = worker.run(stop);         // returns after stop: batch in hand finished and
//                                         // checkpointed, leases released
//
// Threads: run() is the taker/shard-sync loop; one renewer thread; one consumer thread per held
// shard. RecordProcessor::process is called from consumer threads, several shards at once.
//
// Resharding: shard sync creates a lease per shard with its parents; a child shard's lease is
// taken only after every parent's lease reached SHARD_END, which a consumer checkpoints after the
// last batch of a closed shard. Per-key order therefore holds across splits and merges.
//
// Limits (Kinesis API reference, GetRecords): 5 calls per second per shard, so a consumer waits
// at least min_get_records_interval between calls, and idle_poll when a call returned nothing;
// up to 10,000 records per call. An expired iterator is replaced by one AFTER_SEQUENCE_NUMBER
// of the last record processed (or from the checkpoint). With Config::prefetch (default) the
// next call is issued while the batch before it is processed, still within those limits.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "kinesis/types.h"
#include "lease/coordinator.h"
#include "lease/lease_store.h"
#include "lease/shard_source.h"

namespace dynarep::kinesis {
class Client;
}
namespace dynarep::dynamodb {
class Client;
}

namespace dynarep::lease {

struct ShardBatch {
  kinesis::ShardId shard_id;
  std::vector<kinesis::Record> records;  // in sequence order, never empty
  int64_t millis_behind_latest = 0;
  // Set when the lease was lost while the batch is in hand: its results will not be
  // checkpointed (another worker processes the batch again), so a processor may stop early.
  const std::atomic<bool>* abandoned = nullptr;
  // Until when (Clock::steady_now time) the processor may still START a write for this batch:
  // past it another worker may own the shard, and a write from here could land after the new
  // owner's newer one. Ask again before every write request (renewals move it forward); nullopt:
  // the lease is gone, write nothing. Unset (no function): no limit (Lambda mode, tests).
  std::function<std::optional<std::chrono::steady_clock::time_point>()> write_deadline;
  // The lease as this worker holds it: a processor that fences its writes on the lease item
  // (TransactWriteItems with a ConditionCheck, see replicate::ReplicatorOptions::fence_table)
  // makes them conditional on these. Empty without a lease.
  std::string lease_owner;
  std::string lease_owner_token;
};

class RecordProcessor {
 public:
  virtual ~RecordProcessor() = default;
  // OK only when every record's effect is durable; the batch is then checkpointed. An error
  // means no checkpoint: the same batch is offered again (with backoff) until it succeeds, the
  // lease is lost, or a graceful stop runs out of time. Must be idempotent and thread-safe.
  virtual Status process(const ShardBatch& batch) = 0;
};

// Where shards without a checkpoint start.
struct StartPosition {
  // kOldest: TRIM_HORIZON; kNewest: LATEST; kAtTime: AT_TIMESTAMP.
  enum class Kind { kOldest, kNewest, kAtTime } kind = Kind::kOldest;
  std::chrono::system_clock::time_point timestamp{};  // kAtTimestamp

  static StartPosition trim_horizon() { return {}; }
  static StartPosition latest() { return {Kind::kNewest, {}}; }
  static StartPosition at_timestamp(std::chrono::system_clock::time_point t) { return {Kind::kAtTime, t}; }
};

struct Config {
  std::string stream;                 // required
  std::string lease_table;            // required; see default_lease_table()
  std::string worker_id;              // empty (default): default_worker_id()
  StartPosition initial_position{};   // for shards without a lease yet; default TRIM_HORIZON

  std::chrono::milliseconds lease_duration{10000};  // default 10 s: failover time of a dead worker
  std::chrono::milliseconds renew_interval{0};       // default (0): lease_duration / 3
  std::chrono::milliseconds take_interval{0};        // default (0): lease_duration / 2
  // A stolen lease's consumer waits this long before reading, so the old owner's renewer
  // (which runs every renew_interval) notices first and stops. Default (0): lease_duration / 2.
  std::chrono::milliseconds steal_grace{0};
  std::chrono::milliseconds shard_sync_interval{60000};  // default 60 s; also after any SHARD_END
  int max_leases = 0;                                     // default 0: no cap per worker

  int max_records = 2000;  // GetRecords Limit (1..10,000); batch memory grows with it
  std::chrono::milliseconds min_get_records_interval{200};  // default 200 ms: 5 calls/s/shard
  std::chrono::milliseconds idle_poll{200};  // default 200 ms: wait after an empty GetRecords
  // Default true: while a batch is processed and checkpointed, the shard's next GetRecords is
  // already in flight (still min_get_records_interval after the last call; one read in flight
  // per shard), so reading and applying overlap. Costs one more page per shard in memory (up to
  // max_records records). A page read ahead is used only after the batch before it is
  // checkpointed, and discarded on a lost lease, stop, failure or shard end.
  bool prefetch = true;

  std::chrono::milliseconds retry_base{100};    // batch / checkpoint / read retries: capped
  std::chrono::milliseconds retry_max{10000};   // exponential backoff with full jitter
  // Graceful stop: how long a failing batch in hand is still retried before the consumer gives
  // up without checkpointing. Default 30 s.
  std::chrono::milliseconds shutdown_timeout{30000};
  bool create_lease_table = true;  // default true: create the table (on-demand) if missing
};

// "dynarep-leases-<stream>".
std::string default_lease_table(std::string_view stream);
// "<hostname>:<pid>:<8 random hex digits>".
std::string default_worker_id();

// One consumer's state, for metrics and logs.
struct ShardStatus {
  kinesis::ShardId shard_id;
  // Last checkpoint written (or the lease's at start): a sequence number or a sentinel (lease.h).
  std::string checkpoint;
  int64_t millis_behind_latest = -1;  // -1 before the first GetRecords
  int64_t records_read = 0;
  int64_t batches = 0;
};

// Monotonic counters (since the Worker was made).
struct WorkerStats {
  int64_t records_read = 0;
  int64_t batches_processed = 0;
  int64_t batch_failures = 0;   // process() errors (each retried)
  int64_t checkpoints = 0;
  int64_t get_records_calls = 0;
  int64_t get_records_errors = 0;
  int64_t iterators_expired = 0;
  // Checkpoints found older than the stream's retention (DynamoDB Streams'
  // TrimmedDataAccessException): records were lost; the shard went on from TRIM_HORIZON.
  int64_t trimmed_data = 0;
  int64_t leases_taken = 0;
  int64_t leases_stolen = 0;
  int64_t leases_lost = 0;
  int64_t shards_finished = 0;  // closed shards read to their end and checkpointed SHARD_END
  int64_t shard_syncs = 0;
};

class Worker {
 public:
  // A Kinesis stream (config.stream names it).
  Worker(Config config, kinesis::Client& kinesis, dynamodb::Client& lease_db, RecordProcessor& processor,
         Clock& clock);
  // Over any lease store (tests).
  Worker(Config config, kinesis::Client& kinesis, std::unique_ptr<LeaseStore> store, RecordProcessor& processor,
         Clock& clock);
  // Any shard source (lease/shard_source.h: Kinesis, DynamoDB Streams); config.stream names it
  // in logs and the default lease table.
  Worker(Config config, std::unique_ptr<ShardSource> source, dynamodb::Client& lease_db, RecordProcessor& processor,
         Clock& clock);
  Worker(Config config, std::unique_ptr<ShardSource> source, std::unique_ptr<LeaseStore> store,
         RecordProcessor& processor, Clock& clock);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs until `stop` is set, then stops gracefully: each consumer finishes the batch in hand
  // and checkpoints it, then every lease held is released. Errors only for what retrying cannot
  // fix at start (lease table cannot be created, stream missing); later failures are logged and
  // retried.
  Status run(const std::atomic<bool>& stop);

  [[nodiscard]] const std::string& worker_id() const { return config_.worker_id; }
  [[nodiscard]] const Config& config() const { return config_; }
  [[nodiscard]] WorkerStats stats() const;
  [[nodiscard]] std::vector<ShardStatus> shard_status() const;
  // Everything is read up to the stream's tip: every lease in play (not finished, parents
  // finished) is held by this worker, and each of its consumers' last GetRecords was at the tip
  // (MillisBehindLatest 0). A lease another worker still holds (alive, or dead and not yet
  // expired) means not caught up: a drain (`--until-idle`) must wait for it.
  [[nodiscard]] bool caught_up() const;
  // Readiness (/readyz): nullopt when the worker's last lease-table cycle succeeded within
  // three take intervals, so it holds or can take leases with valid credentials; else why not
  // ("not started", the last error, "worker id in use").
  [[nodiscard]] std::optional<std::string> not_ready() const;
  [[nodiscard]] LeaseCoordinator& coordinator() { return *coordinator_; }

  class Consumer;  // one shard's reader (worker.cpp)
  struct Counters;

 private:
  Status shard_sync();
  // An error when the lease table holds another stream's leases (Lease::stream).
  Status check_same_stream(const std::vector<Lease>& leases) const;
  void renew_loop();
  void start_consumer(const TakenLease& taken);
  void reap_consumers(bool wait_all);
  bool sleep_until(std::chrono::steady_clock::time_point t, const std::atomic<bool>& stop);

  Config config_;
  std::unique_ptr<ShardSource> source_;
  std::unique_ptr<LeaseStore> store_;
  RecordProcessor& processor_;
  Clock& clock_;
  std::unique_ptr<LeaseCoordinator> coordinator_;
  std::unique_ptr<Counters> counters_;

  std::atomic<bool> stopping_{false};  // graceful stop requested of the consumers
  std::atomic<bool> renewer_stop_{false};
  std::atomic<bool> sync_requested_{false};
  std::thread renewer_;
  mutable std::mutex mu_;  // guards consumers_ and status_
  std::map<kinesis::ShardId, std::unique_ptr<Consumer>> consumers_;
  std::map<kinesis::ShardId, ShardStatus> status_;
  std::optional<std::chrono::steady_clock::time_point> last_take_ok_;  // guarded by mu_
  std::string last_take_error_;                                          // guarded by mu_
};

}  // namespace dynarep::lease
