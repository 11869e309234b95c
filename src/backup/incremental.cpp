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
#include "crypto/random.h"
#include "crypto/sha256.h"
#include "dynamodb/client.h"
#include "dynamodb/parallel.h"
#include "model/codec.h"
#include "stream/lambda_event.h"
#include "stream/plan.h"

namespace dynarep::backup {
namespace {

using std::chrono::system_clock;


// `n` in positional notation, no exponent ("1e+21" -> "1000000000000000000000", "15E-1" ->
// "1.5"), from its normalized text.
std::string positional(const model::Number& n) {
  std::string c = n.canonical();
  auto e = c.find('E');
  if (e == std::string::npos) return c;
  const bool neg = c[0] == '-';
  std::string mant = c.substr(neg ? 1 : 0, e - (neg ? 1 : 0));
  const int exp = std::stoi(c.substr(e + 1));
  std::string digits;
  for (char ch : mant) {
    if (ch != '.') digits += ch;
  }
  // digits = d1 d2 ... ; value = 0.d1d2... * 10^(exp+1)
  const int point = exp + 1;  // digits before the decimal point
  std::string out;
  if (point <= 0) {
    out = "0." + std::string(static_cast<size_t>(-point), '0') + digits;
  } else if (static_cast<size_t>(point) >= digits.size()) {
    out = digits + std::string(static_cast<size_t>(point) - digits.size(), '0');
  } else {
    out = digits.substr(0, static_cast<size_t>(point)) + "." + digits.substr(static_cast<size_t>(point));
  }
  return neg ? "-" + out : out;
}

// The spellings a key's object may have been named with: as a record gave it, and as DynamoDB
// gives it back (numbers normalized). A REMOVE deletes every one of them, so an object named
// from the table ("1.5") goes when a record says "1.50".
std::vector<model::Item> key_spellings(const model::Item& key) {
  std::vector<model::Item> out{key};
  std::vector<std::string> names{model::canonical_key_json(key)};  // by text: == compares values
  for (int form = 0; form < 2; ++form) {
    model::Item k;
    bool changed = false;
    for (const auto& [name, v] : key) {
      if (const model::Number* n = v.try_as_n()) {
        std::string text = form == 0 ? n->canonical() : positional(*n);
        changed = changed || text != n->text();
        k.set(name, model::Value::N(model::Number::from_string(text)));
      } else {
        k.set(name, v);
      }
    }
    std::string text = model::canonical_key_json(k);
    if (changed && std::find(names.begin(), names.end(), text) == names.end()) {
      names.push_back(std::move(text));
      out.push_back(std::move(k));
    }
  }
  return out;
}

}  // namespace

bool is_incremental_object_name(std::string_view s) {
  if (s.size() != 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string incremental_object_name(const model::Item& key) {
  return crypto::sha256_hex(model::canonical_key_json(key));
}

Location incremental_table_dir(const Location& dest, const std::string& table) { return child(dest, table); }

Result<std::vector<std::pair<std::string, std::vector<ChangeInput>>>> inputs_from_lambda_event(std::string_view json) {
  DR_ASSIGN(std::vector<stream::LambdaRecord> records, stream::parse_lambda_event(json));
  std::vector<std::pair<std::string, std::vector<ChangeInput>>> out;
  for (auto& r : records) {
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.first == r.shard_or_source; });
    if (it == out.end()) {
      out.emplace_back(r.shard_or_source, std::vector<ChangeInput>{});
      it = out.end() - 1;
    }
    it->second.push_back(
        ChangeInput{r.shard_or_source, r.sequence_number, r.partition_key, r.approximate_arrival, {}, std::move(r.record)});
  }
  return out;
}

IncrementalBackup::IncrementalBackup(IncrementalOptions options)
    : opt_(std::move(options)), clock_(opt_.clock != nullptr ? *opt_.clock : SystemClock::instance()) {}

Status IncrementalBackup::apply(const std::vector<ChangeInput>& batch, const lease::ShardBatch* lease) {
  if (batch.empty()) return {};
  if (opt_.key_schema.hash_name.empty()) {
    return invalid_input(fmt::format("incremental backup of {}: no key schema given", opt_.table));
  }
  Storage& storage = *opt_.storage;
  const system_clock::time_point now = clock_.now();
  // The replicator's plan (stream/plan.h): keys validated against the table and grouped by
  // value, KEYS_ONLY and Kinesis-for-DynamoDB records read from the primary, REMOVE included.
  stream::PlanOptions po;
  po.reread = opt_.reread;
  po.have_primary = opt_.primary != nullptr;
  stream::Plan plan = stream::plan_batch(batch, opt_.key_schema, po);

  // A record for another table on a shared stream is not ours: skipped, not rejected.
  std::vector<bool> other_table(batch.size(), false);
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto& c = batch[i].change;
    other_table[i] = c.ok() && !c->table_name.empty() && c->table_name != opt_.table;
  }
  std::vector<RejectedRecord> rejected;
  for (const auto& r : plan.rejected) {
    if (other_table[r.input]) continue;
    rejected.push_back(RejectedRecord{&batch[r.input], r.reason});
  }
  std::vector<stream::KeyAction> actions;
  for (auto& a : plan.actions) {
    bool ours = false;
    for (size_t i : a.inputs) ours = ours || !other_table[i];
    if (ours) actions.push_back(std::move(a));
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    if (other_table[i] && opt_.warn) {
      opt_.warn(fmt::format("shard {} sequence {}: record for table {} skipped (backing up {})", batch[i].shard,
                            batch[i].sequence_number, batch[i].change->table_name, opt_.table));
    }
  }
  stats_.skipped += static_cast<int64_t>(std::count(other_table.begin(), other_table.end(), true));

