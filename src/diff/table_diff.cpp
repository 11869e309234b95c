#include "diff/table_diff.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "core/progress.h"
#include "diff/detail/fingerprint.h"
#include "diff/detail/spill.h"
#include "dynamodb/parallel.h"
#include "model/codec.h"

namespace dynarep::diff {

using detail::Hash128;
using detail::Hash128Hasher;
using detail::RecordReader;
using detail::RoundRecord;
using detail::ScanRecord;
using detail::SpillFile;
using dynamodb::TableDescription;
using model::Item;

std::string_view to_string(Kind kind) {
  switch (kind) {
    case Kind::kMissing: return "missing";
    case Kind::kDifferent: return "different";
    case Kind::kExtraneous: return "extraneous";
  }
  return "unknown";
}

namespace {

Result<TableDescription> describe(const TableRef& t, std::string_view role) {
  auto d = t.client->describe_table(t.table);
  if (d.ok()) return std::move(d).value();
  Error e = std::move(d).error();
  if (e.kind == ErrorKind::kNotFound) {
    e.message = fmt::format("{} table {} does not exist", role, t.display);
    e.context.clear();
    return e;
  }
  return e.with_context(fmt::format("{} table {}", role, t.display));
}

}  // namespace

Result<model::KeySchema> check_tables(const TableRef& primary, const TableRef& replica,
                                      TableDescription* primary_desc, TableDescription* replica_desc) {
  DR_ASSIGN(TableDescription p, describe(primary, "primary"));
  DR_ASSIGN(TableDescription r, describe(replica, "replica"));
  if (!model::same_key_schema(p.key_schema, r.key_schema)) {
    return Error(ErrorKind::kInvalidInput, "KeySchemaMismatch",
                 fmt::format("key schemas differ: primary table {} has key {}, replica table {} has key "
                             "{}; a replica must have the primary's key schema",
                             primary.display, model::describe_key_schema(p.key_schema), replica.display,
                             model::describe_key_schema(r.key_schema)));
  }
  model::KeySchema schema = p.key_schema;
  if (primary_desc != nullptr) *primary_desc = std::move(p);
  if (replica_desc != nullptr) *replica_desc = std::move(r);
  return schema;
}

namespace {

constexpr size_t kRecheckBatchKeys = dynamodb::kMaxBatchGet;  // BatchGetItem's limit
// Item bytes per re-check batch: a batch of 400 KB items holds a few keys, not 100, so a
// worker never holds more than a few MB of items.
constexpr size_t kRecheckBatchBytes = 2 << 20;
constexpr int kMaxPartitionBits = 8;  // 256 partitions per table: 512 open spill files
constexpr int kSplitBits = 4;         // an oversized partition is split 16 ways
// Bytes a spill record takes besides its key JSON, plus a typical short key.
constexpr size_t kRecordEstimate = detail::kScanHeader + 32;

// Bits [shift, shift + bits) of the key id, counted from the top: the partition at that level.
size_t partition_of(const Hash128& key, int shift, int bits) {
  if (bits == 0) return 0;
  uint64_t v = shift == 0 ? key.hi : (key.hi << shift);
  return static_cast<size_t>(v >> (64 - bits));
}

Error cancelled() { return Error(ErrorKind::kCancelled, "Cancelled", "stopped after another worker failed"); }

int auto_segments(const TableDescription& d, int parallel) {
  int64_t by_size = d.size_bytes > 0 ? (d.size_bytes + (128LL << 20) - 1) / (128LL << 20) : 0;
  int64_t n = std::max<int64_t>({by_size, 8, parallel});
  return static_cast<int>(std::min<int64_t>(n, 1024));
}

class DiffRun {
 public:
  DiffRun(const TableRef& primary, const TableRef& replica, const DiffOptions& opt)
      : primary_(primary), replica_(replica), opt_(opt),
        clock_(opt.clock != nullptr ? *opt.clock : SystemClock::instance()) {}

