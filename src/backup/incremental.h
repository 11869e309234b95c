// Incremental backups (docs/formats.md §4.2): one object per item at
//   <prefix>/<table>/<sha256 hex of the key's canonical JSON>
// whose body is the item's wire JSON (one line, no trailing newline, as the original tool
// wrote JSON.stringify(item)); a REMOVE deletes the object.
//
// Fed by the same lease-based stream consumer as the replicator (lease::Worker calls
// IncrementalProcessor::process per shard batch and checkpoints after it succeeded), or by a
// Lambda event. Per batch: parse the records, keep the last change per key (a batch is one
// shard's, in order), read KEYS_ONLY keys from the primary with consistent BatchGetItem
// (present: put the object; absent: delete it), use NewImage for image records; with history
// on, append every change to the history log (history.h) first; then write the objects,
// `parallel` at once. Idempotent: a batch applied twice leaves the same objects.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backup/storage.h"
#include "core/clock.h"
#include "core/progress.h"
#include "core/result.h"
#include "kinesis/types.h"
#include "lease/worker.h"
#include "model/item.h"
#include "stream/change_input.h"
#include "stream/record.h"

namespace dynarep::dynamodb {
class Client;
}

namespace dynarep::backup {

// sha256 hex of model::canonical_key_json(key).
std::string incremental_object_name(const model::Item& key);
// Whether a listed name is an item object's (64 lower-case hex digits), not history/ or other.
bool is_incremental_object_name(std::string_view name);
// `<dest>/<table>`.
Location incremental_table_dir(const Location& dest, const std::string& table);

// One change record as it arrived (shared with the replicator: stream/change_input.h).
using stream::ChangeInput;
using stream::inputs_from_kinesis;
// A Lambda event ({"Records":[...]}, Kinesis or DynamoDB Streams), grouped by shard/source in
// event order.
Result<std::vector<std::pair<std::string, std::vector<ChangeInput>>>> inputs_from_lambda_event(std::string_view json);

// A record the backup cannot apply however often it tries (it does not parse, its key does not
// fit the table): handed to IncrementalOptions::dead_letter, and the shard goes on.
struct RejectedRecord {
  const ChangeInput* input = nullptr;
  std::string reason;
};

struct IncrementalOptions {
  dynamodb::Client* primary = nullptr;  // for KEYS_ONLY records; may be null when all carry images
  std::string table;                     // the primary table's name (names the directory)
  // The table's key (DescribeTable): records whose keys do not fit it are rejected, not sent to
  // BatchGetItem (where one bad key fails the whole call, and the shard would retry forever).
  model::KeySchema key_schema;
  Storage* storage = nullptr;
  Location table_dir;                    // <prefix>/<table>
  bool history = false;                  // also append every change to <table_dir>/history/
  bool reread = false;                   // read every key from the primary, images or not
  int parallel = 8;                      // S3 writes in flight per batch (default 8)
  Clock* clock = nullptr;                // null: SystemClock
  // Records that cannot be applied (malformed, no keys, keys that do not fit the table) are
  // skipped with a warning naming shard and sequence number: retrying cannot fix them.
  std::function<void(const std::string&)> warn;
  // And written here when set (a dead-letter sink); an error fails the batch (it is retried).
  std::function<Status(const std::vector<RejectedRecord>&)> dead_letter;
  // Lambda mode, tests: no lease. Otherwise IncrementalProcessor passes the batch's lease, and
  // no S3 write starts past its write deadline (lease::ShardBatch::write_deadline).
  //
  // How a worker that lost its lease mid-batch (paused, or its request held up in the network)
  // is kept from overwriting the next owner's newer objects (docs/backup.md, "Fence"):
  //   kDeadline: the write deadline only; a request already sent can still land late.
  //   kConditional: also every object write is conditional on what this worker last saw: HEAD
  //     the object, then PutObject If-Match <ETag> (If-None-Match: * when absent) and
  //     DeleteObject If-Match <ETag>. A write that lands after another worker changed the
  //     object is refused by S3 however late it arrives; on a refusal the worker re-reads the
  //     key from the primary (a key it had read) and tries again while its lease lasts.
  // S3 only; choose with probe_conditional_writes (s3rver ignores the conditions).
  enum class Fence { kDeadline, kConditional };
  Fence fence = Fence::kDeadline;
  // kConditional: the server also honours If-Match on DeleteObject (else deletes are unconditional
  // after the deadline check: a late delete can still remove a newer object).
  bool conditional_delete = false;
};

// Whether the S3 server refuses conditional writes that fail their condition: probes with an
// object `<table_dir>/fence-probe-<random>` (never an item's name), deleted afterwards.
struct ConditionalWrites {
  bool put = false;     // PutObject If-None-Match: * is refused on an existing object
  bool remove = false;  // DeleteObject If-Match <other ETag> is refused
};
Result<ConditionalWrites> probe_conditional_writes(Storage& storage, const Location& table_dir);

// `incremental-backup --fence MODE`: sets opt.fence / opt.conditional_delete for MODE "auto"
// (conditional writes where the server honours them, probed at opt.table_dir), "conditional"
// (refuses to go on without them: kInvalidInput naming the location) or "deadline", and
// returns the line that says which protection is in force.
Result<std::string> choose_fence(std::string_view mode, IncrementalOptions& opt);

struct IncrementalStats {
  std::atomic<int64_t> records{0};
  std::atomic<int64_t> puts{0};
  std::atomic<int64_t> deletes{0};
  std::atomic<int64_t> skipped{0};
  std::atomic<int64_t> history_entries{0};
  std::atomic<int64_t> batches{0};
  // Conditional S3 writes refused because the object changed since this worker looked at it
  // (another worker wrote it; or a retried attempt of our own had already been applied).
  std::atomic<int64_t> fenced_writes_refused{0};
};

class IncrementalBackup {
 public:
  explicit IncrementalBackup(IncrementalOptions options);
  // Applies one shard's batch (in order). OK when every change is durable in S3 (and in the
  // history log); an error means retry the whole batch. Thread-safe.
  Status apply(const std::vector<ChangeInput>& batch, const lease::ShardBatch* lease = nullptr);
  [[nodiscard]] const IncrementalStats& stats() const { return stats_; }
  [[nodiscard]] const IncrementalOptions& options() const { return opt_; }

