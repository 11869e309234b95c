#include "lease/worker.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <random>
#include <set>
#include <stdexcept>

#include "dynamodb/client.h"
#include "kinesis/client.h"
#include "lease/sync_point.h"

namespace dynarep::lease {

using namespace std::chrono_literals;
using SteadyTime = std::chrono::steady_clock::time_point;

std::string default_lease_table(std::string_view stream) { return "dynarep-leases-" + std::string(stream); }

std::string default_worker_id() {
  char host[256] = {0};
  if (::gethostname(host, sizeof(host) - 1) != 0) std::snprintf(host, sizeof(host), "localhost");
  std::random_device rd;
  return fmt::format("{}:{}:{:08x}", host, ::getpid(), rd());
}

struct Worker::Counters {
  std::atomic<int64_t> records_read{0}, batches_processed{0}, batch_failures{0}, checkpoints{0},
      get_records_calls{0}, get_records_errors{0}, iterators_expired{0}, trimmed_data{0}, leases_taken{0}, leases_stolen{0},
      leases_lost{0}, shards_finished{0}, shard_syncs{0};
};

namespace {

// Capped exponential backoff with full jitter.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds max) : base_(base), max_(max) {}
  std::chrono::milliseconds next() {
    ++attempt_;
    auto cap = base_ * (int64_t{1} << std::min(attempt_ - 1, 20));
    cap = std::min<std::chrono::milliseconds>(cap, max_);
    std::uniform_int_distribution<int64_t> d(cap.count() / 2, std::max<int64_t>(cap.count(), 1));
    return std::chrono::milliseconds(d(rng_));
  }
  void reset() { attempt_ = 0; }
  int attempts() const { return attempt_; }

 private:
  std::chrono::milliseconds base_, max_;
  int attempt_ = 0;
  std::mt19937_64 rng_{std::random_device{}()};
};

kinesis::StartingPosition position_for(const Lease& lease, const Config& cfg) {
  if (lease.has_sequence_checkpoint()) {
    return kinesis::StartingPosition::after_sequence_number(kinesis::SequenceNumber(lease.checkpoint));
  }
  if (lease.checkpoint == kLatest) return kinesis::StartingPosition::latest();
  if (lease.checkpoint == kAtTimestamp) {
    if (lease.start_timestamp_ms) {
      return kinesis::StartingPosition::at_timestamp(std::chrono::system_clock::time_point(
          std::chrono::duration_cast<std::chrono::system_clock::duration>(
              std::chrono::milliseconds(*lease.start_timestamp_ms))));
    }
    return kinesis::StartingPosition::at_timestamp(cfg.initial_position.timestamp);
  }
  if (lease.checkpoint != kTrimHorizon) {
    spdlog::error("shard {}: unknown checkpoint \"{}\"; reading from TRIM_HORIZON", lease.key, lease.checkpoint);
  }
  return kinesis::StartingPosition::trim_horizon();
}

// A shard's reader thread (Config::prefetch): the consumer asks it for the next page and goes
// on processing and checkpointing the batch before it, so reading and applying overlap. One
// request at a time, so one GetRecords in flight per shard and at most two pages per shard in
// memory (the batch in hand and the one read ahead). A read is issued no earlier than the
// request's `not_before` (the shard's call interval) and only while the lease is held. Every
// read of the shard goes through this one thread, so the response parser's buffers (per thread)
// exist once per shard, as without prefetch. The destructor cancels a read not yet issued,
// waits for one in flight and joins: nothing outlives the consumer's run().
class Reader {
 public:
  struct Read {
    Result<kinesis::GetRecordsResult> result;
    SteadyTime issued;  // when the call was made: the next one waits min_get_records_interval from here
  };
  using ReadFn = std::function<Result<kinesis::GetRecordsResult>(const kinesis::ShardIterator&)>;

