// The replication rule (docs/formats.md §3), applied a batch at a time:
//   - parse each record (stream::parse_change_record); keep the LAST change per key (records for
//     one key are ordered within a shard, and a batch is one shard's);
//   - KEYS_ONLY records (and every record with --reread): read the keys from the primary with
//     consistent BatchGetItem (100 keys a call, unprocessed keys retried); present -> put the
//     item on the replica, absent -> delete it there;
//   - records with images (DynamoDB Streams, Kinesis Data Streams for DynamoDB): INSERT/MODIFY
//     put NewImage, REMOVE deletes; a record without NewImage is read from the primary;
//   - writes go out as BatchWriteItem calls (unprocessed items retried until done).
// Applying is idempotent: re-applying a batch, or an older batch after a newer one, leaves the
// replica at the primary's state for KEYS_ONLY records (each read sees the primary's latest).
//
// Never dies on one bad record: a record that cannot be parsed or applied (malformed JSON,
// missing keys, key schema mismatch, item too large, a key DynamoDB rejects) is counted, logged
// with shard and sequence number, written to the dead-letter sink, and skipped. Transient
// failures (throttling, 5xx, network) are returned as errors so the whole batch is retried, and
// are never dead-lettered.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "lease/worker.h"
#include "model/item.h"
#include "replicate/change.h"
#include "replicate/dead_letter.h"
#include "replicate/metrics.h"
#include "replicate/turnover.h"

namespace dynarep::dynamodb {
class Client;
}

namespace dynarep::replicate {

struct WriteSlot;  // replicator.cpp

struct ReplicatorOptions {
  std::shared_ptr<dynamodb::Client> primary;  // may be null when every record carries images
  std::string primary_table;
  std::shared_ptr<dynamodb::Client> replica;  // required
  std::string replica_table;
  model::KeySchema key_schema;                // of both tables (see check_tables)
  bool reread = false;                        // read every key from the primary, images or not
  std::optional<Turnover> turnover{};
  std::shared_ptr<DeadLetterSink> dead_letters;  // null: stderr only
  std::shared_ptr<Metrics> metrics;               // null: a private one
  // Segments of a batch in flight at once (default 4): each is one BatchGetItem of up to 100
  // keys and then its writes (BatchWriteItem calls of 25, or fenced transactions).
  int parallel = 4;
  // The lease table, when it is on the replica's endpoint (same account and region): every
  // replica write of a leased batch then goes out as TransactWriteItems with a ConditionCheck
  // that the lease item still names this worker and its owner token. DynamoDB rejects such a
  // write whenever it arrives after another worker took the shard, however long it was delayed
  // in the network or its process paused: the fence closes what the write deadline alone only
  // narrows. Costs twice the write units (transactions), 99 writes a call. Empty (default): no
  // fence, the write deadline only. See docs/replication.md, "Lease handover".
  std::string fence_table;
  Clock* clock = nullptr;  // null: SystemClock
};

// What one batch did.
struct ApplyResult {
  int64_t received = 0;
  int64_t applied = 0;        // records whose change reached the replica (superseded included)
  int64_t superseded = 0;
  int64_t skipped = 0;        // turnover
  int64_t dead_lettered = 0;
  int64_t puts = 0;
  int64_t deletes = 0;
};

// Describes the replica (and the primary, when given) and returns their key schema; an error
// when a table is missing or their keys differ.
Result<model::KeySchema> check_tables(dynamodb::Client* primary, const std::string& primary_table,
                                      dynamodb::Client& replica, const std::string& replica_table);

// Whether `client`'s endpoint has TransactWriteItems (AWS and moto do; dynalite does not), asked
// with a ConditionCheck of an absent item in `lease_table` (which must exist). false when the
// service says it does not know the operation; an Error for anything else.
Result<bool> transactions_supported(dynamodb::Client& client, const std::string& lease_table);

class Replicator {
 public:
  explicit Replicator(ReplicatorOptions options);

  // Applies one batch. OK when every change is applied or dead-lettered (then, and only then,
  // the batch may be checkpointed); an error when something must be retried: nothing can be
  // assumed about which writes were made, so retry the whole batch. Thread-safe.
  //
  // `lease`: the shard batch the inputs came from, when a lease guards it. No write request to
  // the replica starts past the lease's write deadline (ShardBatch::write_deadline) or once it
  // is abandoned: a worker paused or slowed past its lease must not overwrite what the shard's
  // next owner has written since (docs/replication.md, "Lease handover").
  Result<ApplyResult> apply(const std::vector<ChangeInput>& inputs, const lease::ShardBatch* lease = nullptr);

  [[nodiscard]] Metrics& metrics() { return *metrics_; }
  [[nodiscard]] const ReplicatorOptions& options() const { return opt_; }

 private:
  // Reads keys from the primary: found[i] is the item for keys[i], or nullopt when absent.
  // Keys DynamoDB rejects (kInvalidInput) are reported in `bad` instead of failing the batch.
  Status read_primary(const std::vector<model::Item>& keys, std::vector<std::optional<model::Item>>& found,
                      std::vector<std::pair<size_t, std::string>>& bad);
  // Writes the requests to the replica; requests DynamoDB rejects are reported in `bad`.
  Status write_replica(const std::vector<WriteSlot>& writes, std::vector<std::pair<size_t, std::string>>& bad,
                       const lease::ShardBatch* lease);
  // The same through TransactWriteItems fenced on the lease item (fence_table).
  Status write_fenced(const std::vector<WriteSlot>& writes, std::vector<std::pair<size_t, std::string>>& bad,
                      const lease::ShardBatch& lease);
  // One fenced transaction of writes[idx...]; record-specific failures go to `bad`.
  Status write_fenced_group(const std::vector<WriteSlot>& writes, std::vector<size_t> idx,
                            std::vector<std::pair<size_t, std::string>>& bad, const lease::ShardBatch& lease);

  ReplicatorOptions opt_;
  std::shared_ptr<Metrics> metrics_;
  std::shared_ptr<DeadLetterSink> sink_;
  Clock& clock_;
};

// The lease::RecordProcessor that replicates a shard's batches.
class ReplicationProcessor final : public lease::RecordProcessor {
 public:
  explicit ReplicationProcessor(Replicator& replicator) : replicator_(replicator) {}
  Status process(const lease::ShardBatch& batch) override;

 private:
  Replicator& replicator_;
};

}  // namespace dynarep::replicate
