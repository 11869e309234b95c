// What a write through the replicated-table client returns. A write has two halves: the
// table write, then its change record on the stream. Either can fail, and when the second
// fails the first has already happened: the item is on the primary and the replica will not
// hear of it. That outcome is not an ordinary Error: WriteError carries the changes whose
// records are missing (`unpublished`), so the caller can republish them
// (StreamPublisher::republish) instead of losing them silently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/result.h"
#include "writer/change.h"

namespace dynarep::writer {

struct WriteError {
  // The table write failed: for a single write nothing was written; for a batch, `written`
  // writes were confirmed before it (their records were still published, or are listed in
  // `unpublished`). Kind kUnknownOutcome (an update whose answer was lost): the write may
  // have happened, and its key was published all the same (or is in `unpublished`).
  std::optional<Error> write_error;
  // Records of confirmed writes could not be published (after the publisher's retries); set
  // exactly when `unpublished` is not empty.
  std::optional<Error> publish_error;
  // Confirmed writes whose change records are NOT on the stream, in the order written.
  std::vector<Change> unpublished;
  // Writes the table confirmed (batches; 1 or 0 for a single write).
  int64_t written = 0;

  // Every write happened; only records are missing.
  [[nodiscard]] bool unpublished_only() const { return !write_error && !unpublished.empty(); }
  // The write error if there is one, else the publish error.
  [[nodiscard]] const Error& error() const;
  // One line: "<write error>; 3 written changes not published to the stream (<publish error>)".
  [[nodiscard]] std::string describe() const;
};

template <class T>
using WriteResult = BasicResult<T, WriteError>;

using WriteStatus = WriteResult<void>;

}  // namespace dynarep::writer
