#include "backup/history.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <ctime>
#include <map>
#include <mutex>

#include "backup/detail/parallel.h"
#include "backup/manifest.h"
#include "backup/reader.h"
#include "compress/gzip.h"
#include "core/json_writer.h"
#include "kinesis/types.h"
#include "model/codec.h"

namespace dynarep::backup {
namespace {

using std::chrono::system_clock;

std::tm utc(system_clock::time_point t) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}

int64_t micros(system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

std::string hour_dir(system_clock::time_point t) {
  std::tm tm = utc(t);
  return fmt::format("{:04}/{:02}/{:02}/{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour);
}

std::string safe(std::string_view s) {
  std::string out;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    out += ok ? c : '_';
  }
  return out.empty() ? "none" : out;
}

}  // namespace

std::string history_hour_prefix(system_clock::time_point t) {
  return std::string(kHistoryDir) + "/" + hour_dir(t) + "/";
}

std::string history_object_name(system_clock::time_point t, std::string_view shard, std::string_view first_seq) {
  return history_hour_prefix(t) + safe(shard) + "-" + safe(first_seq) + ".jsonl.gz";
}

std::string to_json_line(const HistoryEntry& e) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.field("v", kHistoryVersion);
  w.field("time", format_time(e.time));
  w.field("time_us", micros(e.time));
  w.field("time_source", e.time_source);
  w.field("event", stream::to_string(e.event));
  w.key("key").raw(model::canonical_key_json(e.key));
  w.key("image");
  if (e.image) {
    w.raw(model::to_json(*e.image));
  } else {
    w.raw("null");
  }
  w.field("image_source", e.image_source);
  w.field("shard", e.shard);
  w.field("seq", e.seq);
  w.field("recorded", format_time(e.recorded));
  w.end_object();
  return out;
}

Result<HistoryEntry> parse_history_line(std::string_view line) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(line.data(), line.size()).get(doc)) {
    return invalid_input(fmt::format("history entry is not JSON: {}", simdjson::error_message(err)));
  }
  HistoryEntry e;
  int64_t v = 0;
  if (doc["v"].get_int64().get(v)) return invalid_input("history entry has no version \"v\"");
  if (v < 1 || v > kHistoryVersion) {
    return invalid_input(fmt::format("history entry version {} is not supported (this dynarep reads up to {})", v,
                                     kHistoryVersion));
  }
  int64_t us = 0;
  if (doc["time_us"].get_int64().get(us)) return invalid_input("history entry has no \"time_us\"");
  e.time = system_clock::time_point(std::chrono::microseconds(us));
  std::string_view s;
  if (!doc["time_source"].get_string().get(s)) e.time_source = std::string(s);
  if (doc["event"].get_string().get(s)) return invalid_input("history entry has no \"event\"");
  auto ev = stream::parse_event_name(s);
  if (!ev) return invalid_input(fmt::format("history entry has an unknown event \"{}\"", s));
  e.event = *ev;
  simdjson::dom::element k;
  if (doc["key"].get(k)) return invalid_input("history entry has no \"key\"");
  DR_ASSIGN(e.key, model::parse_item(k));
  simdjson::dom::element img;
  if (!doc["image"].get(img) && !img.is_null()) {
    DR_ASSIGN(model::Item item, model::parse_item(img));
    e.image = std::move(item);
  }
  if (!doc["image_source"].get_string().get(s)) e.image_source = std::string(s);
  if (!doc["shard"].get_string().get(s)) e.shard = std::string(s);
  if (!doc["seq"].get_string().get(s)) e.seq = std::string(s);
  if (!doc["recorded"].get_string().get(s)) {
    if (auto t = parse_time(s); t.ok()) e.recorded = *t;
  }
  return e;
}

bool history_before(const HistoryEntry& a, const HistoryEntry& b) {
  if (a.time != b.time) return a.time < b.time;
  if (a.shard != b.shard) return a.shard < b.shard;
  return kinesis::SequenceNumber(a.seq) < kinesis::SequenceNumber(b.seq);
}