  // Reads: consistent BatchGetItem of the keys the plan says to read; found -> put, gone -> delete.
  std::vector<model::Item> keys;
  std::vector<size_t> reads;
  for (size_t a = 0; a < actions.size(); ++a) {
    if (actions[a].kind == stream::KeyAction::Kind::kRead) {
      keys.push_back(actions[a].key);
      reads.push_back(a);
    }
  }
  if (!keys.empty()) {
    DR_ASSIGN(dynamodb::BatchGetResult got, opt_.primary->batch_get_all(opt_.table, keys, true));
    // Matched on the key's value as the table's schema reads it (canonical bytes), so a record
    // key written "1.50" or "1e+21" finds the item read back as "1.5" / "1000000000000000000000".
    std::unordered_map<std::string, model::Item> found;
    for (auto& item : got.items) {
      auto k = model::extract_key(item, opt_.key_schema);
      if (k.ok()) found.emplace(model::canonical_bytes(*k), std::move(item));
    }
    for (size_t a : reads) {
      auto f = found.find(model::canonical_bytes(actions[a].key));
      if (f != found.end()) {
        actions[a].kind = stream::KeyAction::Kind::kPut;
        actions[a].image = std::move(f->second);
      } else {
        actions[a].kind = stream::KeyAction::Kind::kDelete;
      }
    }
  }
  std::vector<bool> was_read(actions.size(), false);
  for (size_t a : reads) was_read[a] = true;

  if (opt_.history) {
    // Every change, in order; a change read from the primary records what the read found (the
    // state at `recorded`): a KEYS_ONLY REMOVE whose item is back is recorded as present.
    std::vector<long> action_of(batch.size(), -1);
    for (size_t a = 0; a < actions.size(); ++a) {
      for (size_t i : actions[a].inputs) action_of[i] = static_cast<long>(a);
    }
    std::vector<HistoryEntry> history;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (action_of[i] < 0) continue;
      const size_t a = static_cast<size_t>(action_of[i]);
      {
        const ChangeInput& in = batch[i];
        const stream::ChangeRecord& c = *in.change;
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
        h.key = actions[a].key;
        // A record that carries the item's state after the change (NewImage, or a REMOVE of an
        // image stream) is its own history, at its own time, even when the object is written
        // from a read (late and duplicated Kinesis-for-DynamoDB records: restore orders the
        // history by time). KEYS_ONLY and OLD_IMAGE records record what the read found.
        const bool keys_only = c.source == stream::kSourceKinesisKeysOnly || c.stream_view_type == "KEYS_ONLY" ||
                               c.stream_view_type == "OLD_IMAGE";
        const bool carries_state =
            !keys_only && (c.event == stream::ChangeRecord::Event::kRemove || c.new_image.has_value());
        if (was_read[a] && (opt_.reread || !carries_state)) {
          h.image = actions[a].image;
          h.image_source = "read";
        } else {
          if (c.event != stream::ChangeRecord::Event::kRemove && c.new_image) h.image = *c.new_image;
          h.image_source = "record";
        }
        h.shard = in.shard;
        h.seq = in.sequence_number.empty() ? c.sequence_number : in.sequence_number;
        h.recorded = now;
        history.push_back(std::move(h));
      }
    }
    DR_TRY(write_history(storage, opt_.table_dir, history,
                         [&](const Location& obj, std::string body) { return put_fenced(obj, body, lease); }));
    stats_.history_entries += static_cast<int64_t>(history.size());
  }

  if (!rejected.empty()) {
    stats_.skipped += static_cast<int64_t>(rejected.size());
    if (opt_.warn) {
      for (const auto& r : rejected) {
        opt_.warn(fmt::format("shard {} sequence {}: record skipped: {}", r.input->shard, r.input->sequence_number,
                              r.reason));
      }
    }
    if (opt_.dead_letter) DR_TRY(opt_.dead_letter(rejected));
  }

  Status written = detail::parallel_for(actions.size(), opt_.parallel, [&](size_t i) -> Status {
    stream::KeyAction& a = actions[i];
    std::optional<model::Item> image;
    if (a.kind == stream::KeyAction::Kind::kPut) image = std::move(a.image);
    return write_key(a.key, std::move(image), was_read[i], lease);
  });
  DR_TRY(written);
  stats_.records += static_cast<int64_t>(batch.size());
  ++stats_.batches;
  return {};
}