  Reader(Clock& clock, const std::atomic<bool>& lost, ReadFn read)
      : clock_(clock), lost_(lost), read_(std::move(read)), thread_([this] { loop(); }) {}
  ~Reader() {
    {
      std::lock_guard lock(mu_);
      quit_ = true;
      cancel_.store(true);
    }
    cv_.notify_all();
    thread_.join();
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Asks for the page at `it`, read no earlier than `not_before`. The previous request must have
  // been taken or dropped.
  void request(kinesis::ShardIterator it, SteadyTime not_before) {
    {
      std::lock_guard lock(mu_);
      requested_ = true;
      finished_ = false;
      done_.reset();
      cancel_.store(false);
      next_.emplace(std::move(it), not_before);
    }
    cv_.notify_all();
  }
  [[nodiscard]] bool pending() const {
    std::lock_guard lock(mu_);
    return requested_;
  }
  // Waits for the requested read: the page or the call's error; nullopt when nothing was
  // requested or the read was never issued (the lease was lost, or it was dropped).
  std::optional<Read> take() {
    std::unique_lock lock(mu_);
    if (!requested_) return std::nullopt;
    cv_.wait(lock, [&] { return finished_; });
    requested_ = false;
    finished_ = false;
    std::optional<Read> out = std::move(done_);
    done_.reset();
    return out;
  }
  // Forgets the requested read: cancelled if not issued yet, else waited for (still one call in
  // flight per shard) and its page discarded.
  void drop() {
    cancel_.store(true);
    (void)take();
  }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return quit_ || next_.has_value(); });
      if (quit_) return;
      auto [it, not_before] = std::move(*next_);
      next_.reset();
      lock.unlock();
      std::optional<Read> out;
      for (;;) {
        if (cancel_.load() || lost_.load()) break;
        auto now = clock_.steady_now();
        if (now >= not_before) {
          out.emplace(Read{read_(it), now});
          break;
        }
        clock_.sleep_for(std::min<Clock::Duration>(not_before - now, 20ms));
      }
      lock.lock();
      done_ = std::move(out);
      finished_ = true;
      cv_.notify_all();
    }
  }

  Clock& clock_;
  const std::atomic<bool>& lost_;
  ReadFn read_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::pair<kinesis::ShardIterator, SteadyTime>> next_;  // for the thread to pick up
  bool requested_ = false;  // a request not yet taken
  bool finished_ = false;   // its read is over (done_ holds its outcome)
  std::optional<Read> done_;
  bool quit_ = false;
  std::atomic<bool> cancel_{false};
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// One shard's consumer: reads, hands batches to the processor, checkpoints. Runs on its own
// thread; stops at once when the lease is lost, after the batch in hand on a graceful stop.
class Worker::Consumer {
 public:
  enum class Outcome { kRunning, kFinished, kLost, kStopped };

  Consumer(Worker& w, TakenLease taken, std::chrono::milliseconds start_delay)
      : w_(w), lease_(std::move(taken.lease)), shard_(lease_.shard()), start_delay_(start_delay),
        lost_(w.coordinator_->lost_flag(shard_)), backoff_(w.config_.retry_base, w.config_.retry_max) {
    if (!lost_) lost_ = std::make_shared<std::atomic<bool>>(true);
    thread_ = std::thread([this] { outcome_.store(run()); });
  }
  ~Consumer() {
    if (thread_.joinable()) thread_.join();
  }
  Outcome outcome() const { return outcome_.load(); }
  bool done() const { return outcome_.load() != Outcome::kRunning; }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  const kinesis::ShardId& shard() const { return shard_; }

 private:
  bool lost() const { return lost_->load(); }
  bool stopping() const { return w_.stopping_.load(); }
  // Past the graceful stop's deadline: a batch in hand is given up.
  bool out_of_time() {
    if (!stopping()) return false;
    auto now = w_.clock_.steady_now();
    if (!stop_deadline_) stop_deadline_ = now + w_.config_.shutdown_timeout;
    return now >= *stop_deadline_;
  }
  // Sleeps `d` in short slices; false if interrupted (lease lost, or `until_stop` and stopping).
  bool nap(std::chrono::milliseconds d, bool until_stop) {
    auto end = w_.clock_.steady_now() + d;
    for (;;) {
      if (lost()) return false;
      if (until_stop && stopping()) return false;
      auto now = w_.clock_.steady_now();
      if (now >= end) return true;
      w_.clock_.sleep_for(std::min<Clock::Duration>(end - now, 20ms));
    }
  }
  void set_status(const std::function<void(ShardStatus&)>& f) {
    std::lock_guard lock(w_.mu_);
    auto& s = w_.status_[shard_];
    s.shard_id = shard_;
    f(s);
  }

