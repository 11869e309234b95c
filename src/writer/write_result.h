// What a write through the replicated-table client returns. A write has two halves: the
// table write, then its change record on the stream. Either can fail, and when the second
// fails the first has already happened: the item is on the primary and the replica will not
// hear of it. That outcome is not an ordinary Error: WriteError carries the changes whose
// records are missing (`unpublished`), so the caller can republish them
// (StreamPublisher::republish) instead of losing them silently.
#pragma once

#include <cassert>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "core/error.h"
#include "writer/change.h"

namespace dynarep::writer {

struct WriteError {
  // The table write failed: for a single write nothing was written; for a batch, `written`
  // writes were confirmed before it (their records were still published, or are listed in
  // `unpublished`).
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
class [[nodiscard]] WriteResult {
 public:
  WriteResult(T value) : v_(std::in_place_index<0>, std::move(value)) {}         // NOLINT: implicit
  WriteResult(WriteError error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  [[nodiscard]] bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { check(); return std::get<0>(v_); }
  const T& value() const& { check(); return std::get<0>(v_); }
  T&& value() && { check(); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const WriteError& error() const& { return std::get<1>(v_); }
  WriteError&& error() && { return std::get<1>(std::move(v_)); }
  void ignore_error() const {}

 private:
  void check() const {
    if (!ok()) throw std::logic_error("WriteResult::value() on an error: " + std::get<1>(v_).describe());
  }
  std::variant<T, WriteError> v_;
};

template <>
class [[nodiscard]] WriteResult<void> {
 public:
  WriteResult() = default;
  WriteResult(WriteError error) : err_(std::move(error)) {}  // NOLINT
  [[nodiscard]] bool ok() const { return !err_.has_value(); }
  explicit operator bool() const { return ok(); }
  const WriteError& error() const& { return *err_; }
  WriteError&& error() && { return std::move(*err_); }
  void ignore_error() const {}

 private:
  std::optional<WriteError> err_;
};

using WriteStatus = WriteResult<void>;

}  // namespace dynarep::writer