  Result<DiffSummary> run() {
    auto start = std::chrono::steady_clock::now();
    TableDescription pd, rd;
    DR_ASSIGN(schema_, check_tables(primary_, replica_, &pd, &rd));
    summary_.total_segments = opt_.total_segments > 0 ? opt_.total_segments : auto_segments(pd, opt_.parallel);
    summary_.segments = opt_.segments;
    if (summary_.segments.empty()) {
      for (int i = 0; i < summary_.total_segments; ++i) summary_.segments.push_back(i);
    }
    for (int s : summary_.segments) {
      if (s < 0 || s >= summary_.total_segments) {
        return Error(ErrorKind::kInvalidInput, "Usage",
                     fmt::format("segment {} is outside 0..{}", s, summary_.total_segments - 1));
      }
    }
    const double fraction =
        static_cast<double>(summary_.segments.size()) / static_cast<double>(summary_.total_segments);
    auto scaled = [&](int64_t n) { return n < 0 ? int64_t{-1} : static_cast<int64_t>(std::ceil(static_cast<double>(n) * fraction)); };
    int64_t expected_primary = scaled(pd.item_count);
    int64_t expected_replica = scaled(rd.item_count);

    if (opt_.progress != nullptr) {
      int64_t total = -1;
      if (opt_.backfill) {
        total = expected_primary;
      } else if (expected_primary >= 0 && expected_replica >= 0) {
        total = expected_primary + expected_replica;
      }
      progress_.emplace(*opt_.progress, Progress::Options{.label = opt_.progress_label,
                                                          .unit = "items",
                                                          .total = total,
                                                          .tty = opt_.progress_tty});
      if (!opt_.backfill) progress_->set_secondary_label("compared");
    }

    Status st = opt_.backfill ? backfill() : compare(std::max<int64_t>(expected_primary, 0) +
                                                     std::max<int64_t>(expected_replica, 0));
    if (progress_) progress_->stop();
    summary_.read_units = read_units_;
    summary_.write_units = write_units_;
    summary_.elapsed_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!st.ok()) return st.error();
    return summary_;
  }

 private:
  // --- shared -------------------------------------------------------------------------------

  dynamodb::ParallelScanOptions scan_options(const TableRef& t) {
    dynamodb::ParallelScanOptions o;
    o.table = t.table;
    o.total_segments = summary_.total_segments;
    o.segments = summary_.segments;
    o.parallel = std::max(1, opt_.parallel);
    if (opt_.page_limit > 0) o.page_limit = opt_.page_limit;
    o.rate_limiter = limiter_ ? &*limiter_ : nullptr;
    return o;
  }

  void add_units(double read, double write) {
    std::lock_guard lock(units_mu_);
    read_units_ += read;
    write_units_ += write;
  }

  // --- backfill -----------------------------------------------------------------------------

  Status backfill() {
    if (opt_.rate_limit > 0) limiter_.emplace(opt_.rate_limit);
    dynamodb::BatchWriter writer(*replica_.client, replica_.table, schema_,
                                 {.parallel = std::max(1, opt_.parallel) * 2});
    auto totals = dynamodb::parallel_scan(*primary_.client, scan_options(primary_),
                                          [&](int, dynamodb::ScanPage& page) -> Status {
      for (auto& item : page.items) {
        DR_TRY(writer.add({dynamodb::WriteRequest::Kind::kPut, std::move(item)}));
      }
      if (progress_) progress_->add(static_cast<int64_t>(page.items.size()));
      return {};
    });
    Status written = writer.finish();
    summary_.backfilled = writer.written();
    add_units(0, writer.write_units());
    if (totals.ok()) {
      summary_.scanned_primary = totals->items;
      add_units(totals->read_units, 0);
    }
    if (!written.ok()) {
      return Error(written.error()).with_context(fmt::format("backfilling replica table {}", replica_.display));
    }
    if (!totals.ok()) return Error(totals.error()).with_context(fmt::format("primary table {}", primary_.display));
    return {};
  }

