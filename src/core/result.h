// Result<T>: a value or an Error. [[nodiscard]] so an ignored failure is a compile warning;
// ignoring one on purpose is spelled `.ignore_error()` so it can be searched for.
#pragma once

#include <cassert>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

#include "core/error.h"

namespace dynarep {

// BasicResult<T, E>: a value or an E (anything with describe()). Result<T> is the usual form;
// the writer's WriteResult carries a richer error (what was written, what was not published).
template <class T, class E>
class [[nodiscard]] BasicResult {
 public:
  using value_type = T;
  BasicResult(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  BasicResult(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  [[nodiscard]] bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { check(); return std::get<0>(v_); }
  const T& value() const& { check(); return std::get<0>(v_); }
  T&& value() && { check(); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const E& error() const& { return std::get<1>(v_); }
  E&& error() && { return std::get<1>(std::move(v_)); }
  void ignore_error() const {}

 private:
  void check() const {
    if (!ok()) throw std::logic_error("Result::value() on an error: " + std::get<1>(v_).describe());
  }
  std::variant<T, E> v_;
};

template <class E>
class [[nodiscard]] BasicResult<void, E> {
 public:
  BasicResult() = default;
  BasicResult(E error) : err_(std::move(error)) {}  // NOLINT

  [[nodiscard]] bool ok() const { return !err_.has_value(); }
  explicit operator bool() const { return ok(); }
  const E& error() const& { return *err_; }
  E&& error() && { return std::move(*err_); }
  void ignore_error() const {}

 private:
  std::optional<E> err_;
};

template <class T>
using Result = BasicResult<T, Error>;

using Status = Result<void>;

}  // namespace dynarep

#define DR_CONCAT_INNER(a, b) a##b
#define DR_CONCAT(a, b) DR_CONCAT_INNER(a, b)

// DR_TRY(status_expr): return the error of a failed Status/Result from the enclosing function.
#define DR_TRY(expr)                                       \
  do {                                                     \
    auto&& dr_try_r_ = (expr);                             \
    if (!dr_try_r_.ok()) return std::move(dr_try_r_).error(); \
  } while (0)

// DR_ASSIGN(lhs, result_expr): `lhs = value` or return the error.
#define DR_ASSIGN_IMPL(tmp, lhs, expr)          \
  auto tmp = (expr);                            \
  if (!tmp.ok()) return std::move(tmp).error(); \
  lhs = std::move(tmp).value()
#define DR_ASSIGN(lhs, expr) DR_ASSIGN_IMPL(DR_CONCAT(dr_assign_r_, __LINE__), lhs, expr)
