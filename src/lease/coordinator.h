// The lease side of a worker, without threads or I/O of its own: taking (balanced), renewing,
// checkpointing and releasing leases in a LeaseStore, with time from an injected Clock. The
// Worker calls take_leases() and renew_leases() on timers and checkpoint() from shard
// consumers; unit tests call them directly with a ManualClock (tests/lease).
//
// Expiry is judged by this observer's own clock, never by timestamps in the table (clocks of
// different hosts disagree): a lease is expired when its counter has not changed for
// lease_duration as seen here. A lease first seen unowned is available at once; a lease first
// seen owned is given a full lease_duration from that moment.
//
// A lost lease is an outcome, not an exception: renew/checkpoint/release answer false (or list
// it as lost) and the lease is dropped from the held set. Writes to one held lease are
// serialised (renewal vs checkpoint), so a failed condition always means another writer.
//
// Thread-safe: take_leases, renew_leases, checkpoint and release may run on different threads.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "kinesis/types.h"
#include "lease/lease.h"
#include "lease/lease_store.h"

namespace dynarep::lease {

struct CoordinatorOptions {
  std::string worker_id;                            // required
  std::chrono::milliseconds lease_duration{10000};  // default 10 s (the KCL's failover time)
  int max_leases = 0;                               // leases held at most; 0 (default): no cap
  uint64_t seed = 0;  // for the random pick among free leases; 0 (default): from the worker id
  // This process's owner token, written by every take (Lease::owner_token). Empty (default):
  // random. Two processes must never share one.
  std::string owner_token;
};

struct TakenLease {
  Lease lease;
  bool stolen = false;  // taken from a live worker (that worker stops at its next renewal)
};

// What the last take cycle saw, for logs and metrics.
struct LeaseView {
  int leases = 0;    // in the table
  int eligible = 0;  // not finished, parents finished
  int workers = 0;
  int target = 0;
  int mine = 0;
};

class LeaseCoordinator {
 public:
  LeaseCoordinator(LeaseStore& store, Clock& clock, CoordinatorOptions options);

  // One taker cycle: lists the leases, updates what this observer has seen of their counters,
  // and takes (or steals) what plan_take decides. Returns the leases taken in this cycle.
  // An error only when listing failed; a lease someone else took first is skipped.
  Result<std::vector<TakenLease>> take_leases();

  // Renews every held lease once. Returns the shards lost in this round: a failed condition
  // (someone took it), or no successful renewal for lease_duration (others may take it now).
  std::vector<kinesis::ShardId> renew_leases();

  // Records `value` (a sequence number or SHARD_END; AT_TIMESTAMP with `start_timestamp_ms`)
  // for a held lease. true: written; false: the lease is lost (not held, taken by someone
  // else); an Error: try again. `value` stays text, not a kinesis::SequenceNumber: it is the
  // lease's checkpoint column, which also holds the sentinels (lease.h).
  Result<bool> checkpoint(const kinesis::ShardId& shard, const std::string& value,
                          std::optional<int64_t> start_timestamp_ms = std::nullopt);

  // Until when this worker may still write on behalf of the held lease `shard`: the start of
  // its last successful renewal plus the lease duration, less a safety margin. Another worker
  // takes the lease only after it saw the counter stand still for a whole lease duration,
  // which began after that renewal was sent, so writes made before this point cannot overlap a
  // new owner's. nullopt when the lease is not held (lost or released).
  [[nodiscard]] std::optional<std::chrono::steady_clock::time_point> write_deadline(const kinesis::ShardId& shard) const;

  // Set when another live process uses this worker id (it took a lease this process held, with
  // its own token): this process must stand down. The message says what was seen.
  [[nodiscard]] std::optional<std::string> id_conflict() const;

  // Gives a held lease up (removes the owner) so another worker can take it at once. true:
  // released; false: it was lost already. Either way it is no longer held.
  Result<bool> release(const kinesis::ShardId& shard);

  // Forgets a held lease without writing (its consumer stopped because it was lost).
  void drop(const kinesis::ShardId& shard);

  [[nodiscard]] bool holds(const kinesis::ShardId& shard) const;
  [[nodiscard]] std::vector<kinesis::ShardId> held_shards() const;
  // A flag set when the held lease `shard` is lost (for its consumer to watch); null if not held.
  [[nodiscard]] std::shared_ptr<const std::atomic<bool>> lost_flag(const kinesis::ShardId& shard) const;
  [[nodiscard]] LeaseView last_view() const;
  [[nodiscard]] const std::string& worker_id() const { return opt_.worker_id; }
  [[nodiscard]] const std::string& owner_token() const { return opt_.owner_token; }
  [[nodiscard]] std::chrono::milliseconds lease_duration() const { return opt_.lease_duration; }

 private:
  struct Held {
    std::mutex write_mu;  // serialises this lease's conditional writes
    Lease lease;          // guarded by write_mu
    std::chrono::steady_clock::time_point last_renewed;  // start of the last successful write
    std::shared_ptr<std::atomic<bool>> lost = std::make_shared<std::atomic<bool>>(false);
  };
  enum class Op { kRenew, kTake, kCheckpoint, kEvict };
  struct Seen {
    int64_t counter = 0;
    std::string owner;
    std::chrono::steady_clock::time_point since;  // when this observer saw the counter change
  };

  std::shared_ptr<Held> find(const kinesis::ShardId& shard) const;
  void mark_lost(const kinesis::ShardId& shard, const std::shared_ptr<Held>& h, std::string_view why);
  // After a write answered "condition failed": was it our own write, applied on an earlier
  // attempt whose answer was lost? Reads the lease back; true (and `lease` updated) if so.
  Result<bool> resolve_conflict(Lease& lease, const Lease& before, Op op, const std::string& checkpoint_value);
  // A lease we held is now held under our worker id by another process: record the conflict.
  void note_id_conflict(const Lease& current);

  LeaseStore& store_;
  Clock& clock_;
  CoordinatorOptions opt_;
  mutable std::mutex mu_;  // guards held_, seen_, view_, rng_
  std::map<kinesis::ShardId, std::shared_ptr<Held>> held_;
  std::map<std::string, Seen> seen_;  // by lease key (the table's form: the shard id as text)
  LeaseView view_;
  std::mt19937_64 rng_;
  std::optional<std::string> id_conflict_;  // guarded by mu_
};

}  // namespace dynarep::lease