namespace {

// A worker paused or slowed past its lease must not overwrite the shard's next owner: no write
// starts past the lease's write deadline (LeaseLost), and the returned call options stop the AWS
// layer's retries there too (a resent attempt is a write started anew). The deadline is asked
// once, so the check and the limit agree.
Result<aws::CallOptions> lease_call(const lease::ShardBatch* lease, Clock& clock) {
  aws::CallOptions o;
  if (lease == nullptr) return o;
  o.cancel = lease->abandoned;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (lease->write_deadline) {
    deadline = lease->write_deadline();
    o.deadline = deadline;
  }
  const bool abandoned = lease->abandoned != nullptr && lease->abandoned->load();
  if (abandoned || (lease->write_deadline && (!deadline || clock.steady_now() >= *deadline))) {
    return Error(ErrorKind::kCancelled, "LeaseLost",
                 fmt::format("shard {}: the lease's write deadline passed; the batch is left to the next owner",
                             lease->shard_id.str()));
  }
  return o;
}

// The object changed between our look (HEAD) and our conditional write: 412 PreconditionFailed,
// 409 ConditionalRequestConflict (a concurrent conditional write), or 404 for If-Match on an
// object deleted meanwhile. Also a resent attempt of ours that the first attempt had applied.
bool lost_race(const Error& e) {
  return e.kind == ErrorKind::kConditionFailed || e.kind == ErrorKind::kUnknownOutcome ||
         (e.kind == ErrorKind::kNotFound && e.code != "NoSuchBucket");
}

// How often one object is looked at and written again after a refused conditional write before
// the batch fails (and is retried): each refusal means another writer got in between.
constexpr int kFenceRounds = 8;

}  // namespace

Result<bool> IncrementalBackup::try_put(const Location& obj, const std::string& body, const lease::ShardBatch* lease) {
  Storage& storage = *opt_.storage;
  if (opt_.fence != IncrementalOptions::Fence::kConditional) {
    DR_ASSIGN(aws::CallOptions call, lease_call(lease, clock_));
    if (obj.kind != Location::Kind::kS3) DR_TRY(storage.write_all(obj, body));
    if (obj.kind == Location::Kind::kS3) DR_TRY(storage.write_all(obj, body, WriteCondition{}, call));
    return true;
  }
  // Look first, then check the lease, then write on condition of what we saw: the look happened
  // before the deadline, so before any takeover, and whatever the next owner writes changes the
  // ETag we name: our write, however late it lands, is refused.
  DR_ASSIGN(std::optional<std::string> etag, storage.etag(obj));
  DR_ASSIGN(aws::CallOptions call, lease_call(lease, clock_));
  WriteCondition cond;
  if (etag) {
    cond.if_match = *etag;
  } else {
    cond.if_absent = true;
  }
  Status st = storage.write_all(obj, body, cond, call);
  if (st.ok()) return true;
  if (lost_race(st.error())) {
    ++stats_.fenced_writes_refused;
    return false;
  }
  return st.error();
}

Result<bool> IncrementalBackup::try_remove(const Location& obj, const lease::ShardBatch* lease) {
  Storage& storage = *opt_.storage;
  if (opt_.fence != IncrementalOptions::Fence::kConditional) {
    DR_ASSIGN(aws::CallOptions call, lease_call(lease, clock_));
    if (obj.kind != Location::Kind::kS3) DR_TRY(storage.remove(obj));
    if (obj.kind == Location::Kind::kS3) DR_TRY(storage.remove(obj, "", call));
    return true;
  }
  DR_ASSIGN(std::optional<std::string> etag, storage.etag(obj));
  if (!etag) return true;  // nothing to delete (and nothing a delete could fence: docs/backup.md)
  DR_ASSIGN(aws::CallOptions call, lease_call(lease, clock_));
  Status st = storage.remove(obj, opt_.conditional_delete ? *etag : std::string(), call);
  if (st.ok()) return true;
  if (lost_race(st.error())) {
    ++stats_.fenced_writes_refused;
    return false;
  }
  return st.error();
}