  // --- compare ------------------------------------------------------------------------------

  struct Side {
    const TableRef* table = nullptr;
    std::string_view role;
    std::vector<std::unique_ptr<SpillFile>> parts;
    std::mutex mu;
  };

  static double since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }

  Status compare(int64_t expected_items) {
    const auto scan_start = std::chrono::steady_clock::now();
    if (opt_.rate_limit > 0) limiter_.emplace(opt_.rate_limit);
    DR_ASSIGN(tmp_, detail::TempDir::create(opt_.temp_dir));

    // Partitions so that one (both tables' records) is about partition_bytes; a stale or
    // missing item count only costs a split later (compare_partition).
    const double want = static_cast<double>(expected_items) * static_cast<double>(kRecordEstimate) /
                        static_cast<double>(std::max<size_t>(opt_.partition_bytes, 4096));
    bits_ = 0;
    while (bits_ < kMaxPartitionBits && static_cast<double>(size_t{1} << bits_) < want) ++bits_;
    if (opt_.partition_bits >= 0) bits_ = std::min(opt_.partition_bits, kMaxPartitionBits);
    const size_t parts = size_t{1} << bits_;
    summary_.partitions = static_cast<int>(parts);
    // Write buffers: about 4 MB per table in all, at least 4 KB each.
    const size_t buffer = std::max<size_t>(4096, (size_t{4} << 20) / parts);

    Side primary, replica;
    primary.table = &primary_;
    primary.role = "primary";
    replica.table = &replica_;
    replica.role = "replica";
    for (Side* s : {&primary, &replica}) {
      for (size_t i = 0; i < parts; ++i) {
        DR_ASSIGN(auto f, tmp_->new_file(fmt::format("{}-{}", s->role, i), buffer));
        s->parts.push_back(std::move(f));
      }
    }

    // Both tables at once, with the same segments: their scans see the same key ranges at
    // about the same time, which keeps the suspects from writes in flight few.
    std::atomic<bool> stop{false};
    std::optional<Result<dynamodb::ScanTotals>> replica_totals;
    std::thread replica_thread([&] {
      replica_totals.emplace(scan_side(replica, stop));
      if (!replica_totals->ok()) stop.store(true);
    });
    Result<dynamodb::ScanTotals> primary_totals = scan_side(primary, stop);
    if (!primary_totals.ok()) stop.store(true);
    replica_thread.join();
    scan_end_ = clock_.steady_now();
    summary_.scan_seconds = since(scan_start);
    // The first real error, not the cancellation it caused on the other side.
    for (auto* r : {&primary_totals, &*replica_totals}) {
      if (!r->ok() && r->error().kind != ErrorKind::kCancelled) return r->error();
    }
    if (!primary_totals.ok()) return primary_totals.error();
    if (!replica_totals->ok()) return replica_totals->error();
    summary_.scanned_primary = primary_totals->items;
    summary_.scanned_replica = (*replica_totals)->items;
    add_units(primary_totals->read_units + (*replica_totals)->read_units, 0);
    for (Side* s : {&primary, &replica}) {
      for (auto& f : s->parts) DR_TRY(f->finish());
    }

    spdlog::debug("diff: scanned {} + {} items in {:.2f}s into {} partitions", summary_.scanned_primary,
                  summary_.scanned_replica, summary_.scan_seconds, parts);

    // Compare partition by partition; suspects go to the first round's file.
    const auto compare_start = std::chrono::steady_clock::now();
    DR_ASSIGN(auto suspects, tmp_->new_file("suspects"));
    for (size_t i = 0; i < parts; ++i) {
      DR_TRY(compare_partition(*primary.parts[i], *replica.parts[i], bits_, *suspects));
      primary.parts[i].reset();  // closes (and frees) the partition's files
      replica.parts[i].reset();
    }
    DR_TRY(suspects->finish());
    summary_.compare_seconds = since(compare_start);
    spdlog::debug("diff: compared {} keys in {:.2f}s: {} suspects", summary_.compared, summary_.compare_seconds,
                  summary_.suspects);
    return run_rounds(std::move(suspects));
  }

