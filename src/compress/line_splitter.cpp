#include "compress/line_splitter.h"

#include <cstring>

#include <fmt/format.h>

namespace dynarep::compress {

LineSplitter::LineSplitter(LineSplitterOptions options) : options_(options) {}

Status LineSplitter::too_long(std::size_t length) {
  failed_ = true;
  error_ = invalid_input(fmt::format("line {} is longer than {} bytes (at least {} bytes)", lines_ + 1,
                                     options_.max_line_bytes, length));
  return error_;
}

Status LineSplitter::emit(std::string_view line, const LineFn& on_line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > options_.max_line_bytes) return too_long(line.size());
  ++lines_;
  Status st = on_line(line, lines_);
  if (!st.ok()) {
    failed_ = true;
    error_ = std::move(st).error();
    return error_;
  }
  return {};
}

Status LineSplitter::feed(std::string_view chunk, const LineFn& on_line) {
  if (failed_) return error_;
  if (finished_) return fatal("line splitter: feed after finish");
  bytes_ += chunk.size();
  while (!chunk.empty()) {
    const void* nl = std::memchr(chunk.data(), '\n', chunk.size());
    if (nl == nullptr) {
      // No end of line in this chunk: keep it, unless the line is already too long. One byte
      // of slack for a "\r" that may turn out to be part of the terminator.
      if (carry_.size() + chunk.size() > options_.max_line_bytes + 1) {
        return too_long(carry_.size() + chunk.size());
      }
      carry_.append(chunk);
      return {};
    }
    std::size_t n = static_cast<std::size_t>(static_cast<const char*>(nl) - chunk.data());
    if (carry_.empty()) {
      DR_TRY(emit(chunk.substr(0, n), on_line));
    } else {
      if (carry_.size() + n > options_.max_line_bytes + 1) return too_long(carry_.size() + n);
      carry_.append(chunk.substr(0, n));
      DR_TRY(emit(carry_, on_line));
      carry_.clear();
    }
    chunk.remove_prefix(n + 1);
  }
  return {};
}

Status LineSplitter::finish(const LineFn& on_line) {
  if (failed_) return error_;
  if (finished_) return {};
  finished_ = true;
  if (carry_.empty()) return {};
  std::string last = std::move(carry_);
  carry_.clear();
  if (last.size() > options_.max_line_bytes) return too_long(last.size());
  ++lines_;
  Status st = on_line(last, lines_);
  if (!st.ok()) {
    failed_ = true;
    error_ = std::move(st).error();
    return error_;
  }
  return {};
}

}  // namespace dynarep::compress