  Outcome run() {
    const std::string& shard = shard_.str();  // for messages
    set_status([&](ShardStatus& s) { s.checkpoint = lease_.checkpoint; });
    if (start_delay_ > 0ms && !nap(start_delay_, true)) return lost() ? Outcome::kLost : Outcome::kStopped;
    if (lease_.finished()) return Outcome::kFinished;
    if (lease_.checkpoint == kLatest && !pin_latest()) return lost() ? Outcome::kLost : Outcome::kStopped;
    if (lease_.has_sequence_checkpoint()) last_done_ = kinesis::SequenceNumber(lease_.checkpoint);
    std::optional<kinesis::ShardIterator> it;
    std::optional<SteadyTime> last_call;
    // The shard's reader (Config::prefetch), which holds the next page while a batch is
    // processed. Declared here so that every return below discards that page and joins the
    // thread: a page read ahead is never processed by a consumer that did not checkpoint the
    // batch before it (lost lease, stop, failure, shard end); the next owner (or the next
    // iterator) reads it again from the checkpoint.
    std::unique_ptr<Reader> reader;
    if (w_.config_.prefetch) {
      reader = std::make_unique<Reader>(w_.clock_, *lost_,
                                        [this](const kinesis::ShardIterator& i) { return get_records(i); });
    }

    for (;;) {
      if (lost()) return Outcome::kLost;
      if (stopping()) return Outcome::kStopped;  // nothing in hand
      if (!it) {
        if (reader && reader->pending()) reader->drop();  // (none is: a read ahead follows a checkpoint)
        kinesis::StartingPosition pos = last_done_ ? kinesis::StartingPosition::after_sequence_number(*last_done_)
                                                  : position_for(lease_, w_.config_);
        if (from_trim_horizon_) pos = kinesis::StartingPosition::trim_horizon();
        if (pos.type == kinesis::IteratorType::kAtTimestamp && !w_.source_->at_timestamp()) {
          skip_before_ = std::chrono::floor<std::chrono::seconds>(pos.timestamp);
          pos = kinesis::StartingPosition::trim_horizon();
        }
        auto r = w_.source_->shard_iterator(shard_, pos);
        if (!r.ok() && w_.source_->is_trimmed(r.error())) {
          trimmed(r.error());
          continue;
        }
        if (!r.ok()) {
          if (r.error().kind == ErrorKind::kNotFound && shard_gone()) {
            spdlog::warn("shard {}: no longer in {} (trimmed away?); treating it as ended", shard,
                         w_.source_->describe());
            return finish_shard();
          }
          auto d = backoff_.next();
          spdlog::warn("shard {}: GetShardIterator failed (retry in {} ms): {}", shard, d.count(),
                       r.error().describe());
          nap(d, true);
          continue;
        }
        it = std::move(r).value();
      }
      // The page read ahead while the batch before it was processed and checkpointed; it is
      // taken only here, after that checkpoint, and handled as if read now.
      std::optional<Reader::Read> read;
      if (reader && reader->pending()) read = reader->take();
      if (!read) {
        if (last_call) {
          auto next_allowed = *last_call + w_.config_.min_get_records_interval;
          auto now = w_.clock_.steady_now();
          if (now < next_allowed &&
              !nap(std::chrono::duration_cast<std::chrono::milliseconds>(next_allowed - now) + 1ms, true)) {
            continue;
          }
        }
        if (reader) {
          reader->request(*it, w_.clock_.steady_now());
          read = reader->take();
          if (!read) continue;  // not issued: the lease was lost
        } else {
          auto issued = w_.clock_.steady_now();
          read.emplace(Reader::Read{get_records(*it), issued});
        }
      }
      last_call = read->issued;
      Result<kinesis::GetRecordsResult>& r = read->result;
      if (!r.ok()) {
        w_.counters_->get_records_errors++;
        if (w_.source_->is_trimmed(r.error())) {
          trimmed(r.error());
          it.reset();
          continue;
        }
        if (kinesis::is_expired_iterator(r.error())) {
          w_.counters_->iterators_expired++;
          spdlog::info("shard {}: iterator expired; continuing after {}", shard,
                       last_done_ ? last_done_->str() : lease_.checkpoint);
          it.reset();
          continue;
        }
        auto d = backoff_.next();
        spdlog::warn("shard {}: GetRecords failed (retry in {} ms): {}", shard, d.count(), r.error().describe());
        nap(d, true);
        continue;
      }
      backoff_.reset();
      kinesis::GetRecordsResult page = std::move(r).value();
      if (skip_before_) {
        auto& recs = page.records;
        recs.erase(std::remove_if(recs.begin(), recs.end(),
                                  [&](const kinesis::Record& rec) {
                                    return rec.approximate_arrival && *rec.approximate_arrival < *skip_before_;
                                  }),
                   recs.end());
      }
      if (!lost_after_.empty() && !page.records.empty()) {
        spdlog::error("shard {}: reading resumed at sequence number {}: the records after checkpoint {} before it "
                      "are LOST; run diff-tables --repair (or a new backup) to heal",
                      shard, page.records.front().sequence_number.str(), lost_after_);
        lost_after_.clear();
      }
      const int64_t n = static_cast<int64_t>(page.records.size());
      w_.counters_->records_read += n;
      set_status([&](ShardStatus& s) {
        s.millis_behind_latest = page.millis_behind_latest;
        s.records_read += n;
      });
      if (n > 0) {
        sync::hit(sync::kAfterGetRecords, shard);
        if (reader && !page.shard_ended()) {
          // The interval counts from this page's call: Kinesis allows 5 GetRecords a second per
          // shard (DynamoDB Streams throttles alike), prefetch or not.
          reader->request(*page.next_iterator, *last_call + w_.config_.min_get_records_interval);
        }
        ShardBatch batch{shard_,
                         std::move(page.records),
                         page.millis_behind_latest,
                         lost_.get(),
                         [this] { return w_.coordinator_->write_deadline(shard_); },
                         lease_.owner,
                         lease_.owner_token};
        if (!process(batch)) return lost() ? Outcome::kLost : Outcome::kStopped;
        const kinesis::SequenceNumber last = batch.records.back().sequence_number;
        if (!page.shard_ended()) {
          auto c = checkpoint(last.str());
          if (!c) return lost() ? Outcome::kLost : Outcome::kStopped;
        }
        last_done_ = last;
        skip_before_.reset();
        from_trim_horizon_ = false;
      }
      if (page.shard_ended()) return finish_shard();
      it = std::move(page.next_iterator);
      if (n == 0 && !nap(w_.config_.idle_poll, true)) continue;
    }
  }