  Result<dynamodb::ScanTotals> scan_side(Side& side, std::atomic<bool>& stop) {
    const size_t parts = side.parts.size();
    auto totals = dynamodb::parallel_scan(*side.table->client, scan_options(*side.table),
                                          [&](int, dynamodb::ScanPage& page) -> Status {
      if (stop.load()) return cancelled();
      std::vector<std::string> staged(parts);
      for (const Item& item : page.items) {
        auto key = model::extract_key(item, schema_);
        if (!key.ok()) {
          return Error(key.error()).with_context(fmt::format("an item of {} table {}", side.role, side.table->display));
        }
        const Hash128 id = detail::key_id(*key);
        const Hash128 fp = detail::item_fingerprint(item);
        const auto size = static_cast<uint32_t>(std::min<size_t>(model::item_size(item), UINT32_MAX));
        detail::append_scan_record(staged[partition_of(id, 0, bits_)], id, fp, size,
                                   model::canonical_key_json(*key));
      }
      {
        std::lock_guard lock(side.mu);
        for (size_t i = 0; i < parts; ++i) {
          if (!staged[i].empty()) DR_TRY(side.parts[i]->append(staged[i]));
        }
      }
      if (progress_) progress_->add(static_cast<int64_t>(page.items.size()));
      return {};
    });
    if (!totals.ok() && totals.error().kind != ErrorKind::kCancelled) {
      return Error(totals.error()).with_context(fmt::format("{} table {}", side.role, side.table->display));
    }
    return totals;
  }

  // Splits a partition file 16 ways on the next key-id bits.
  Result<std::vector<std::unique_ptr<SpillFile>>> split(const SpillFile& in, int shift) {
    std::vector<std::unique_ptr<SpillFile>> out;
    for (int i = 0; i < (1 << kSplitBits); ++i) {
      DR_ASSIGN(auto f, tmp_->new_file("split", 64 * 1024));
      out.push_back(std::move(f));
    }
    RecordReader<ScanRecord> reader(in);
    ScanRecord r;
    std::string rec;
    while (true) {
      DR_ASSIGN(bool more, reader.next(&r));
      if (!more) break;
      rec.clear();
      detail::append_scan_record(rec, r.key, r.fp, r.size, r.key_json);
      DR_TRY(out[partition_of(r.key, shift, kSplitBits)]->append(rec));
    }
    for (auto& f : out) DR_TRY(f->finish());
    return out;
  }

