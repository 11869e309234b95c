// The change history of an incremental backup (`incremental-backup --history`), the second half
// of point-in-time restore. A stable, versioned contract (docs/backup.md "History log"):
//
//   <prefix>/<table>/history/YYYY/MM/DD/HH/<shard>-<first sequence number>.jsonl.gz
//
// One object per processed batch and hour (UTC) of its entries' times, written before the
// batch is checkpointed: every entry in an object has a time inside the object's hour, so a
// time range is read by listing only its hours. gzip of JSON lines, one per change:
//
//   {"v":1,"time":"2024-05-01T12:00:00.123Z","time_us":1714564800123000,"time_source":"arrival",
//    "event":"MODIFY","key":{...},"image":{...},"image_source":"read",
//    "shard":"shardId-000000000000","seq":"4960...","recorded":"2024-05-01T12:00:01.020Z"}
//
// time: when the change was made: the record's ApproximateCreationDateTime ("creation"), else
// its Kinesis arrival time ("arrival"), else when the backup processed it ("processing").
// image: the item after the change, or null when the item is absent (REMOVE, or a KEYS_ONLY
// record whose item was gone when read). image_source "record" (the record carried NewImage)
// or "read" (read from the primary, consistently, at `recorded`). The same batch processed
// twice writes the same object names again (at-least-once delivery is harmless).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backup/storage.h"
#include "core/result.h"
#include "model/item.h"
#include "stream/record.h"

namespace dynarep::backup {

inline constexpr int kHistoryVersion = 1;
inline constexpr std::string_view kHistoryDir = "history";

struct HistoryEntry {
  std::chrono::system_clock::time_point time{};
  std::string time_source = "arrival";  // "creation", "arrival", "processing"
  stream::ChangeRecord::Event event = stream::ChangeRecord::Event::kModify;
  model::Item key;
  std::optional<model::Item> image;     // none: the item is absent after this change
  std::string image_source = "record";  // "record" or "read"
  std::string shard;
  std::string seq;
  std::chrono::system_clock::time_point recorded{};
};

// "history/2024/05/01/12/<shard>-<seq>.jsonl.gz"; characters of the shard id outside
// [A-Za-z0-9._-] (an event source ARN's ':' and '/') become '_'.
std::string history_object_name(std::chrono::system_clock::time_point t, std::string_view shard,
                                 std::string_view first_seq);
// "history/2024/05/01/12/": the hour partition of t.
std::string history_hour_prefix(std::chrono::system_clock::time_point t);

std::string to_json_line(const HistoryEntry& entry);  // without the newline
Result<HistoryEntry> parse_history_line(std::string_view line);

// Orders entries as they happened: time, then shard, then sequence number (as a big integer).
bool history_before(const HistoryEntry& a, const HistoryEntry& b);

// Writes a batch's entries under `table_dir`, one object per hour of their times, with `put`
// (default: storage.write_all). The names are not write-once: a batch processed again (by the
// shard's next owner, from the same checkpoint) rewrites them, possibly with more entries, so
// the incremental backup passes its fenced write, lest a stale worker's late, shorter object
// replace the new owner's (docs/backup.md, "Fence").
Status write_history(Storage& storage, const Location& table_dir, const std::vector<HistoryEntry>& entries,
                     const std::function<Status(const Location&, std::string)>& put = {});

// Calls fn (from one thread) for every entry with from < time <= to, reading only the hour
// partitions that can hold such entries, `parallel` objects at once.
Status read_history(Storage& storage, const Location& table_dir, std::chrono::system_clock::time_point from,
                    std::chrono::system_clock::time_point to, int parallel,
                    const std::function<Status(HistoryEntry&&)>& fn);

// How far the history reaches: the time of its newest entry (nullopt when it holds none). The
// incremental backup writes a batch's entries before it checkpoints, so every change up to that
// time that the stream delivered in order is in the history; a lagging incremental backup
// shows as a reach behind the present. Only the newest hour partition from `from`'s hour on
// is read (from nullopt: the whole history is listed).
Result<std::optional<std::chrono::system_clock::time_point>> history_reach(
    Storage& storage, const Location& table_dir, std::optional<std::chrono::system_clock::time_point> from,
    int parallel);

}  // namespace dynarep::backup