  // One GetRecords call at `it` (from this thread or the shard's Reader).
  Result<kinesis::GetRecordsResult> get_records(const kinesis::ShardIterator& it) {
    w_.counters_->get_records_calls++;
    return w_.source_->get_records(it, w_.config_.max_records);
  }

  // The position (checkpoint, or the last record processed) is older than the stream keeps:
  // the records between it and the oldest one kept are gone. Counted, logged loudly, and the
  // shard goes on from TRIM_HORIZON; only a repair (diff-tables --repair) brings them back.
  void trimmed(const Error& e) {
    w_.counters_->trimmed_data++;
    const std::string at = last_done_ ? last_done_->str() : lease_.checkpoint;
    spdlog::error("shard {}: checkpoint {} is past the retention of {} ({}): records after it were LOST; going on "
                  "from TRIM_HORIZON. Run diff-tables --repair to heal the replica",
                  lease_.key, at, w_.source_->describe(), e.describe());
    lost_after_ = at;
    last_done_.reset();
    skip_before_.reset();
    from_trim_horizon_ = true;
  }

  // Hands the batch to the processor until it succeeds. false: gave up (lease lost, or a
  // graceful stop ran out of time), nothing checkpointed.
  bool process(const ShardBatch& batch) {
    Backoff backoff(w_.config_.retry_base, w_.config_.retry_max);
    for (;;) {
      sync::hit(sync::kBeforeProcess, batch.shard_id.str());
      Status st = w_.processor_.process(batch);
      if (st.ok()) {
        sync::hit(sync::kAfterProcess, batch.shard_id.str());
        w_.counters_->batches_processed++;
        set_status([&](ShardStatus& s) { s.batches++; });
        return true;
      }
      w_.counters_->batch_failures++;
      if (lost()) return false;
      if (out_of_time()) {
        spdlog::warn("shard {}: stopping with a failed batch not checkpointed (seq {}..{}): {}", batch.shard_id.str(),
                     batch.records.front().sequence_number.str(), batch.records.back().sequence_number.str(),
                     st.error().describe());
        return false;
      }
      auto d = backoff.next();
      spdlog::warn("shard {}: batch of {} records (seq {}..{}) failed, attempt {}, retry in {} ms: {}",
                   batch.shard_id.str(), batch.records.size(), batch.records.front().sequence_number.str(),
                   batch.records.back().sequence_number.str(), backoff.attempts(), d.count(), st.error().describe());
      if (!nap(d, false)) return false;
    }
  }