  // Compares one partition: the primary's records in a hash table, the replica's streamed
  // past it. `shift` is how many key-id bits the partitioning used so far.
  Status compare_partition(const SpillFile& p, const SpillFile& r, int shift, SpillFile& suspects) {
    const auto bytes = static_cast<size_t>(p.size() + r.size());
    if (bytes > 3 * opt_.partition_bytes && shift + kSplitBits <= 64) {
      // The item counts were stale (or absent): split rather than load it whole.
      spdlog::debug("diff: splitting a partition of {} bytes at bit {}", bytes, shift);
      DR_ASSIGN(auto ps, split(p, shift));
      DR_ASSIGN(auto rs, split(r, shift));
      for (size_t i = 0; i < ps.size(); ++i) {
        DR_TRY(compare_partition(*ps[i], *rs[i], shift + kSplitBits, suspects));
        ps[i].reset();
        rs[i].reset();
      }
      return {};
    }

    enum : uint8_t { kInPrimary = 1, kInReplica = 2, kSuspect = 4, kEmitted = 8 };
    struct Entry {
      Hash128 fp_primary;
      std::string_view json;  // into `primary` below; empty for replica-only keys
      uint32_t size = 0;
      uint8_t flags = 0;
    };
    DR_ASSIGN(std::string primary, p.read_all());
    std::unordered_map<Hash128, Entry, Hash128Hasher> map;
    map.reserve(primary.size() / kRecordEstimate + 16);

    std::string out;
    // A suspect carries what the scans saw (zero: absent), the first observation that the
    // re-reads compare with.
    auto emit = [&](const Hash128& key, const Hash128& fp_p, const Hash128& fp_r, uint32_t size,
                    std::string_view json) -> Status {
      detail::append_round_record(out, RoundRecord{key, fp_p, fp_r, size, json});
      ++summary_.suspects;
      if (out.size() >= (1 << 16)) {
        DR_TRY(suspects.append(out));
        out.clear();
      }
      return {};
    };

    std::string_view rest = primary;
    ScanRecord rec;
    while (!rest.empty()) {
      size_t used = detail::decode_scan_record(rest, &rec);
      if (used == 0) return Error(ErrorKind::kFatal, "SpillIo", "a primary spill file ends inside a record");
      rest.remove_prefix(used);
      auto [it, inserted] = map.try_emplace(rec.key, Entry{rec.fp, rec.key_json, rec.size, kInPrimary});
      // The same key twice in one scan should not happen; if it does, let the re-read decide.
      if (!inserted && it->second.fp_primary != rec.fp) it->second.flags |= kSuspect;
    }

    RecordReader<ScanRecord> reader(r);
    while (true) {
      DR_ASSIGN(bool more, reader.next(&rec));
      if (!more) break;
      auto it = map.find(rec.key);
      if (it == map.end()) {
        // Only in the replica (within this slice): extraneous, or written in flight.
        map.emplace(rec.key, Entry{{}, {}, rec.size, kInReplica | kSuspect | kEmitted});
        DR_TRY(emit(rec.key, Hash128{}, rec.fp, rec.size, rec.key_json));
        continue;
      }
      Entry& e = it->second;
      e.flags |= kInReplica;
      e.size = std::max(e.size, rec.size);
      if (e.fp_primary != rec.fp) e.flags |= kSuspect;
      if ((e.flags & kSuspect) != 0 && (e.flags & kEmitted) == 0) {
        e.flags |= kEmitted;
        DR_TRY(emit(rec.key, e.fp_primary, rec.fp, e.size, rec.key_json));
      }
    }
    int64_t compared = 0;
    for (auto& [key, e] : map) {
      ++compared;
      if ((e.flags & kInReplica) == 0 && (e.flags & kEmitted) == 0) {
        // Only in the primary: missing, or deleted in flight.
        e.flags |= kEmitted;
        DR_TRY(emit(key, e.fp_primary, Hash128{}, e.size, e.json));
      }
    }
    if (!out.empty()) DR_TRY(suspects.append(out));
    summary_.compared += compared;
    if (progress_) progress_->add_secondary(compared);
    return {};
  }

  // --- re-read rounds -----------------------------------------------------------------------

  // Re-reads the suspects. The scans were the first observation of each; a re-read `settle`
  // after them that finds the same difference (same fingerprints on both sides) confirms it.
  // One that finds the item changed is observed again after another `settle`, up to
  // max_rounds re-reads; the last round reports whatever still differs.
  Status run_rounds(std::unique_ptr<SpillFile> input) {
    const bool confirm = opt_.settle.count() > 0;
    const int max_rounds = confirm ? std::max(1, opt_.max_rounds) : 1;
    auto last_observation = scan_end_;
    for (int round = 1; input->size() > 0; ++round) {
      const bool final = round >= max_rounds;
      if (confirm) {
        // Every key of the last observation was read before it ended.
        auto due = last_observation + opt_.settle;
        auto now = clock_.steady_now();
        if (due > now) {
          const auto wait_start = std::chrono::steady_clock::now();
          clock_.sleep_for(due - now);
          summary_.settle_seconds += since(wait_start);
        }
      }
      std::unique_ptr<SpillFile> next;
      if (!final) {
        DR_ASSIGN(next, tmp_->new_file("round"));
      }
      summary_.rounds = round;
      const auto round_start = std::chrono::steady_clock::now();
      const int64_t reported = summary_.discrepancies();
      DR_TRY(run_round(*input, next.get(), final));
      summary_.reread_seconds += since(round_start);
      spdlog::debug("diff: round {}: re-read in {:.2f}s, {} confirmed", round, since(round_start),
                    summary_.discrepancies() - reported);
      last_observation = clock_.steady_now();
      if (!next) break;
      DR_TRY(next->finish());
      input = std::move(next);
    }
    return {};
  }

