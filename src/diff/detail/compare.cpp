#include "diff/detail/compare.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "diff/detail/scan.h"

namespace dynarep::diff::detail {

namespace {

constexpr int kSplitBits = 4;  // an oversized partition is split 16 ways

// Splits a partition file 16 ways on the next key-id bits.
Result<std::vector<std::unique_ptr<SpillFile>>> split(const SpillFile& in, int shift, TempDir& tmp) {
  std::vector<std::unique_ptr<SpillFile>> out;
  for (int i = 0; i < (1 << kSplitBits); ++i) {
    DR_ASSIGN(auto f, tmp.new_file("split", 64 * 1024));
    out.push_back(std::move(f));
  }
  RecordReader<ScanRecord> reader(in);
  ScanRecord r;
  std::string rec;
  while (true) {
    DR_ASSIGN(bool more, reader.next(&r));
    if (!more) break;
    rec.clear();
    append_scan_record(rec, r.key, r.fp, r.size, r.key_json);
    DR_TRY(out[partition_of(r.key, shift, kSplitBits)]->append(rec));
  }
  for (auto& f : out) DR_TRY(f->finish());
  return out;
}

}  // namespace

Status compare_partition(const SpillFile& p, const SpillFile& r, int shift, size_t partition_bytes, TempDir& tmp,
                         SpillFile& suspects, CompareCounts& counts, Progress* progress) {
  const auto bytes = static_cast<size_t>(p.size() + r.size());
  if (bytes > 3 * partition_bytes && shift + kSplitBits <= 64) {
    // The item counts were stale (or absent): split rather than load it whole.
    spdlog::debug("diff: splitting a partition of {} bytes at bit {}", bytes, shift);
    DR_ASSIGN(auto ps, split(p, shift, tmp));
    DR_ASSIGN(auto rs, split(r, shift, tmp));
    for (size_t i = 0; i < ps.size(); ++i) {
      DR_TRY(compare_partition(*ps[i], *rs[i], shift + kSplitBits, partition_bytes, tmp, suspects, counts, progress));
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
    append_round_record(out, RoundRecord{key, fp_p, fp_r, size, json});
    ++counts.suspects;
    if (out.size() >= (1 << 16)) {
      DR_TRY(suspects.append(out));
      out.clear();
    }
    return {};
  };

  std::string_view rest = primary;
  ScanRecord rec;
  while (!rest.empty()) {
    size_t used = decode_scan_record(rest, &rec);
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
  counts.compared += compared;
  if (progress != nullptr) progress->add_secondary(compared);
  return {};
}

}  // namespace dynarep::diff::detail
