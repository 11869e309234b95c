// The pure part of applying a batch: which records are rejected (dead letters), skipped
// (turnover), superseded (an earlier change to a key changed again later in the batch), and what
// to do for each key: read it from the primary, put an image, or delete.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "model/item.h"
#include "replicate/change.h"
#include "replicate/turnover.h"

namespace dynarep::replicate::detail {

struct PlanOptions {
  bool reread = false;                 // read every key from the primary, images or not
  bool have_primary = true;            // KEYS_ONLY records need one
  std::optional<Turnover> turnover{};
};

struct Rejected {
  size_t input = 0;    // index into the batch
  std::string reason;  // "record does not parse: ...", "key schema mismatch: ..."
};

struct KeyAction {
  enum class Kind { kRead, kPut, kDelete } kind = Kind::kRead;
  model::Item key;
  std::optional<model::Item> image;  // kPut
  size_t input = 0;                  // the last change's index (the one applied)
  std::vector<size_t> inputs;        // every change to this key in the batch, in order
};

struct Plan {
  std::vector<Rejected> rejected;
  std::vector<size_t> skipped;          // outside the turnover window
  std::vector<size_t> unknown_time;     // applied although turnover could not judge them
  std::vector<KeyAction> actions;       // one per distinct key, in first-seen order
  size_t superseded = 0;                // changes replaced by a later one for the same key
};

// Keys are grouped by value (model::canonical_bytes), so {"N":"1.50"} and {"N":"1.5"} are one key.
// A record whose key cannot be read or does not match `schema` is rejected. A record with an
// image that cannot be applied (no key, wrong key, larger than 400 KB) is rejected too, and its
// key is then read from the primary when there is one: the primary is the truth.
Plan plan_batch(const std::vector<ChangeInput>& inputs, const model::KeySchema& schema, const PlanOptions& options);

}  // namespace dynarep::replicate::detail
