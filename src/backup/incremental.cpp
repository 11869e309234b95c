#include "backup/incremental.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <unordered_map>

#include "backup/detail/parallel.h"
#include "backup/history.h"
#include "compress/gzip.h"
#include "crypto/sha256.h"
#include "dynamodb/client.h"
#include "dynamodb/parallel.h"
#include "model/codec.h"
#include "stream/lambda_event.h"

namespace dynarep::backup {
namespace {

using std::chrono::system_clock;

bool is_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The attributes of `item` named in `key` (so an item read back can be matched to its key).
model::Item project(const model::Item& item, const model::Item& key) {
  model::Item out;
  for (const auto& [name, value] : key) {
    if (const model::Value* v = item.find(name)) out.set(name, *v);
  }
  return out;
}

struct Action {
  model::Item key;
  std::string key_json;
  std::optional<model::Item> image;  // set: put; unset: delete (after any read)
  bool needs_read = false;
  const ChangeInput* input = nullptr;
  stream::ChangeRecord::Event event = stream::ChangeRecord::Event::kModify;
};

}  // namespace

std::string incremental_object_name(const model::Item& key) {
  return crypto::sha256_hex(model::canonical_key_json(key));
}

Location incremental_table_dir(const Location& dest, const std::string& table) { return child(dest, table); }

std::vector<ChangeInput> inputs_from_kinesis(const std::string& shard, const std::vector<kinesis::Record>& records) {
  std::vector<ChangeInput> out;
  out.reserve(records.size());
  for (const auto& r : records) {
    out.push_back(ChangeInput{shard, r.sequence_number.str(), r.approximate_arrival, stream::parse_change_record(r.data)});
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::vector<ChangeInput>>>> inputs_from_lambda_event(std::string_view json) {
  DR_ASSIGN(std::vector<stream::LambdaRecord> records, stream::parse_lambda_event(json));
  std::vector<std::pair<std::string, std::vector<ChangeInput>>> out;
  for (auto& r : records) {
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.first == r.shard_or_source; });
    if (it == out.end()) {
      out.emplace_back(r.shard_or_source, std::vector<ChangeInput>{});
      it = out.end() - 1;
    }
    it->second.push_back(ChangeInput{r.shard_or_source, r.sequence_number, r.approximate_arrival, std::move(r.record)});
  }
  return out;
}

IncrementalBackup::IncrementalBackup(IncrementalOptions options)
    : opt_(std::move(options)), clock_(opt_.clock != nullptr ? *opt_.clock : SystemClock::instance()) {}

Status IncrementalBackup::apply(const std::vector<ChangeInput>& batch) {
  if (batch.empty()) return {};
  Storage& storage = *opt_.storage;
  const system_clock::time_point now = clock_.now();
  // Last change per key, in batch order; every change kept for the history.
  std::vector<Action> actions;
  std::unordered_map<std::string, size_t> by_key;
  std::vector<HistoryEntry> history;
  std::vector<std::pair<size_t, size_t>> history_action;  // history index -> action index (for reads)
  for (const auto& in : batch) {
    if (!in.change.ok()) {
      ++stats_.skipped;
      if (opt_.warn) {
        opt_.warn(fmt::format("shard {} sequence {}: record skipped: {}", in.shard, in.sequence_number,
                              in.change.error().describe()));
      }
      continue;
    }
    const stream::ChangeRecord& c = *in.change;
    if (!c.table_name.empty() && c.table_name != opt_.table) {
      ++stats_.skipped;
      if (opt_.warn) {
        opt_.warn(fmt::format("shard {} sequence {}: record for table {} skipped (backing up {})", in.shard,
                              in.sequence_number, c.table_name, opt_.table));
      }
      continue;
    }
    Action a;
    a.key = c.keys;
    a.key_json = model::canonical_key_json(c.keys);
    a.input = &in;
    a.event = c.event;
    if (c.event == stream::ChangeRecord::Event::kRemove) {
      a.needs_read = false;
    } else if (c.new_image && !opt_.reread) {
      a.image = *c.new_image;
    } else {
      a.needs_read = true;
    }
    size_t idx;
    if (auto it = by_key.find(a.key_json); it != by_key.end()) {
      idx = it->second;
      actions[idx] = a;
    } else {
      idx = actions.size();
      by_key.emplace(a.key_json, idx);
      actions.push_back(a);
    }
    if (opt_.history) {
      HistoryEntry h;
      if (c.approximate_creation_time) {
        h.time = *c.approximate_creation_time;
        h.time_source = "creation";
      } else if (in.arrival) {
        h.time = *in.arrival;
        h.time_source = "arrival";
      } else {
        h.time = now;
        h.time_source = "processing";
      }
      h.event = c.event;
      h.key = c.keys;
      if (a.image) h.image = a.image;
      h.image_source = a.needs_read ? "read" : "record";
      h.shard = in.shard;
      h.seq = in.sequence_number.empty() ? c.sequence_number : in.sequence_number;
      h.recorded = now;
      history_action.emplace_back(history.size(), idx);
      history.push_back(std::move(h));
    }
  }
  stats_.records += static_cast<int64_t>(batch.size());

  // KEYS_ONLY (and --reread): read the current items, consistently.
  std::vector<model::Item> keys;
  for (const auto& a : actions) {
    if (a.needs_read) keys.push_back(a.key);
  }
  if (!keys.empty()) {
    if (opt_.primary == nullptr) {
      return invalid_input("a KEYS_ONLY record needs the primary table to read the item from (--primary)");
    }
    DR_ASSIGN(dynamodb::BatchGetResult got, opt_.primary->batch_get_all(opt_.table, keys, true));
    std::unordered_map<std::string, model::Item> found;
    for (auto& it : got.items) {
      // Every key of a table has the same attribute names: project onto the first key's.
      found.emplace(model::canonical_key_json(project(it, keys.front())), std::move(it));
    }
    for (auto& a : actions) {
      if (!a.needs_read) continue;
      auto f = found.find(a.key_json);
      if (f != found.end()) a.image = f->second;
    }
  }
  if (opt_.history) {
    // Changes read from the primary record what the read found (the state at `recorded`).
    for (auto [h, ai] : history_action) {
      if (history[h].image_source == "read") history[h].image = actions[ai].image;
    }
    DR_TRY(write_history(storage, opt_.table_dir, history));
    stats_.history_entries += static_cast<int64_t>(history.size());
  }
  Status written = detail::parallel_for(actions.size(), opt_.parallel, [&](size_t i) -> Status {
    const Action& a = actions[i];
    Location obj = child(opt_.table_dir, incremental_object_name(a.key));
    if (a.image) {
      DR_TRY(storage.write_all(obj, model::to_json(*a.image)));
      ++stats_.puts;
    } else {
      DR_TRY(storage.remove(obj));
      ++stats_.deletes;
    }
    return {};
  });
  DR_TRY(written);
  ++stats_.batches;
  return {};
}

Status IncrementalProcessor::process(const lease::ShardBatch& batch) {
  return backup_.apply(inputs_from_kinesis(batch.shard_id, batch.records));
}

Result<int64_t> incremental_backfill(dynamodb::Client& client, const std::string& table, Storage& storage,
                                     const Location& table_dir, int parallel, Progress* progress) {
  DR_ASSIGN(dynamodb::TableDescription desc, client.describe_table(table));
  dynamodb::ParallelScanOptions scan;
  scan.table = table;
  scan.total_segments = std::max(1, parallel);
  scan.parallel = std::max(1, parallel);
  std::atomic<int64_t> written{0};
  auto totals = dynamodb::parallel_scan(client, scan, [&](int, dynamodb::ScanPage& page) -> Status {
    for (const auto& item : page.items) {
      DR_ASSIGN(model::Item key, model::extract_key(item, desc.key_schema));
      DR_TRY(storage.write_all(child(table_dir, incremental_object_name(key)), model::to_json(item)));
      ++written;
      if (progress != nullptr) progress->add(1);
    }
    return {};
  });
  if (!totals.ok()) return totals.error();
  return written.load();
}

Status for_each_incremental_body(Storage& storage, const Location& table_dir, int parallel,
                                 const std::function<Status(const std::string&, std::string_view)>& fn) {
  // Chunks bounded in count and bytes; each is fetched in parallel, then handed over in order.
  constexpr size_t kMaxChunkObjects = 512;
  constexpr uint64_t kMaxChunkBytes = uint64_t{16} << 20;
  std::vector<ListedEntry> chunk;
  uint64_t chunk_bytes = 0;
  auto flush = [&]() -> Status {
    if (chunk.empty()) return {};
    std::vector<std::string> bodies(chunk.size());
    DR_TRY(detail::parallel_for(chunk.size(), parallel, [&](size_t i) -> Status {
      Location obj = child(table_dir, chunk[i].name);
      auto body = storage.read_all(obj, size_t{8} << 20);
      if (!body.ok()) {
        // Deleted between the listing and the read (a REMOVE processed meanwhile): skip it.
        if (body.error().kind == ErrorKind::kNotFound) return {};
        return body.error();
      }
      bodies[i] = std::move(body).value();
      return {};
    }));
    for (size_t i = 0; i < chunk.size(); ++i) {
      if (bodies[i].empty()) continue;
      DR_TRY(fn(chunk[i].name, bodies[i]));
    }
    chunk.clear();
    chunk_bytes = 0;
    return {};
  };
  DR_TRY(storage.for_each(table_dir, false, "", [&](const ListedEntry& e) -> Status {
    if (!is_hex64(e.name)) return {};
    chunk.push_back(e);
    chunk_bytes += e.size;
    if (chunk.size() >= kMaxChunkObjects || chunk_bytes >= kMaxChunkBytes) return flush();
    return {};
  }));
  return flush();
}

Result<SnapshotResult> incremental_snapshot(Storage& storage, const Location& table_dir, const Location& dst,
                                            int parallel, Progress* progress) {
  DR_ASSIGN(std::unique_ptr<ObjectSink> sink, storage.open_sink(dst));
  compress::GzipWriter gz([&](std::string_view b) { return sink->write(b); });
  SnapshotResult r;
  Status st = for_each_incremental_body(storage, table_dir, parallel, [&](const std::string&, std::string_view body) -> Status {
    DR_TRY(gz.write(body));
    if (body.back() != '\n') DR_TRY(gz.write("\n"));
    ++r.items;
    if (progress != nullptr) progress->add(1);
    return {};
  });
  DR_TRY(st);
  DR_TRY(gz.finish());
  DR_ASSIGN(ObjectSink::Done done, sink->finish());
  r.bytes = gz.bytes_in();
  r.gzip_bytes = done.size;
  r.sha256 = done.sha256;
  return r;
}

}  // namespace dynarep::backup
