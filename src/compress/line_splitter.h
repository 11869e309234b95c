// Splits a byte stream (decompressed backup data, a file, stdin) into lines of the line format
// (docs/formats.md §1: one item per line, '\n'-terminated).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace dynarep::compress {

struct LineSplitterOptions {
  // Longest accepted line in bytes, without its "\r\n"/"\n". Default 8 MiB: an item is at most
  // 400 KB as DynamoDB counts it, but its wire JSON can be several times longer (base64 grows
  // binary by 4/3; JSON escapes a control character as 6 bytes), and a dyno export's first line
  // is a table description. Anything longer is not a line of ours (a binary file, a missing
  // newline) and holding it would only exhaust memory.
  std::size_t max_line_bytes = std::size_t{8} << 20;
};

class LineSplitter {
 public:
  // Called once per line, without its terminator ("\n" or "\r\n"); line numbers start at 1.
  // The view is valid only during the call. An error stops the splitter and is returned.
  using LineFn = std::function<Status(std::string_view line, std::uint64_t line_number)>;

  explicit LineSplitter(LineSplitterOptions options = {});

  // Feeds the next chunk. Lines wholly inside `chunk` are passed without copying; a line split
  // across chunks is assembled. Errors: "line N is longer than M bytes" (kInvalidInput), or
  // what `on_line` returned.
  Status feed(std::string_view chunk, const LineFn& on_line);
  // Passes a final line that had no terminating "\n" (a trailing "\r" is kept: without the
  // "\n" it is data, not a terminator).
  Status finish(const LineFn& on_line);

  std::uint64_t lines() const { return lines_; }        // lines passed so far
  std::uint64_t bytes() const { return bytes_; }        // bytes fed so far
  bool has_partial_line() const { return !carry_.empty(); }

 private:
  Status emit(std::string_view line, const LineFn& on_line);
  Status too_long(std::size_t length);

  LineSplitterOptions options_;
  std::string carry_;  // the start of a line whose end has not been fed yet
  std::uint64_t lines_ = 0;
  std::uint64_t bytes_ = 0;
  bool finished_ = false;
  bool failed_ = false;
  Error error_;
};

}  // namespace dynarep::compress
