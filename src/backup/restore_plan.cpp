// restore, plan: what a backup-table job or a DynamoDB export holds, checked against its
// manifests before anything is written (backup/detail/restore_parts.h).
#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <set>

#include "backup/detail/restore_parts.h"
#include "backup/reader.h"

namespace dynarep::backup::detail {
namespace {

std::string group(int64_t n) { return Progress::group_digits(n); }

Result<Manifest> load_manifest(Storage& storage, const Location& loc) {
  DR_ASSIGN(std::string body, storage.read_all(loc, size_t{16} << 20));
  return parse_manifest(body, display(loc));
}

}  // namespace

Result<SourcePlan> plan_backup_job(Storage& storage, const Location& job, const std::vector<ListedEntry>& entries) {
  SourcePlan plan;
  plan.format = SourceFormat::kBackupJob;
  plan.root = job;
  std::map<int, uint64_t> data;  // segment -> size
  bool job_manifest = false;
  std::map<int, std::string> seg_manifests;
  for (const auto& e : entries) {
    if (is_segment_name(e.name)) {
      data[std::stoi(e.name)] = e.size;
    } else if (e.name == kJobManifestName) {
      job_manifest = true;
    } else if (auto i = parse_segment_manifest_name(e.name)) {
      seg_manifests[*i] = e.name;
    }
  }
  auto missing = [&](std::string msg) {
    Error e = source_error(job, std::move(msg));
    e.code = "IncompleteBackup";
    return e;
  };
  std::vector<std::pair<Manifest, std::string>> manifests;
  if (job_manifest) {
    std::string name(kJobManifestName);
    DR_ASSIGN(Manifest m, load_manifest(storage, child(job, name)));
    manifests.emplace_back(std::move(m), name);
  } else {
    for (const auto& [i, name] : seg_manifests) {
      DR_ASSIGN(Manifest m, load_manifest(storage, child(job, name)));
      if (!m.segment || *m.segment != i) {
        return source_error(child(job, name), fmt::format("manifest for segment {} does not say it covers segment {}", i, i));
      }
      manifests.emplace_back(std::move(m), name);
    }
  }

  if (manifests.empty()) {
    if (data.empty()) return missing("no backup segments and no manifest here");
    // The original tool's jobs have no manifest: restore what is there, but say what cannot
    // be checked. A gap in the numbering is certainly a missing segment.
    int expect = 0;
    for (const auto& [i, size] : data) {
      if (i != expect) return missing(fmt::format("segment {} is missing (found segments {}..{} with a gap)", expect,
                                                  data.begin()->first, data.rbegin()->first));
      ++expect;
      SourceObject o;
      o.location = child(job, std::to_string(i));
      o.size = size;
      plan.objects.push_back(std::move(o));
    }
    plan.warnings.push_back(fmt::format(
        "{} has no manifest (a backup by the original tool, or one still running): item counts and checksums "
        "cannot be verified, nor whether segments after {} are missing",
        display(job), data.rbegin()->first));
    plan.summary = fmt::format("backup-table job {} without manifest: {} segment(s)", display(job), data.size());
    return plan;
  }

  // Every manifest must describe the same job.
  const Manifest& first = manifests.front().first;
  Manifest merged = first;
  merged.objects.clear();
  merged.items = 0;
  merged.bytes = merged.gzip_bytes = 0;
  merged.segment.reset();
  merged.scan_segments.clear();
  std::vector<int> scan_cover(static_cast<size_t>(first.scan_total_segments), 0);
  for (const auto& [m, name] : manifests) {
    auto disagree = [&](std::string what) {
      Error e = source_error(child(job, name), fmt::format("manifest disagrees with {}: {}", manifests.front().second, what));
      e.code = "ManifestMismatch";
      return e;
    };
    if (m.jobid != first.jobid) return disagree(fmt::format("jobid {} vs {}", m.jobid, first.jobid));
    if (m.table != first.table) return disagree(fmt::format("table {} vs {}", m.table, first.table));
    if (m.segments != first.segments) return disagree(fmt::format("segments {} vs {}", m.segments, first.segments));
    if (m.scan_total_segments != first.scan_total_segments) {
      return disagree(fmt::format("scan total segments {} vs {} (every machine must pass the same --parallel)",
                                  m.scan_total_segments, first.scan_total_segments));
    }
    if (!model::same_key_schema(m.key_schema, first.key_schema)) return disagree("key schema");
    for (int s : m.scan_segments) {
      if (++scan_cover[static_cast<size_t>(s)] > 1) {
        return disagree(fmt::format("scan segment {} is covered twice", s));
      }
      merged.scan_segments.push_back(s);
    }
    merged.start_time = std::min(merged.start_time, m.start_time);
    merged.end_time = std::max(merged.end_time, m.end_time);
    for (const auto& o : m.objects) {
      merged.objects.push_back(o);
      merged.items += o.items;
      merged.bytes += o.bytes;
      merged.gzip_bytes += o.gzip_bytes;
    }
  }
  // Completeness: every segment 0..n-1 has its data object and (when split) its manifest.
  for (int i = 0; i < first.segments; ++i) {
    bool has_data = data.count(i) != 0;
    bool has_manifest = job_manifest || seg_manifests.count(i) != 0;
    if (!has_data) {
      return missing(fmt::format("segment {} of {} is missing: object {} does not exist", i, first.segments,
                                 display(child(job, std::to_string(i)))));
    }
    if (!has_manifest) {
      return missing(fmt::format("segment {} of {} has no {}: its backup did not finish (or is still running)", i,
                                 first.segments, segment_manifest_name(i)));
    }
  }
  for (size_t s = 0; s < scan_cover.size(); ++s) {
    if (scan_cover[s] == 0) {
      return missing(fmt::format("scan segment {} of {} is in no manifest: part of the table is not in this backup",
                                 s, first.scan_total_segments));
    }
  }
  std::sort(merged.objects.begin(), merged.objects.end(),
            [](const ObjectEntry& a, const ObjectEntry& b) { return a.segment < b.segment; });
  for (const auto& o : merged.objects) {
    SourceObject so;
    so.location = child(job, o.name);
    auto it = data.find(o.segment);
    if (it == data.end()) return missing(fmt::format("object {} listed in the manifest does not exist", display(so.location)));
    so.size = it->second;
    so.expected_items = o.items;
    so.expected_size = o.gzip_bytes;
    so.expected_sha256 = o.sha256;
    so.manifest = display(child(job, manifests.size() == 1 ? manifests.front().second
                                                            : (job_manifest ? std::string(kJobManifestName)
                                                                            : segment_manifest_name(o.segment))));
    if (it->second != o.gzip_bytes) {
      Error e = source_error(so.location, fmt::format("is {} bytes but {} says {}: truncated or replaced", it->second,
                                                      so.manifest, o.gzip_bytes));
      e.code = "ManifestMismatch";
      return e;
    }
    plan.objects.push_back(std::move(so));
  }
  for (const auto& [i, size] : data) {
    if (i >= first.segments) {
      plan.warnings.push_back(fmt::format("{} is not part of the job (its manifest says {} segment(s)): ignored",
                                          display(child(job, std::to_string(i))), first.segments));
    }
  }
  plan.description = merged.description;
  plan.key_schema = merged.key_schema;
  plan.expected_items = merged.items;
  plan.summary = fmt::format("backup-table job {} of table {}: {} segment(s), {} items, taken {} .. {}", display(job),
                             merged.table, first.segments, group(merged.items), format_time(merged.start_time),
                             format_time(merged.end_time));
  plan.manifest = std::move(merged);
  return plan;
}

Result<SourcePlan> plan_aws_export(Storage& storage, const Location& folder) {
  SourcePlan plan;
  plan.format = SourceFormat::kAwsExport;
  plan.root = folder;
  Location summary_loc = child(folder, "manifest-summary.json");
  DR_ASSIGN(std::string summary, storage.read_all(summary_loc, size_t{1} << 20));
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(summary).get(doc)) return source_error(summary_loc, "not JSON");
  std::string_view format = "DYNAMODB_JSON";
  if (doc["outputFormat"].get_string().get(format)) {}
  if (format != "DYNAMODB_JSON") {
    return source_error(summary_loc, fmt::format("export format {} is not supported: export with DYNAMODB_JSON", format));
  }
  std::string_view export_type;
  if (!doc["exportType"].get_string().get(export_type) && export_type == "INCREMENTAL_EXPORT") {
    return source_error(summary_loc, "an incremental export (changes, not a table) cannot be restored as a table");
  }
  int64_t total = -1;
  if (doc["itemCount"].get_int64().get(total)) {}
  std::string_view files_key;
  if (doc["manifestFilesS3Key"].get_string().get(files_key)) {}
  std::string table_arn;
  if (std::string_view a; !doc["tableArn"].get_string().get(a)) table_arn = std::string(a);

