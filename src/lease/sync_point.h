// Named test hooks ("sync points", after RocksDB's test_util/sync_point.h and TEST_KILL_RANDOM):
// places in the lease and worker code where a test can pause, slow down or kill the process at
// an exact moment, so races around checkpoints and lease writes are tested deterministically.
//
// In-process tests install a handler: sync::set(sync::kAfterProcess, [&](std::string_view shard) {...}).
// Tests that run the dynarep binary set DYNAREP_SYNC_POINTS (read by `dynarep replicate`):
//   DYNAREP_SYNC_POINTS="worker.process.after=kill@3,lease.renew.before=sleep:500"
// Actions: kill (SIGKILL this process), stop (SIGSTOP: the test resumes it with SIGCONT),
// abort, sleep:MS, log (one stderr line). "@N" fires on the Nth hit only (1-based); without
// it, kill/stop/abort fire on the first hit and sleep/log on every hit. "point:shard=..." is not
// supported: points fire for every shard.
//
// Hooks that can kill or abort the process from an environment variable do not belong in a
// binary users run, so, as RocksDB does with TEST_SYNC_POINT, they exist only when the build sets
// DYNAREP_TEST_HOOKS (CMake option of that name: ON for Debug and the asan preset, OFF for
// Release). Without it hit() is an empty inline function, so the calls compile to nothing, and
// install() refuses every spec, so a test that needs a hook fails loudly instead of passing
// without it. With hooks and nothing installed a hit costs one relaxed atomic load.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace dynarep::lease::sync {

// Lease writes (the shard id is passed to the handler).
inline constexpr std::string_view kBeforeTake = "lease.take.before";
inline constexpr std::string_view kAfterTake = "lease.take.after";
inline constexpr std::string_view kBeforeRenew = "lease.renew.before";
inline constexpr std::string_view kAfterRenew = "lease.renew.after";
inline constexpr std::string_view kBeforeCheckpoint = "lease.checkpoint.before";
inline constexpr std::string_view kAfterCheckpoint = "lease.checkpoint.after";
inline constexpr std::string_view kBeforeRelease = "lease.release.before";
inline constexpr std::string_view kAfterRelease = "lease.release.after";
// The shard consumer: around RecordProcessor::process (after: processed, not yet checkpointed),
// and when a closed shard's end is reached (before its SHARD_END checkpoint).
inline constexpr std::string_view kBeforeProcess = "worker.process.before";
inline constexpr std::string_view kAfterProcess = "worker.process.after";
inline constexpr std::string_view kShardEndReached = "worker.shard_end";
// After a batch of records was read (GetRecords returned), before processing.
inline constexpr std::string_view kAfterGetRecords = "worker.get_records.after";

#ifndef DYNAREP_TEST_HOOKS
#error "DYNAREP_TEST_HOOKS must be defined (0 or 1) by the build: link dynarep::lease"
#endif

// Whether this build has the hooks; tests that need them skip themselves when it has not.
inline constexpr bool kEnabled = DYNAREP_TEST_HOOKS != 0;

using Handler = std::function<void(std::string_view shard)>;

// Calls the handler installed for `point`, if any.
#if DYNAREP_TEST_HOOKS
void hit(std::string_view point, std::string_view shard);
#else
inline void hit(std::string_view /*point*/, std::string_view /*shard*/) {}
#endif

// Installs (replaces) the handler for `point`.
void set(std::string_view point, Handler handler);
void clear(std::string_view point);
void clear_all();

// Installs handlers from a spec as described above. kInvalidInput on a malformed spec, and on
// every spec in a build without hooks.
Status install(std::string_view spec);
// install(getenv(variable)) when the variable is set and not empty.
Status install_from_env(const char* variable = "DYNAREP_SYNC_POINTS");

// RAII for tests: installs on construction, clears the point on destruction.
class ScopedHandler {
 public:
  ScopedHandler(std::string_view point, Handler handler) : point_(point) { set(point_, std::move(handler)); }
  ~ScopedHandler() { clear(point_); }
  ScopedHandler(const ScopedHandler&) = delete;
  ScopedHandler& operator=(const ScopedHandler&) = delete;

 private:
  std::string point_;
};

}  // namespace dynarep::lease::sync