  // Writes a checkpoint, retrying errors. false: the lease is lost (or stopping ran out of time).
  bool checkpoint(const std::string& value) {
    Backoff backoff(w_.config_.retry_base, w_.config_.retry_max);
    for (;;) {
      auto r = w_.coordinator_->checkpoint(shard_, value);
      if (r.ok()) {
        if (!*r) return false;
        w_.counters_->checkpoints++;
        lease_.checkpoint = value;
        set_status([&](ShardStatus& s) { s.checkpoint = value; });
        return true;
      }
      if (lost() || out_of_time()) return false;
      auto d = backoff.next();
      spdlog::warn("shard {}: checkpoint {} failed (retry in {} ms): {}", lease_.key, value, d.count(),
                   r.error().describe());
      if (!nap(d, false)) return false;
    }
  }

  // A LATEST checkpoint (leases created by versions before positions were pinned at creation)
  // would be resolved again by every new owner, skipping what was written between owners: pin
  // it to now, once, before reading. false: lease lost or stopping.
  bool pin_latest() {
    const int64_t now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(w_.clock_.now().time_since_epoch()).count();
    Backoff backoff(w_.config_.retry_base, w_.config_.retry_max);
    for (;;) {
      auto r = w_.coordinator_->checkpoint(shard_, std::string(kAtTimestamp), now_ms);
      if (r.ok()) {
        if (!*r) return false;
        lease_.checkpoint = std::string(kAtTimestamp);
        lease_.start_timestamp_ms = now_ms;
        spdlog::info("shard {}: LATEST pinned to AT_TIMESTAMP {} ms", lease_.key, now_ms);
        return true;
      }
      if (lost() || stopping()) return false;
      if (!nap(backoff.next(), true)) return false;
    }
  }

  Outcome finish_shard() {
    sync::hit(sync::kShardEndReached, lease_.key);
    if (!checkpoint(std::string(kShardEnd))) return lost() ? Outcome::kLost : Outcome::kStopped;
    w_.counters_->shards_finished++;
    spdlog::info("shard {}: read to its end; checkpointed SHARD_END", lease_.key);
    return Outcome::kFinished;
  }

  // After a kNotFound for the shard: true when the stream exists and no longer lists it.
  bool shard_gone() {
    auto shards = w_.source_->list_shards();
    if (!shards.ok()) return false;
    return std::none_of(shards->begin(), shards->end(), [&](const kinesis::Shard& s) { return s.id == shard_; });
  }

  Worker& w_;
  Lease lease_;
  const kinesis::ShardId shard_;  // lease_.key, typed
  std::chrono::milliseconds start_delay_;
  std::shared_ptr<const std::atomic<bool>> lost_;
  Backoff backoff_;
  std::optional<SteadyTime> stop_deadline_;
  // Read position state shared by run() and trimmed().
  std::optional<kinesis::SequenceNumber> last_done_;  // the last record processed
  // A source without AT_TIMESTAMP (DynamoDB Streams) is read from TRIM_HORIZON and the records
  // created before the lease's pinned time are skipped here, until the first batch is
  // checkpointed (a sequence number from then on). Its times are whole seconds, so records of
  // the pinned second are kept: applying a change twice, in order, is harmless; missing one is not.
  std::optional<std::chrono::system_clock::time_point> skip_before_;
  bool from_trim_horizon_ = false;  // after TrimmedDataAccessException: the checkpoint fell out of retention
  std::string lost_after_;  // the checkpoint whose successors were lost, until reading resumes
  std::atomic<Outcome> outcome_{Outcome::kRunning};
  std::thread thread_;
};

// ---------------------------------------------------------------------------------------------

Worker::Worker(Config config, kinesis::Client& kinesis, dynamodb::Client& lease_db, RecordProcessor& processor,
               Clock& clock)
    : Worker(config, kinesis, std::make_unique<DynamoLeaseStore>(lease_db, config.lease_table), processor, clock) {}

Worker::Worker(Config config, kinesis::Client& kinesis, std::unique_ptr<LeaseStore> store, RecordProcessor& processor,
               Clock& clock)
    : Worker(config, kinesis_source(kinesis, config.stream), std::move(store), processor, clock) {}

Worker::Worker(Config config, std::unique_ptr<ShardSource> source, dynamodb::Client& lease_db,
               RecordProcessor& processor, Clock& clock)
    : Worker(config, std::move(source), std::make_unique<DynamoLeaseStore>(lease_db, config.lease_table), processor,
             clock) {}