 private:
  // One S3 write of `obj` under the fence in force: true when done, false when a conditional
  // write was refused because the object changed since it was looked at (the caller looks
  // again). Errors: the lease's write deadline passed (LeaseLost), S3 errors.
  Result<bool> try_put(const Location& obj, const std::string& body, const lease::ShardBatch* lease);
  Result<bool> try_remove(const Location& obj, const lease::ShardBatch* lease);
  // try_put until done, at most kFenceRounds times (history objects: same body every time).
  Status put_fenced(const Location& obj, const std::string& body, const lease::ShardBatch* lease);
  // Puts the item's object, or deletes every spelling of the key's object (item absent). On a
  // refused conditional write, re-reads the key from the primary when `reread` (and there is a
  // primary) and tries again.
  Status write_key(const model::Item& key, std::optional<model::Item> image, bool reread,
                   const lease::ShardBatch* lease);

  IncrementalOptions opt_;
  Clock& clock_;
  IncrementalStats stats_;
};

class IncrementalProcessor final : public lease::RecordProcessor {
 public:
  explicit IncrementalProcessor(IncrementalBackup& backup) : backup_(backup) {}
  Status process(const lease::ShardBatch& batch) override;

 private:
  IncrementalBackup& backup_;
};

// Writes every item of the table to its object (incremental-backfill). Returns items written.
Result<int64_t> incremental_backfill(dynamodb::Client& client, const std::string& table, Storage& storage,
                                     const Location& table_dir, int parallel, Progress* progress);

// Calls fn with every item object's body under `table_dir` (only `<64 hex>` names directly in
// it: history/ and anything else is skipped), in name order, fetching `parallel` objects at
// once in chunks of bounded size. fn is called from one thread at a time.
Status for_each_incremental_body(Storage& storage, const Location& table_dir, int parallel,
                                 const std::function<Status(const std::string& name, std::string_view body)>& fn);

struct SnapshotResult {
  int64_t items = 0;
  uint64_t bytes = 0;       // uncompressed
  uint64_t gzip_bytes = 0;
  std::string sha256;
};
// incremental-snapshot: gzip of every object's body, a line each, to `dst` (S3 object, file, -).
Result<SnapshotResult> incremental_snapshot(Storage& storage, const Location& table_dir, const Location& dst,
                                            int parallel, Progress* progress);

}  // namespace dynarep::backup
