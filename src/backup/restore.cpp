// restore: detect the source, check it, read it into the table, replay history for --as-of
// (backup/restore.h). The jobs are in restore_detect / restore_plan / restore_read /
// restore_load.cpp (backup/detail/restore_parts.h).
#include "backup/restore.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <ostream>
#include <unordered_map>

#include "backup/detail/restore_parts.h"
#include "backup/history.h"
#include "model/codec.h"

namespace dynarep::backup {
namespace {

using std::chrono::system_clock;

std::string group(int64_t n) { return Progress::group_digits(n); }

// A history that ends before as_of would restore an older state than asked for, silently:
// changes after its newest entry are missing (a lagging incremental backup). Refused, naming
// how far it reaches. Only the hours from as_of on are listed when the history reaches it.
Status check_history_reaches(Storage& storage, const Location& history, system_clock::time_point as_of, int readers) {
  DR_ASSIGN(auto reach, history_reach(storage, history, as_of, std::max(1, readers)));
  if (!reach) {  // nothing from as_of's hour on: how far does it reach at all?
    DR_ASSIGN(reach, history_reach(storage, history, std::nullopt, std::max(1, readers)));
  }
  if (reach && *reach >= as_of) return {};
  Error e = invalid_input(fmt::format(
      "history at {} {}, before --as-of {}; run incremental-backup until it catches up or pass "
      "--allow-incomplete-history",
      display(history), reach ? "reaches only " + format_time(*reach) : std::string("holds no changes"),
      format_time(as_of)));
  e.code = "IncompleteHistory";
  return e;
}

// Point-in-time restore, after the full backup is loaded: the history entries in (backup start
// - margin, as_of], the last change per key applied (a put of its image, or a delete).
Status replay_history(Storage& storage, const Manifest& backup, const RestoreOptions& opt, int readers,
                      detail::TableLoader& loader, RestoreProgress& progress) {
  auto from = backup.start_time - opt.margin;
  std::unordered_map<std::string, HistoryEntry> last;
  Status st = read_history(storage, *opt.history, from, *opt.as_of, readers, [&](HistoryEntry&& e) -> Status {
    ++progress.history_entries;
    std::string k = model::canonical_key_json(e.key);
    auto it = last.find(k);
    if (it == last.end()) {
      last.emplace(std::move(k), std::move(e));
    } else if (history_before(it->second, e)) {
      it->second = std::move(e);
    }
    return {};
  });
  if (st.ok() && opt.log != nullptr) {
    *opt.log << "restore: history " << display(*opt.history) << ": " << group(progress.history_entries)
             << " changes in (" << format_time(from) << ", " << format_time(*opt.as_of) << "], "
             << group(static_cast<int64_t>(last.size())) << " keys\n";
  }
  for (auto it = last.begin(); st.ok() && it != last.end(); ++it) {
    if (it->second.image) {
      ++progress.history_puts;
      st = loader.put(std::move(*it->second.image));
    } else {
      ++progress.history_deletes;
      st = loader.del(std::move(it->second.key));
    }
  }
  return st;
}

}  // namespace

Status restore(Storage& storage, const Location& src, const RestoreOptions& opt, RestoreProgress& progress) {
  if (opt.client == nullptr) return invalid_input("restore needs a DynamoDB client");
  std::ostream* log = opt.log;
  SourcePlan plan;
  if (opt.as_of) {
    if (!opt.history) return invalid_input("--as-of needs --history s3://bucket/prefix/table (the incremental backup's history)");
    DR_ASSIGN(plan, choose_backup_job(storage, src, *opt.as_of));
    if (!opt.allow_incomplete_history) DR_TRY(check_history_reaches(storage, *opt.history, *opt.as_of, opt.readers));
  } else {
    DR_ASSIGN(plan, detect_source(storage, src));
  }
  progress.detected = std::string(to_string(plan.format)) + ": " + plan.summary;
  if (log != nullptr) {
    *log << "restore: detected " << progress.detected << "\n";
    for (const auto& w : plan.warnings) *log << "restore: warning: " << w << "\n";
  }
  const int readers = std::max(1, opt.readers);
  if (opt.verify_first && src.kind != Location::Kind::kStdio) {
    DR_TRY(verify_source(storage, plan, log, readers));
  }
  detail::TableLoader loader(opt, progress);
  if (plan.format != SourceFormat::kLineFile) DR_TRY(loader.prepare(plan.description, plan.key_schema));
  std::atomic<int64_t> items_read{0};
  Status st = plan.incremental ? detail::read_incremental(storage, plan.root, &loader, readers, items_read)
                               : detail::read_plan(storage, plan, &loader, readers, log, progress, items_read);
  if (st.ok() && !loader.prepared()) {
    // An empty source: still make the table, so the result is the (empty) table.
    st = loader.prepare(plan.description, plan.key_schema);
  }
  if (st.ok() && opt.as_of) st = replay_history(storage, *plan.manifest, opt, readers, loader, progress);
  Status fin = loader.finish();
  progress.items_read = items_read.load();
  if (!st.ok()) return st;
  if (!fin.ok()) return fin;
  if (plan.expected_items && *plan.expected_items != progress.items_read) {
    Error e = invalid_input(fmt::format("read {} items but the manifests say {}", progress.items_read, *plan.expected_items));
    e.code = "ManifestMismatch";
    return e.with_context(display(plan.root));
  }
  return {};
}

}  // namespace dynarep::backup