  // manifest-files.json sits beside the summary; manifestFilesS3Key names it in the bucket
  // the export was written to (used when the folder was not copied whole).
  Location files_loc = child(folder, "manifest-files.json");
  DR_ASSIGN(std::optional<uint64_t> files_size, storage.stat(files_loc));
  if (!files_size && folder.kind == Location::Kind::kS3 && !files_key.empty()) {
    files_loc = folder;
    files_loc.key = std::string(files_key);
    DR_ASSIGN(files_size, storage.stat(files_loc));
  }
  if (!files_size) return source_error(folder, "manifest-files.json is missing");
  DR_ASSIGN(std::vector<ListedEntry> listed, storage.list(child(folder, "data"), true));
  std::set<std::string> present;
  std::map<std::string, uint64_t> sizes;
  for (const auto& e : listed) sizes[e.name] = e.size;

  int64_t sum = 0;
  auto st = read_lines(storage, files_loc, [&](std::string_view line, uint64_t n) -> Status {
    simdjson::dom::element e;
    std::string_view key, md5;
    int64_t count = -1;
    if (parser.parse(line.data(), line.size()).get(e) || e["dataFileS3Key"].get_string().get(key)) {
      return source_error(files_loc, fmt::format("line {}: no dataFileS3Key", n));
    }
    if (e["itemCount"].get_int64().get(count)) {}
    if (e["md5Checksum"].get_string().get(md5)) {}
    SourceObject o;
    std::string base(key.substr(key.rfind('/') == std::string_view::npos ? 0 : key.rfind('/') + 1));
    if (auto it = sizes.find(base); it != sizes.end()) {
      o.location = child(child(folder, "data"), base);
      o.size = it->second;
    } else if (folder.kind == Location::Kind::kS3) {
      o.location = folder;
      o.location.key = std::string(key);
      DR_ASSIGN(o.size, storage.stat(o.location));
      if (!o.size) {
        Error err = source_error(o.location, fmt::format("data file listed in {} line {} does not exist",
                                                         display(files_loc), n));
        err.code = "IncompleteBackup";
        return err;
      }
    } else {
      Error err = source_error(child(child(folder, "data"), base),
                               fmt::format("data file listed in {} line {} does not exist", display(files_loc), n));
      err.code = "IncompleteBackup";
      return err;
    }
    if (count >= 0) {
      o.expected_items = count;
      sum += count;
    }
    o.expected_md5 = std::string(md5);
    o.manifest = display(files_loc);
    plan.objects.push_back(std::move(o));
    return {};
  });
  if (!st.ok()) return st.error();
  if (total >= 0 && total != sum) {
    Error e = source_error(summary_loc, fmt::format("itemCount is {} but manifest-files.json's data files hold {}",
                                                    total, sum));
    e.code = "ManifestMismatch";
    return e;
  }
  plan.expected_items = sum;
  plan.summary = fmt::format("DynamoDB export to S3 {}{}: {} data file(s), {} items", display(folder),
                             table_arn.empty() ? "" : " of " + table_arn, plan.objects.size(), group(sum));
  return plan;
}

Error source_error(const Location& where, std::string message) {
  return invalid_input(std::move(message)).with_context(display(where));
}

}  // namespace dynarep::backup::detail