Worker::Worker(Config config, std::unique_ptr<ShardSource> source, std::unique_ptr<LeaseStore> store,
               RecordProcessor& processor, Clock& clock)
    : config_(std::move(config)), source_(std::move(source)), store_(std::move(store)), processor_(processor),
      clock_(clock), counters_(std::make_unique<Counters>()) {
  if (config_.stream.empty()) throw std::invalid_argument("lease::Worker: no stream");
  if (config_.worker_id.empty()) config_.worker_id = default_worker_id();
  if (config_.renew_interval <= 0ms) config_.renew_interval = config_.lease_duration / 3;
  if (config_.take_interval <= 0ms) config_.take_interval = config_.lease_duration / 2;
  if (config_.steal_grace <= 0ms) config_.steal_grace = config_.lease_duration / 2;
  config_.max_records = std::clamp(config_.max_records, 1, source_->max_records());
  CoordinatorOptions co;
  co.worker_id = config_.worker_id;
  co.lease_duration = config_.lease_duration;
  co.max_leases = config_.max_leases;
  coordinator_ = std::make_unique<LeaseCoordinator>(*store_, clock_, co);
}

Worker::~Worker() {
  stopping_.store(true);
  renewer_stop_.store(true);
  decltype(consumers_) consumers;
  {
    std::lock_guard lock(mu_);
    consumers.swap(consumers_);
  }
  consumers.clear();  // joins, outside the lock (consumer threads take mu_)
  if (renewer_.joinable()) renewer_.join();
}

WorkerStats Worker::stats() const {
  const Counters& c = *counters_;
  WorkerStats s;
  s.records_read = c.records_read;
  s.batches_processed = c.batches_processed;
  s.batch_failures = c.batch_failures;
  s.checkpoints = c.checkpoints;
  s.get_records_calls = c.get_records_calls;
  s.get_records_errors = c.get_records_errors;
  s.iterators_expired = c.iterators_expired;
  s.trimmed_data = c.trimmed_data;
  s.leases_taken = c.leases_taken;
  s.leases_stolen = c.leases_stolen;
  s.leases_lost = c.leases_lost;
  s.shards_finished = c.shards_finished;
  s.shard_syncs = c.shard_syncs;
  return s;
}

std::vector<ShardStatus> Worker::shard_status() const {
  std::lock_guard lock(mu_);
  std::vector<ShardStatus> out;
  for (const auto& [k, c] : consumers_) {
    if (c->done()) continue;
    auto it = status_.find(k);
    out.push_back(it != status_.end() ? it->second : ShardStatus{k, "", -1, 0, 0});
  }
  return out;
}

std::optional<std::string> Worker::not_ready() const {
  if (auto c = coordinator_->id_conflict()) return *c;
  std::lock_guard lock(mu_);
  if (!last_take_ok_) {
    return last_take_error_.empty() ? std::string("the lease table has not been read yet") : last_take_error_;
  }
  auto age = clock_.steady_now() - *last_take_ok_;
  if (age > 3 * config_.take_interval) {
    return fmt::format("the lease table was last read {} ms ago; last error: {}",
                       std::chrono::duration_cast<std::chrono::milliseconds>(age).count(),
                       last_take_error_.empty() ? "none" : last_take_error_);
  }
  return std::nullopt;
}

bool Worker::caught_up() const {
  const LeaseView view = coordinator_->last_view();
  if (view.leases == 0) return false;  // no take cycle has seen the lease table yet
  if (view.mine != view.eligible) return false;
  auto shards = shard_status();
  if (static_cast<int>(shards.size()) != view.mine) return false;
  return std::all_of(shards.begin(), shards.end(), [](const ShardStatus& s) { return s.millis_behind_latest == 0; });
}

