#include "core/log.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <memory>

#include "core/json_writer.h"

namespace dynarep {
namespace {

// The word after `label` ("shard shardId-1:" -> "shardId-1"), trimmed of trailing punctuation.
std::string word_after(std::string_view text, std::string_view label) {
  for (size_t at = text.find(label); at != std::string_view::npos; at = text.find(label, at + 1)) {
    if (at > 0 && std::isalnum(static_cast<unsigned char>(text[at - 1]))) continue;  // "reshard "
    size_t b = at + label.size();
    size_t e = b;
    while (e < text.size() && text[e] != ' ' && text[e] != ',' && text[e] != ';' && text[e] != ')') ++e;
    while (e > b && (text[e - 1] == ':' || text[e - 1] == '.')) --e;
    if (e > b) return std::string(text.substr(b, e - b));
  }
  return {};
}

// A balanced {...} after "key ".
std::string key_after(std::string_view text) {
  for (size_t at = text.find("key {"); at != std::string_view::npos; at = text.find("key {", at + 1)) {
    size_t b = at + 4;
    int depth = 0;
    bool in_string = false;
    for (size_t i = b; i < text.size(); ++i) {
      char c = text[i];
      if (in_string) {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          in_string = false;
        }
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{') {
        ++depth;
      } else if (c == '}' && --depth == 0) {
        return std::string(text.substr(b, i + 1 - b));
      }
    }
  }
  return {};
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto level = spdlog::level::to_string_view(msg.level);
    std::string line = json_log_line(msg.time, std::string_view(level.data(), level.size()),
                                     std::string_view(msg.payload.data(), msg.payload.size()));
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

std::string json_log_line(std::chrono::system_clock::time_point time, std::string_view level, std::string_view message) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  std::string t = fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z",
                              std::chrono::time_point_cast<std::chrono::seconds>(time), ((ms % 1000) + 1000) % 1000);
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("time", t).field("level", level).field("message", message);
  std::string shard = word_after(message, "shard ");
  if (shard.empty()) {
    // "lease shardId-000000000001 taken by ...": a lease is named by its shard id.
    if (auto l = word_after(message, "lease "); l.rfind("shardId-", 0) == 0) shard = l;
  }
  if (!shard.empty()) w.field("shard", shard);
  auto seq = word_after(message, "sequence number ");
  if (seq.empty()) seq = word_after(message, "seq ");
  if (!seq.empty()) w.field("sequence", seq);
  if (auto s = word_after(message, "table "); !s.empty()) w.field("table", s);
  if (auto k = key_after(message); !k.empty()) w.field("key", k);
  w.end_object();
  return out;
}

void configure_logging(LogFormat format, bool verbose) {
  // _mt: the daemon logs from its consumer threads at once.
  auto logger = spdlog::get("dynarep");
  if (!logger) logger = spdlog::stderr_logger_mt("dynarep");
  spdlog::set_default_logger(logger);
  if (format == LogFormat::kJson) {
    spdlog::set_formatter(std::make_unique<JsonFormatter>());
  } else {
    spdlog::set_formatter(std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v"));
  }
  spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info);
}

}  // namespace dynarep