Status IncrementalBackup::put_fenced(const Location& obj, const std::string& body, const lease::ShardBatch* lease) {
  for (int round = 0; round < kFenceRounds; ++round) {
    DR_ASSIGN(bool done, try_put(obj, body, lease));
    if (done) return {};
  }
  return Error(ErrorKind::kTransient, "FenceContention",
               fmt::format("{}: changed by another writer at each of {} conditional writes", display(obj), kFenceRounds));
}

Status IncrementalBackup::write_key(const model::Item& key, std::optional<model::Item> image, bool reread,
                                   const lease::ShardBatch* lease) {
  for (int round = 0; round < kFenceRounds; ++round) {
    bool done = true;
    if (image) {
      // Named by the image's own key (DynamoDB's spelling, as backfill names objects), not the
      // record's: a record key "1.50" must land on the object of the item read back as "1.5".
      auto image_key = model::extract_key(*image, opt_.key_schema);
      const model::Item& name_key = image_key.ok() ? *image_key : key;
      DR_ASSIGN(done, try_put(child(opt_.table_dir, incremental_object_name(name_key)), model::to_json(*image), lease));
      if (done) ++stats_.puts;
    } else {
      for (const auto& k : key_spellings(key)) {
        DR_ASSIGN(done, try_remove(child(opt_.table_dir, incremental_object_name(k)), lease));
        if (!done) break;
      }
      if (done) ++stats_.deletes;
    }
    if (done) return {};
    // Refused: another writer changed the object since we looked. When we still hold the lease
    // (a stale worker's late write, or our own resent attempt), the item's state now is what the
    // object must hold: read it again when the plan read it; an image record's image is still the
    // newest this shard has given.
    DR_TRY(lease_call(lease, clock_));
    if (reread && opt_.primary != nullptr) {
      DR_ASSIGN(image, opt_.primary->get_item(opt_.table, key, true));
    }
  }
  return Error(ErrorKind::kTransient, "FenceContention",
               fmt::format("table {} key {}: its object changed under each of {} conditional writes", opt_.table,
                           model::canonical_key_json(key), kFenceRounds));
}

Result<ConditionalWrites> probe_conditional_writes(Storage& storage, const Location& table_dir) {
  ConditionalWrites out;
  if (table_dir.kind != Location::Kind::kS3) return out;
  const Location probe = child(table_dir, "fence-probe-" + crypto::random_hex(8));
  // Unconditional first, so that a resent attempt cannot fail its own condition.
  DR_TRY(storage.write_all(probe, "probe", WriteCondition{}, {}));
  WriteCondition absent;
  absent.if_absent = true;
  Status again = storage.write_all(probe, "probe", absent, {});
  if (!again.ok() && again.error().kind != ErrorKind::kConditionFailed) return again.error();
  out.put = !again.ok();
  Status del = storage.remove(probe, "00000000000000000000000000000000", {});
  if (!del.ok() && del.error().kind != ErrorKind::kConditionFailed) return del.error();
  out.remove = !del.ok();
  DR_TRY(storage.remove(probe));
  return out;
}

Result<std::string> choose_fence(std::string_view mode, IncrementalOptions& opt) {
  opt.fence = IncrementalOptions::Fence::kDeadline;
  opt.conditional_delete = false;
  if (mode == "deadline") return std::string("write deadline only (--fence deadline)");
  if (mode != "auto" && mode != "conditional") {
    return invalid_input(fmt::format("--fence {}: expected auto, conditional or deadline", mode));
  }
  if (opt.table_dir.kind != Location::Kind::kS3) {
    if (mode == "conditional") {
      return invalid_input(fmt::format("--fence conditional needs S3, not {}", display(opt.table_dir)));
    }
    return std::string("write deadline only (not S3)");
  }
  DR_ASSIGN(ConditionalWrites can, probe_conditional_writes(*opt.storage, opt.table_dir));
  if (!can.put) {
    if (mode == "conditional") {
      return invalid_input(fmt::format("--fence conditional: the S3 server of {} ignores If-None-Match on PutObject",
                                       display(opt.table_dir)));
    }
    return std::string("write deadline only (the S3 server ignores conditional writes)");
  }
  opt.fence = IncrementalOptions::Fence::kConditional;
  opt.conditional_delete = can.remove;
  return std::string(can.remove ? "conditional S3 writes (PutObject and DeleteObject If-Match)"
                                : "conditional S3 writes (PutObject; DeleteObject unconditional: the server "
                                  "ignores If-Match on it)");
}

Status IncrementalProcessor::process(const lease::ShardBatch& batch) {
  return backup_.apply(inputs_from_kinesis(batch.shard_id, batch.records), &batch);
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
    if (!is_incremental_object_name(e.name)) return {};
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