Status Worker::shard_sync() {
  counters_->shard_syncs++;
  DR_ASSIGN(std::vector<kinesis::Shard> shards, source_->list_shards());
  DR_ASSIGN(std::vector<Lease> leases, store_->list());
  DR_TRY(check_same_stream(leases));
  std::set<std::string> existing;
  for (const auto& l : leases) existing.insert(l.key);
  std::set<std::string> listed;
  for (const auto& s : shards) listed.insert(s.id.str());

  // Parents before children, so a child's lease never exists without its (listed) parents'.
  std::vector<const kinesis::Shard*> order;
  std::set<std::string> placed;
  std::vector<const kinesis::Shard*> rest;
  for (const auto& s : shards) rest.push_back(&s);
  while (!rest.empty()) {
    size_t before = rest.size();
    for (auto it = rest.begin(); it != rest.end();) {
      const kinesis::Shard* s = *it;
      auto ready = [&](const std::optional<kinesis::ShardId>& p) {
        return !p || listed.count(p->str()) == 0 || placed.count(p->str()) != 0;
      };
      if (ready(s->parent) && ready(s->adjacent_parent)) {
        order.push_back(s);
        placed.insert(s->id.str());
        it = rest.erase(it);
      } else {
        ++it;
      }
    }
    if (rest.size() == before) {  // a cycle cannot happen; be safe anyway
      order.insert(order.end(), rest.begin(), rest.end());
      break;
    }
  }

  // Shards whose every record is ours to process: those with a lease from an earlier sync, and
  // (filled in below, parents first) the descendants of those created in this sync. A grandchild
  // born of two reshards between syncs descends from a consumed shard through a parent whose
  // lease is only being created now; it must start at TRIM_HORIZON like its parent, not at the
  // initial position (which would skip it, or at LATEST mark a closed one done unread).
  std::set<std::string> consumed = existing;
  for (const kinesis::Shard* s : order) {
    if (existing.count(s->id.str()) != 0) continue;
    Lease l;
    l.key = s->id.str();
    l.stream = source_->lease_stream();
    bool parent_consumed = false;
    for (const auto& p : {s->parent, s->adjacent_parent}) {
      if (!p || p->empty()) continue;
      l.parent_shard_ids.push_back(p->str());
      if (consumed.count(p->str()) != 0) parent_consumed = true;
    }
    if (parent_consumed) {
      // A descendant of a shard we were reading: everything in it is new to us.
      l.checkpoint = std::string(kTrimHorizon);
      consumed.insert(l.key);
    } else {
      switch (config_.initial_position.kind) {
        case StartPosition::Kind::kOldest:
          l.checkpoint = std::string(kTrimHorizon);
          break;
        case StartPosition::Kind::kNewest:
          // Nothing will ever be appended to a closed shard: at LATEST it is done already.
          if (s->closed()) {
            l.checkpoint = std::string(kShardEnd);
            break;
          }
          // "Latest" is pinned to the lease's creation: a LATEST checkpoint would be resolved
          // again by every owner until the first record is processed, so a handover (steal,
          // expiry, restart, SIGKILL) would skip everything written in between.
          l.checkpoint = std::string(kAtTimestamp);
          l.start_timestamp_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     clock_.now().time_since_epoch())
                                     .count();
          break;
        case StartPosition::Kind::kAtTime:
          l.checkpoint = std::string(kAtTimestamp);
          l.start_timestamp_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     config_.initial_position.timestamp.time_since_epoch())
                                     .count();
          break;
      }
    }
    auto r = store_->create(l);
    if (!r.ok()) return std::move(r).error();
    if (*r) spdlog::info("lease created: {}", describe(l));
  }
  return {};
}

Status Worker::check_same_stream(const std::vector<Lease>& leases) const {
  const std::string mine = source_->lease_stream();
  for (const Lease& l : leases) {
    if (l.stream == mine) continue;
    return Error(ErrorKind::kFatal, "LeaseTableOfAnotherStream",
                 fmt::format("lease table {} holds leases of {} (shard {}), not of {}: a table's DynamoDB stream "
                             "that was disabled and enabled again has a new ARN, and two streams' shards must not "
                             "mix. Use another --lease-table (the default is one per stream), or delete this one "
                             "once the old stream is no longer needed",
                             config_.lease_table,
                             l.stream.empty() ? std::string("a Kinesis stream") : "DynamoDB stream " + l.stream,
                             l.key, source_->describe()));
  }
  return {};
}

void Worker::renew_loop() {
  while (!renewer_stop_.load()) {
    auto next = clock_.steady_now() + config_.renew_interval;
    coordinator_->renew_leases();  // lost leases: their consumers see the flag and stop
    while (!renewer_stop_.load() && clock_.steady_now() < next) {
      clock_.sleep_for(std::min<Clock::Duration>(next - clock_.steady_now(), 20ms));
    }
  }
}

void Worker::start_consumer(const TakenLease& taken) {
  counters_->leases_taken++;
  if (taken.stolen) counters_->leases_stolen++;
  std::unique_ptr<Consumer> old;  // an earlier consumer of the same shard, stopping (lease lost)
  const kinesis::ShardId shard = taken.lease.shard();
  {
    std::lock_guard lock(mu_);
    auto it = consumers_.find(shard);
    if (it != consumers_.end()) old = std::move(it->second);
  }
  old.reset();  // joined outside the lock: its thread takes mu_ to report its status
  std::lock_guard lock(mu_);
  status_.erase(shard);
  consumers_[shard] = std::make_unique<Consumer>(*this, taken, taken.stolen ? config_.steal_grace : 0ms);
}

