// The pure part of consuming a batch of change records, shared by the replicator and the
// incremental backup: which records are rejected (dead letters), skipped (outside a window),
// superseded (an earlier change to a key changed again later in the batch), and what to do for
// each key: read it from the primary, put an image, or delete.
//
// The rules (docs/replication.md, "What is applied"):
//   - KEYS_ONLY records (ours, dyno's, a KEYS_ONLY stream view) and OLD_IMAGE views are read
//     from the primary, REMOVE included: a KEYS_ONLY record says only "this key changed", and a
//     republished old REMOVE must not delete a live item.
//   - Kinesis Data Streams for DynamoDB records are read from the primary too when there is one:
//     that source delivers records late and more than once, so an image applied in stream
//     order can overwrite a newer one, and a duplicated INSERT after a REMOVE would resurrect a
//     deleted item. The primary's consistent read is never older than any record. Without a
//     primary, the image with the latest ApproximateCreationDateTime in the batch wins (safe
//     within a batch only: say so to the user).
//   - DynamoDB Streams records (exactly once, in order per item) apply their images: INSERT and
//     MODIFY put NewImage, REMOVE deletes.
//   - `reread` reads every key, images or not.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "model/item.h"
#include "stream/change_input.h"

namespace dynarep::stream {

struct PlanOptions {
  bool reread = false;       // read every key from the primary, images or not
  bool have_primary = true;  // KEYS_ONLY records need one
  // When set, records whose event_time() it rejects are skipped (turnover); records with no
  // time are applied and listed in Plan::unknown_time.
  std::function<bool(std::chrono::system_clock::time_point)> in_window;
};

struct Rejected {
  size_t input = 0;    // index into the batch
  std::string reason;  // "record does not parse: ...", "key schema mismatch: ..."
};

struct KeyAction {
  enum class Kind { kRead, kPut, kDelete } kind = Kind::kRead;
  model::Item key;                   // as the table's key schema has it
  std::optional<model::Item> image;  // kPut
  size_t input = 0;                  // the change applied (the last one, or the latest image)
  std::vector<size_t> inputs;        // every change to this key in the batch, in order
};

struct Plan {
  std::vector<Rejected> rejected;
  std::vector<size_t> skipped;       // outside the window
  std::vector<size_t> unknown_time;  // applied although the window could not judge them
  std::vector<KeyAction> actions;    // one per distinct key, in first-seen order
  size_t superseded = 0;             // changes replaced by a later one for the same key
};

// Keys are grouped by value (model::canonical_bytes), so {"N":"1.50"} and {"N":"1.5"} are one
// key. A record whose key cannot be read or does not match `schema` (wrong type, an attribute
// that is not part of the key, another table's key on a shared stream) is rejected. A record
// with an image that cannot be applied (no key, wrong key, larger than 400 KB) is rejected too,
// and its key is then read from the primary when there is one: the primary is the truth.
Plan plan_batch(const std::vector<ChangeInput>& inputs, const model::KeySchema& schema, const PlanOptions& options);

}  // namespace dynarep::stream