  struct Suspect {
    RoundRecord rec;   // rec.key_json points into json
    std::string json;
  };

  Status run_round(const SpillFile& input, SpillFile* next, bool final) {
    RecordReader<RoundRecord> reader(input);
    std::mutex in_mu, next_mu;
    std::atomic<bool> failed{false};
    std::optional<Error> first_error;
    std::mutex err_mu;

    auto work = [&] {
      while (!failed.load()) {
        std::vector<Suspect> batch;
        {
          std::lock_guard lock(in_mu);
          size_t bytes = 0;
          while (batch.size() < kRecheckBatchKeys && bytes < kRecheckBatchBytes) {
            RoundRecord r;
            auto more = reader.next(&r);
            if (!more.ok()) {
              std::lock_guard el(err_mu);
              if (!first_error) first_error = more.error();
              failed.store(true);
              return;
            }
            if (!*more) break;
            Suspect s{r, std::string(r.key_json)};
            s.rec.key_json = {};
            bytes += std::max<size_t>(r.size, 1);
            batch.push_back(std::move(s));
          }
        }
        if (batch.empty()) return;
        std::string carry;
        Status st = recheck(batch, final, carry);
        if (st.ok() && !carry.empty() && next != nullptr) {
          std::lock_guard lock(next_mu);
          st = next->append(carry);
        }
        if (!st.ok()) {
          std::lock_guard el(err_mu);
          if (!first_error) first_error = st.error();
          failed.store(true);
          return;
        }
      }
    };
    const int n = std::max(1, opt_.parallel);
    std::vector<std::thread> threads;
    for (int i = 1; i < n; ++i) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
    if (first_error) return *first_error;
    return {};
  }

