// restore, detect: what a location holds (backup/restore.h).
#include <fmt/format.h>

#include <algorithm>

#include "backup/detail/restore_parts.h"
#include "backup/incremental.h"

namespace dynarep::backup {

using detail::plan_aws_export;
using detail::plan_backup_job;
using detail::source_error;
using std::chrono::system_clock;

std::string_view to_string(SourceFormat f) {
  switch (f) {
    case SourceFormat::kBackupJob: return "backup-job";
    case SourceFormat::kLineFile: return "line-file";
    case SourceFormat::kDynoExport: return "dyno-export";
    case SourceFormat::kAwsExport: return "aws-export";
    case SourceFormat::kIncremental: return "incremental";
  }
  return "unknown";
}

Result<SourcePlan> detect_source(Storage& storage, const Location& src) {
  if (src.kind == Location::Kind::kStdio) {
    SourcePlan plan;
    plan.root = src;
    plan.objects.push_back(SourceObject{src, std::nullopt, std::nullopt, std::nullopt, "", "", ""});
    plan.summary = "lines on standard input (gzip or plain)";
    return plan;
  }
  Location dir = src;
  if (src.kind == Location::Kind::kS3) {
    while (!dir.key.empty() && dir.key.back() == '/') dir.key.pop_back();
  }
  DR_ASSIGN(std::optional<uint64_t> size, storage.stat(dir));
  if (size) {
    std::string base = base_name(dir);
    Location parent = dir;
    if (dir.kind == Location::Kind::kS3) {
      size_t slash = dir.key.rfind('/');
      parent.key = slash == std::string::npos ? "" : dir.key.substr(0, slash);
    } else {
      size_t slash = dir.path.rfind('/');
      parent.path = slash == std::string::npos ? "." : dir.path.substr(0, slash);
    }
    if (base == kJobManifestName || parse_segment_manifest_name(base)) return detect_source(storage, parent);
    if (base == "manifest-summary.json") return detect_source(storage, parent);
    SourcePlan plan;
    plan.root = dir;
    plan.objects.push_back(SourceObject{dir, size, std::nullopt, std::nullopt, "", "", ""});
    plan.summary = fmt::format("single file {} ({} bytes)", display(dir), *size);
    return plan;
  }
  std::vector<std::string> subdirs;
  DR_ASSIGN(std::vector<ListedEntry> entries, storage.list(dir, false, &subdirs));
  auto has = [&](std::string_view name) {
    return std::any_of(entries.begin(), entries.end(), [&](const ListedEntry& e) { return e.name == name; });
  };
  if (has("manifest-summary.json")) return plan_aws_export(storage, dir);
  bool job_like = std::any_of(entries.begin(), entries.end(), [](const ListedEntry& e) {
    return is_segment_name(e.name) || e.name == kJobManifestName || parse_segment_manifest_name(e.name).has_value();
  });
  if (job_like) return plan_backup_job(storage, dir, entries);
  bool incremental = std::any_of(entries.begin(), entries.end(), [](const ListedEntry& e) { return is_incremental_object_name(e.name); });
  if (incremental) {
    SourcePlan plan;
    plan.format = SourceFormat::kIncremental;
    plan.root = dir;
    plan.incremental = true;
    plan.summary = fmt::format("incremental backup {} (one object per item)", display(dir));
    return plan;
  }
  {
    // DynamoDB's export folders: <export-prefix>/AWSDynamoDB/<ExportId>/manifest-summary.json.
    // Found by a listing without delimiter: some S3 servers (s3rver) leave out common prefixes
    // of folders that hold only folders.
    Location awsdir = base_name(dir) == "AWSDynamoDB" ? dir : child(dir, "AWSDynamoDB");
    std::vector<std::string> ids;
    DR_TRY(storage.for_each(awsdir, true, "", [&](const ListedEntry& e) -> Status {
      constexpr std::string_view kSummary = "/manifest-summary.json";
      if (e.name.size() > kSummary.size() && e.name.ends_with(kSummary) &&
          e.name.find('/') == e.name.size() - kSummary.size()) {
        ids.push_back(e.name.substr(0, e.name.size() - kSummary.size()));
      }
      return {};
    }));
    if (ids.size() == 1) return plan_aws_export(storage, child(awsdir, ids.front()));
    if (ids.size() > 1) {
      return source_error(awsdir, fmt::format("holds {} DynamoDB exports ({}): give the one to restore", ids.size(),
                                              fmt::join(ids, ", ")));
    }
  }
  if (!subdirs.empty()) {
    // A root of backup jobs?
    std::vector<std::string> jobs;
    for (const auto& s : subdirs) {
      auto l = storage.list(child(dir, s), false);
      if (!l.ok()) continue;
      if (std::any_of(l->begin(), l->end(), [](const ListedEntry& e) {
            return is_segment_name(e.name) || e.name == kJobManifestName;
          })) {
        jobs.push_back(s);
      }
    }
    if (!jobs.empty()) {
      return source_error(dir, fmt::format("holds {} backup jobs ({}{}): give one of them, or --as-of TIME to choose",
                                           jobs.size(), fmt::join(jobs.begin(), jobs.begin() + std::min<size_t>(jobs.size(), 5), ", "),
                                           jobs.size() > 5 ? ", ..." : ""));
    }
  }
  Error e = not_found(entries.empty() && subdirs.empty()
                          ? "nothing there: no object, file or backup"
                          : "not a backup: no segments, manifests, export manifest or incremental objects");
  return e.with_context(display(dir));
}

Result<SourcePlan> choose_backup_job(Storage& storage, const Location& root, system_clock::time_point as_of) {
  std::vector<std::string> subdirs;
  DR_ASSIGN(std::vector<ListedEntry> entries, storage.list(root, false, &subdirs));
  bool is_job = std::any_of(entries.begin(), entries.end(), [](const ListedEntry& e) {
    return is_segment_name(e.name) || e.name == kJobManifestName || parse_segment_manifest_name(e.name).has_value();
  });
  if (is_job) {
    DR_ASSIGN(SourcePlan plan, plan_backup_job(storage, root, entries));
    if (!plan.manifest) {
      return source_error(root, "has no manifest, so its time is unknown: point-in-time restore needs a dynarep backup");
    }
    if (plan.manifest->end_time > as_of) {
      return source_error(root, fmt::format("ended at {}, after {}: choose an earlier backup",
                                            format_time(plan.manifest->end_time), format_time(as_of)));
    }
    return plan;
  }
  std::optional<std::pair<system_clock::time_point, std::string>> best;
  std::vector<std::string> skipped;
  for (const auto& s : subdirs) {
    Location job = child(root, s);
    auto l = storage.list(job, false);
    if (!l.ok()) return l.error();
    auto plan = plan_backup_job(storage, job, *l);
    if (!plan.ok() || !plan->manifest) {
      skipped.push_back(s);
      continue;
    }
    auto end = plan->manifest->end_time;
    if (end <= as_of && (!best || end > best->first)) best = std::make_pair(end, s);
  }
  if (!best) {
    return source_error(root, fmt::format("holds no complete backup job that ended at or before {}{}", format_time(as_of),
                                          skipped.empty() ? "" : fmt::format(" ({} incomplete or unreadable job(s) skipped)", skipped.size())));
  }
  Location job = child(root, best->second);
  DR_ASSIGN(std::vector<ListedEntry> job_entries, storage.list(job, false));
  return plan_backup_job(storage, job, job_entries);
}

}  // namespace dynarep::backup