void Worker::reap_consumers(bool wait_all) {
  std::vector<std::unique_ptr<Consumer>> finished;
  {
    std::lock_guard lock(mu_);
    for (auto it = consumers_.begin(); it != consumers_.end();) {
      if (wait_all || it->second->done()) {
        finished.push_back(std::move(it->second));
        status_.erase(it->first);
        it = consumers_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& c : finished) {
    c->join();
    switch (c->outcome()) {
      case Consumer::Outcome::kFinished: {
        auto r = coordinator_->release(c->shard());
        if (!r.ok()) {
          spdlog::warn("shard {}: releasing the finished lease failed: {}", c->shard().str(), r.error().describe());
          coordinator_->drop(c->shard());
        }
        sync_requested_.store(true);  // its children may be ready now
        break;
      }
      case Consumer::Outcome::kLost:
        counters_->leases_lost++;
        coordinator_->drop(c->shard());
        spdlog::warn("shard {}: consumer stopped: lease lost", c->shard().str());
        break;
      case Consumer::Outcome::kStopped:
      case Consumer::Outcome::kRunning:
        break;  // released with the others at shutdown
    }
  }
}

bool Worker::sleep_until(SteadyTime t, const std::atomic<bool>& stop) {
  while (!stop.load() && !sync_requested_.load()) {
    auto now = clock_.steady_now();
    if (now >= t) return true;
    clock_.sleep_for(std::min<Clock::Duration>(t - now, 20ms));
    std::lock_guard lock(mu_);
    for (const auto& [k, c] : consumers_) {
      if (c->done()) return true;
    }
  }
  return !stop.load();
}

Status Worker::run(const std::atomic<bool>& stop) {
  spdlog::info("worker {} starting on {} (lease table {}, lease duration {} ms)", config_.worker_id,
               source_->describe(), config_.lease_table, config_.lease_duration.count());
  // The stream must exist: fail at once on a typo rather than log forever (and before a lease
  // table is created for it).
  {
    auto shards = source_->list_shards();
    if (!shards.ok() && !shards.error().retryable()) return std::move(shards).error();
  }
  if (config_.create_lease_table) {
    DR_TRY(store_->ensure_table());
  }
  // Another stream's leases: refuse at start, before taking any of them.
  if (auto leases = store_->list(); leases.ok()) {
    DR_TRY(check_same_stream(*leases));
  }
  stopping_.store(false);
  renewer_stop_.store(false);
  renewer_ = std::thread([this] { renew_loop(); });

  SteadyTime next_sync{};  // at once
  SteadyTime next_take{};
  while (!stop.load()) {
    auto now = clock_.steady_now();
    if (now >= next_sync || sync_requested_.exchange(false)) {
      auto st = shard_sync();
      if (!st.ok()) spdlog::warn("shard sync of {} failed: {}", source_->describe(), st.error().describe());
      next_sync = clock_.steady_now() + config_.shard_sync_interval;
      next_take = now;  // new leases (children) may be ready
    }
    reap_consumers(false);
    if (clock_.steady_now() >= next_take) {
      auto taken = coordinator_->take_leases();
      {
        std::lock_guard lock(mu_);
        if (taken.ok()) {
          last_take_ok_ = clock_.steady_now();
        } else {
          last_take_error_ = taken.error().describe();
        }
      }
      if (!taken.ok()) {
        spdlog::warn("lease taking failed: {}", taken.error().describe());
      } else {
        for (const auto& t : *taken) start_consumer(t);
      }
      next_take = clock_.steady_now() + config_.take_interval;
    }
    sleep_until(std::min(next_take, next_sync), stop);
    if (coordinator_->id_conflict()) break;
  }
  std::optional<std::string> conflict = coordinator_->id_conflict();

  // Graceful stop: consumers finish the batch in hand and checkpoint; then leases are released.
  spdlog::info("worker {} stopping: finishing batches in hand", config_.worker_id);
  stopping_.store(true);
  reap_consumers(true);
  renewer_stop_.store(true);
  if (renewer_.joinable()) renewer_.join();
  for (const auto& shard : coordinator_->held_shards()) {
    auto r = coordinator_->release(shard);
    if (!r.ok()) spdlog::warn("shard {}: releasing the lease failed: {}", shard.str(), r.error().describe());
  }
  spdlog::info("worker {} stopped", config_.worker_id);
  if (conflict) return Error(ErrorKind::kFatal, "WorkerIdInUse", *conflict);
  return {};
}

}  // namespace dynarep::lease