Status write_history(Storage& storage, const Location& table_dir, const std::vector<HistoryEntry>& entries,
                     const std::function<Status(const Location&, std::string)>& put) {
  // Group by hour, keeping batch order inside each group.
  std::map<std::string, std::vector<const HistoryEntry*>> by_hour;
  for (const auto& e : entries) by_hour[hour_dir(e.time)].push_back(&e);
  for (const auto& [hour, group] : by_hour) {
    std::string body;
    for (const HistoryEntry* e : group) {
      body += to_json_line(*e);
      body += '\n';
    }
    DR_ASSIGN(std::string gz, compress::gzip(body));
    const HistoryEntry& first = *group.front();
    Location obj = child(table_dir, history_object_name(first.time, first.shard, first.seq));
    DR_TRY(put ? put(obj, std::move(gz)) : storage.write_all(obj, std::move(gz)));
  }
  return {};
}

Result<std::optional<system_clock::time_point>> history_reach(Storage& storage, const Location& table_dir,
                                                              std::optional<system_clock::time_point> from,
                                                              int parallel) {
  Location dir = child(table_dir, kHistoryDir);
  std::string newest_hour;
  std::vector<std::string> names;  // the objects of newest_hour
  Status listed = storage.for_each(dir, true, from ? hour_dir(*from) : std::string(), [&](const ListedEntry& e) -> Status {
    if (e.name.size() < 14) return {};
    std::string hour = e.name.substr(0, 13);  // "YYYY/MM/DD/HH"
    if (hour > newest_hour) {
      newest_hour = std::move(hour);
      names.clear();
    }
    if (e.name.compare(0, 13, newest_hour) == 0) names.push_back(e.name);
    return {};
  });
  if (!listed.ok() && listed.error().kind != ErrorKind::kNotFound) return listed.error();
  std::optional<system_clock::time_point> reach;
  std::mutex mu;
  DR_TRY(detail::parallel_for(names.size(), parallel, [&](size_t i) -> Status {
    Location obj = child(dir, names[i]);
    auto st = read_lines(storage, obj, [&](std::string_view line, uint64_t n) -> Status {
      auto e = parse_history_line(line);
      if (!e.ok()) return std::move(e).error().with_context(fmt::format("{} line {}", display(obj), n));
      std::lock_guard lock(mu);
      if (!reach || e->time > *reach) reach = e->time;
      return {};
    });
    if (!st.ok()) return st.error();
    return {};
  }));
  return reach;
}

Status read_history(Storage& storage, const Location& table_dir, system_clock::time_point from,
                    system_clock::time_point to, int parallel, const std::function<Status(HistoryEntry&&)>& fn) {
  Location dir = child(table_dir, kHistoryDir);
  const std::string lo = hour_dir(from), hi = hour_dir(to);
  std::vector<std::string> names;
  Status listed = storage.for_each(dir, true, lo, [&](const ListedEntry& e) -> Status {
    if (e.name.size() < 14) return {};
    std::string hour = e.name.substr(0, 13);  // "YYYY/MM/DD/HH"
    if (hour < lo) return {};
    if (hour > hi) {
      // S3 lists in key order: nothing after this is in range.
      if (dir.kind == Location::Kind::kS3) return Error(ErrorKind::kCancelled, "Stop", "past the range");
      return {};
    }
    names.push_back(e.name);
    return {};
  });
  if (!listed.ok() && listed.error().code != "Stop") return listed.error();
  std::mutex mu;
  return detail::parallel_for(names.size(), parallel, [&](size_t i) -> Status {
    Location obj = child(dir, names[i]);
    std::vector<HistoryEntry> got;
    auto st = read_lines(storage, obj, [&](std::string_view line, uint64_t n) -> Status {
      auto e = parse_history_line(line);
      if (!e.ok()) return std::move(e).error().with_context(fmt::format("{} line {}", display(obj), n));
      if (e->time > from && e->time <= to) got.push_back(std::move(e).value());
      return {};
    });
    if (!st.ok()) return st.error();
    std::lock_guard lock(mu);
    for (auto& e : got) DR_TRY(fn(std::move(e)));
    return {};
  });
}

}  // namespace dynarep::backup