  // Re-reads one batch of suspects with consistent reads on both tables. Equal: settled.
  // Different and unchanged since the last observation, or different in the final round:
  // reported (and repaired). Different and changed: carried to the next round (`carry`).
  Status recheck(std::vector<Suspect>& batch, bool final, std::string& carry) {
    std::vector<Item> keys;
    keys.reserve(batch.size());
    for (auto& s : batch) {
      auto k = model::parse_item(s.json);
      if (!k.ok()) return Error(k.error()).with_context("a spilled key " + s.json);
      keys.push_back(std::move(k).value());
    }
    auto pr = primary_.client->batch_get_all(primary_.table, keys, true);
    if (!pr.ok()) {
      return Error(pr.error()).with_context(fmt::format("re-reading {} keys from primary table {}", keys.size(), primary_.display));
    }
    auto rr = replica_.client->batch_get_all(replica_.table, keys, true);
    if (!rr.ok()) {
      return Error(rr.error()).with_context(fmt::format("re-reading {} keys from replica table {}", keys.size(), replica_.display));
    }
    add_units(pr->consumed_read_units + rr->consumed_read_units, 0);
    auto index = [&](std::vector<Item>& items) -> Result<std::unordered_map<Hash128, Item*, Hash128Hasher>> {
      std::unordered_map<Hash128, Item*, Hash128Hasher> m;
      for (auto& it : items) {
        DR_ASSIGN(Item k, model::extract_key(it, schema_));
        m.emplace(detail::key_id(k), &it);
      }
      return m;
    };
    DR_ASSIGN(auto pm, index(pr->items));
    DR_ASSIGN(auto rm, index(rr->items));

    struct Found {
      Kind kind;
      size_t index;
      const Item* primary;
    };
    std::vector<Found> found;
    int64_t settled = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      const Hash128& id = batch[i].rec.key;
      auto pi = pm.find(id);
      auto ri = rm.find(id);
      const Item* p = pi == pm.end() ? nullptr : pi->second;
      const Item* r = ri == rm.end() ? nullptr : ri->second;
      if ((p == nullptr && r == nullptr) || (p != nullptr && r != nullptr && *p == *r)) {
        ++settled;
        continue;
      }
      const Kind kind = r == nullptr ? Kind::kMissing : (p == nullptr ? Kind::kExtraneous : Kind::kDifferent);
      const Hash128 fp_p = p != nullptr ? detail::item_fingerprint(*p) : Hash128{};
      const Hash128 fp_r = r != nullptr ? detail::item_fingerprint(*r) : Hash128{};
      const bool stable = fp_p == batch[i].rec.primary_fp && fp_r == batch[i].rec.replica_fp;
      if (!final && !stable) {
        size_t size = std::max(p != nullptr ? model::item_size(*p) : 0, r != nullptr ? model::item_size(*r) : 0);
        detail::append_round_record(carry, RoundRecord{id, fp_p, fp_r,
                                                       static_cast<uint32_t>(std::max<size_t>(size, 1)),
                                                       batch[i].json});
        continue;
      }
      found.push_back({kind, i, p});
    }

    Status repair_status;
    bool repaired = false;
    if (opt_.repair && !found.empty()) {
      std::vector<dynamodb::WriteRequest> writes;
      writes.reserve(found.size());
      for (const auto& f : found) {
        if (f.kind == Kind::kExtraneous) {
          writes.push_back({dynamodb::WriteRequest::Kind::kDelete, keys[f.index]});
        } else {
          writes.push_back({dynamodb::WriteRequest::Kind::kPut, *f.primary});
        }
      }
      // batch_write_all re-sends unprocessed (throttled) writes until every one is written.
      auto w = replica_.client->batch_write_all(replica_.table, writes);
      if (w.ok()) {
        add_units(0, w->consumed_write_units);
        repaired = true;
      } else {
        repair_status = Error(w.error()).with_context(
            fmt::format("repairing {} items of replica table {}", writes.size(), replica_.display));
      }
    }

    std::lock_guard lock(report_mu_);
    summary_.settled += settled;
    for (const auto& f : found) {
      switch (f.kind) {
        case Kind::kMissing: ++summary_.missing; break;
        case Kind::kDifferent: ++summary_.different; break;
        case Kind::kExtraneous: ++summary_.extraneous; break;
      }
      if (repaired) ++summary_.repaired;
      if (opt_.on_discrepancy) opt_.on_discrepancy(Discrepancy{f.kind, keys[f.index], repaired});
    }
    return repair_status;
  }

  const TableRef& primary_;
  const TableRef& replica_;
  const DiffOptions& opt_;
  Clock& clock_;
  model::KeySchema schema_;
  DiffSummary summary_;
  std::optional<Progress> progress_;
  std::optional<RateLimiter> limiter_;
  std::unique_ptr<detail::TempDir> tmp_;
  int bits_ = 0;
  std::chrono::steady_clock::time_point scan_end_;
  std::mutex units_mu_;
  double read_units_ = 0;
  double write_units_ = 0;
  std::mutex report_mu_;
};

}  // namespace

Result<DiffSummary> diff_tables(const TableRef& primary, const TableRef& replica, const DiffOptions& options) {
  if (primary.client == nullptr || replica.client == nullptr) {
    return invalid_input("diff_tables: a table has no client");
  }
  DiffRun run(primary, replica, options);
  return run.run();
}

}  // namespace dynarep::diff
