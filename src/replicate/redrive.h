// Redrive: gives dead letters (dead_letter.h) a way back. Once the cause of a dead letter is
// fixed (the replica's table, an item the replica rejected, a record's key), `dynarep redrive`
// applies the letters again with the replicator's own rules: the same Replicator, so
// KEYS_ONLY records are read from the primary with a consistent read and images are applied
// only where the replicator would apply them (turnover and --reread included).
//
// Nothing is lost: every letter that still cannot be applied, and every line of the input that
// is not a dead letter, is written to the `still_failing` sink (a new file) with the reason it
// failed this time. Letters are applied in batches of `batch` in the input's order; a batch that
// fails with a retryable error is retried with backoff `attempts` times, then its letters go to
// the still-failing sink too.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "replicate/dead_letter.h"
#include "replicate/replicator.h"

namespace dynarep::s3 {
class Client;
}

namespace dynarep::replicate {

// One dead-letter line as read, and where it came from ("dl/shard-0.jsonl line 3",
// "s3://b/p/shard/42-ab12cd34.json line 1").
struct DeadLetterLine {
  std::string where;
  std::string text;
};

// Every line of a dead-letter file (JSON lines, as FileDeadLetterSink writes them).
Result<std::vector<DeadLetterLine>> read_dead_letter_file(const std::string& path);
// Every line of every object under s3://bucket/prefix (as S3DeadLetterSink writes them: one
// object per letter), in key order.
Result<std::vector<DeadLetterLine>> read_dead_letter_objects(s3::Client& client, const std::string& bucket,
                                                             const std::string& prefix);

struct RedriveOptions {
  ReplicatorOptions replicator;              // primary, replica, key schema, ... (dead_letters ignored)
  std::shared_ptr<DeadLetterSink> still_failing;  // required
  size_t batch = 100;
  int attempts = 5;                                   // per batch, on retryable errors
  std::chrono::milliseconds backoff{500};             // doubled each retry
  std::function<void(std::chrono::milliseconds)> sleep;  // default: this_thread::sleep_for
};

struct RedriveResult {
  int64_t letters = 0;        // lines read
  int64_t applied = 0;        // letters whose change reached the replica
  int64_t still_failing = 0;  // written to the still-failing sink
  int64_t skipped = 0;        // turnover
};

// Applies the letters; an error only when the still-failing sink cannot be written (then the
// result says how far it got, and the input is still intact).
Result<RedriveResult> redrive(const std::vector<DeadLetterLine>& lines, const RedriveOptions& options);

}  // namespace dynarep::replicate
