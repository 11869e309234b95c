#include "backup/restore.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <unordered_map>

#include "backup/detail/parallel.h"
#include "backup/history.h"
#include "backup/incremental.h"
#include "backup/reader.h"
#include "dynamodb/client.h"
#include "dynamodb/parallel.h"
#include "model/codec.h"

namespace dynarep::backup {
namespace {

using std::chrono::system_clock;

std::string group(int64_t n) { return Progress::group_digits(n); }

Error source_error(const Location& where, std::string message) {
  return invalid_input(std::move(message)).with_context(display(where));
}

// --- table descriptions -----------------------------------------------------------------------

// The key schema of a description line (DescribeTable's Table object, or dyno export's line 1).
Result<model::KeySchema> key_schema_from_description(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc)) return invalid_input("table description is not JSON");
  simdjson::dom::array ks, defs;
  if (doc["KeySchema"].get_array().get(ks)) return invalid_input("table description has no KeySchema");
  if (doc["AttributeDefinitions"].get_array().get(defs)) {
    return invalid_input("table description has no AttributeDefinitions");
  }
  std::map<std::string, model::Type, std::less<>> types;
  for (auto d : defs) {
    std::string_view name, type;
    if (d["AttributeName"].get_string().get(name) || d["AttributeType"].get_string().get(type)) continue;
    model::Type t;
    if (model::type_from_tag(type, &t)) types[std::string(name)] = t;
  }
  model::KeySchema k;
  for (auto e : ks) {
    std::string_view name, kt;
    if (e["AttributeName"].get_string().get(name) || e["KeyType"].get_string().get(kt)) {
      return invalid_input("table description has a malformed KeySchema entry");
    }
    auto it = types.find(name);
    if (it == types.end()) {
      return invalid_input(fmt::format("table description: key attribute {} has no AttributeDefinition", name));
    }
    if (kt == "HASH") {
      k.hash_name = std::string(name);
      k.hash_type = it->second;
    } else if (kt == "RANGE") {
      k.range_name = std::string(name);
      k.range_type = it->second;
    }
  }
  if (k.hash_name.empty()) return invalid_input("table description has no HASH key");
  return k;
}

// True when `line` is a table description rather than an item: a JSON object whose KeySchema
// is an array (in an item every value is a typed object).
bool is_description_line(std::string_view line) {
  if (line.find("\"KeySchema\"") == std::string_view::npos) return false;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(line.data(), line.size()).get(doc)) return false;
  simdjson::dom::array a;
  return !doc["KeySchema"].get_array().get(a);
}

// --- the table side ---------------------------------------------------------------------------

class TableLoader {
 public:
  TableLoader(const RestoreOptions& opt, RestoreProgress& progress) : opt_(opt), progress_(progress) {}

  // Makes the table ready (creating it when asked or missing) and starts the writer. The first
  // call decides; later ones return its outcome.
  Status prepare(const std::string& description, const std::optional<model::KeySchema>& hint) {
    std::lock_guard lock(mu_);
    if (prepared_) return prepare_error_ ? Status(*prepare_error_) : Status();
    prepared_ = true;
    Status st = do_prepare(description, hint);
    if (!st.ok()) {
      prepare_error_ = st.error();
    } else {
      ready_.store(true, std::memory_order_release);
    }
    return st;
  }
  bool prepared() const { return ready_.load(std::memory_order_acquire); }
  const model::KeySchema& schema() const { return schema_; }

  Status put(model::Item item) { return writer_->add({dynamodb::WriteRequest::Kind::kPut, std::move(item)}); }
  Status del(model::Item key) { return writer_->add({dynamodb::WriteRequest::Kind::kDelete, std::move(key)}); }
  Status finish() {
    if (!writer_) return {};
    Status st = writer_->finish();
    progress_.items_written = writer_->written();
    return st;
  }
  int64_t written() const { return writer_ ? writer_->written() : 0; }

 private:
  Status do_prepare(const std::string& description, const std::optional<model::KeySchema>& hint) {
    dynamodb::Client& c = *opt_.client;
    std::optional<model::KeySchema> wanted = opt_.key ? opt_.key : hint;
    if (!description.empty()) {
      DR_ASSIGN(model::KeySchema k, key_schema_from_description(description));
      wanted = k;
    }
    auto existing = c.describe_table(opt_.table);
    if (existing.ok()) {
      if (opt_.create_table) {
        return invalid_input(fmt::format("table {} already exists: --create-table makes a new table (drop the flag to "
                                         "load into the existing one)",
                                         opt_.display));
      }
      schema_ = existing->key_schema;
      if (wanted && !model::same_key_schema(*wanted, schema_)) {
        return invalid_input(fmt::format("table {} has key {} but the backup's items have key {}", opt_.display,
                                         key_spec(schema_), key_spec(*wanted)));
      }
      log(fmt::format("loading into existing table {}", opt_.display));
    } else {
      if (existing.error().kind != ErrorKind::kNotFound) return existing.error();
      if (!description.empty()) {
        DR_ASSIGN(std::string request, dynamodb::create_table_request(description, opt_.table));
        log(fmt::format("creating table {} from the backup's table description", opt_.display));
        DR_TRY(c.create_table(request));
      } else if (wanted) {
        log(fmt::format("creating table {} with key {} (on-demand)", opt_.display, key_spec(*wanted)));
        DR_TRY(c.create_table(opt_.table, *wanted));
      } else {
        return invalid_input(fmt::format("table {} does not exist and the source carries no table description: "
                                         "create the table first, or pass --key NAME:TYPE[,NAME:TYPE]",
                                         opt_.display));
      }
      DR_TRY(c.wait_until_active(opt_.table));
      DR_ASSIGN(dynamodb::TableDescription d, c.describe_table(opt_.table));
      schema_ = d.key_schema;
      progress_.table_created = true;
    }
    writer_.emplace(c, opt_.table, schema_,
                    dynamodb::BatchWriter::Options{.parallel = std::max(1, opt_.parallel),
                                                   .max_queued = 4096,
                                                   .progress = opt_.progress});
    return {};
  }
  void log(const std::string& line) {
    if (opt_.log != nullptr) *opt_.log << "restore: " << line << "\n";
  }

  const RestoreOptions& opt_;
  RestoreProgress& progress_;
  std::mutex mu_;
  bool prepared_ = false;
  std::atomic<bool> ready_{false};
  std::optional<Error> prepare_error_;
  model::KeySchema schema_;
  std::optional<dynamodb::BatchWriter> writer_;
};

// --- reading items ----------------------------------------------------------------------------

enum class LineShape { kUnknown, kItem, kAwsItem };

// Turns lines of one object into items: knows the object's shape (plain items, {"Item":...}
// lines, a description first line), and names object and line in every error.
class ObjectReader {
 public:
  // `sink` null: check only (verify).
  ObjectReader(Storage& storage, TableLoader* sink, std::optional<model::KeySchema> schema, std::atomic<bool>& cancel,
               std::atomic<int64_t>& items_read)
      : storage_(storage), sink_(sink), schema_(std::move(schema)), cancel_(cancel), items_read_(items_read) {}

  struct Outcome {
    ReadStats stats;
    int64_t items = 0;
    std::string description;  // a dyno export's first line
    LineShape shape = LineShape::kUnknown;
  };

  Result<Outcome> read(const SourceObject& obj, LineShape shape, bool allow_description, std::ostream* log,
                       std::mutex* log_mu) {
    Outcome out;
    out.shape = shape;
    const std::string where = display(obj.location);
    ReadOptions ro;
    ro.md5 = !obj.expected_md5.empty();
    ro.cancel = &cancel_;
    auto st = read_lines(storage_, obj.location, [&](std::string_view line, uint64_t n) -> Status {
      if (n == 1 && allow_description && is_description_line(line)) {
        out.description = std::string(line);
        if (log != nullptr) {
          std::lock_guard lock(*log_mu);
          *log << "restore: " << where << ": dyno export (table description on line 1)\n";
        }
        if (sink_ != nullptr) return sink_->prepare(out.description, std::nullopt);
        if (!schema_) {
          if (auto k = key_schema_from_description(out.description); k.ok()) schema_ = *k;
        }
        return {};
      }
      if (out.shape == LineShape::kUnknown) out.shape = sniff(line);
      Status s = item(line, out.shape);
      if (!s.ok()) return std::move(s).error().with_context(fmt::format("{} line {}", where, n));
      ++out.items;
      return {};
    }, ro);
    if (!st.ok()) return st.error();
    out.stats = *st;
    DR_TRY(check(obj, out));
    return out;
  }

 private:
  // {"Item":{...}} (an AWS export data line) when the line is that and is not itself an item.
  LineShape sniff(std::string_view line) {
    if (line.find("\"Item\"") == std::string_view::npos) return LineShape::kItem;
    if (model::parse_item(line).ok()) return LineShape::kItem;
    simdjson::dom::element doc, inner;
    if (dom_.parse(line.data(), line.size()).get(doc) || doc["Item"].get(inner)) return LineShape::kItem;
    simdjson::dom::object o;
    if (doc.get_object().get(o) || o.size() != 1) return LineShape::kItem;
    return model::parse_item(inner).ok() ? LineShape::kAwsItem : LineShape::kItem;
  }

  Status item(std::string_view line, LineShape shape) {
    model::Item it;
    if (shape == LineShape::kAwsItem) {
      simdjson::dom::element doc, inner;
      if (auto err = dom_.parse(line.data(), line.size()).get(doc)) {
        return invalid_input(fmt::format("malformed JSON: {}", simdjson::error_message(err)));
      }
      if (doc["Item"].get(inner)) return invalid_input("not an export line: no \"Item\"");
      DR_ASSIGN(it, model::parse_item(inner));
    } else {
      DR_TRY(parser_.parse_into(line, &it));
    }
    if (sink_ != nullptr && !sink_->prepared()) DR_TRY(sink_->prepare("", schema_));
    const model::KeySchema* schema = sink_ != nullptr ? &sink_->schema() : (schema_ ? &*schema_ : nullptr);
    if (schema != nullptr) {
      auto key = model::extract_key(it, *schema);
      if (!key.ok()) return key.error();
      size_t size = model::item_size(it);
      if (size > model::kMaxItemSize) {
        return invalid_input(fmt::format("item {} is {} bytes, over DynamoDB's 400 KB limit",
                                         model::canonical_key_json(*key), size));
      }
    }
    items_read_.fetch_add(1, std::memory_order_relaxed);
    if (sink_ != nullptr) return sink_->put(std::move(it));
    return {};
  }

  static Status check(const SourceObject& obj, const Outcome& out) {
    auto mismatch = [&](std::string what) {
      Error e = invalid_input(std::move(what) + (obj.manifest.empty() ? "" : " (" + obj.manifest + ")"));
      e.code = "ManifestMismatch";
      return e.with_context(display(obj.location));
    };
    if (obj.expected_size && *obj.expected_size != out.stats.stored_bytes) {
      return mismatch(fmt::format("is {} bytes but the manifest says {}: truncated or replaced",
                                  out.stats.stored_bytes, *obj.expected_size));
    }
    if (!obj.expected_sha256.empty() && obj.expected_sha256 != out.stats.sha256) {
      return mismatch(fmt::format("sha256 {} does not match the manifest's {}", out.stats.sha256, obj.expected_sha256));
    }
    if (!obj.expected_md5.empty() && obj.expected_md5 != out.stats.md5_base64) {
      return mismatch(fmt::format("MD5 {} does not match the manifest's md5Checksum {}", out.stats.md5_base64,
                                  obj.expected_md5));
    }
    if (obj.expected_items && *obj.expected_items != out.items) {
      return mismatch(fmt::format("holds {} items but the manifest says {}", out.items, *obj.expected_items));
    }
    return {};
  }

  Storage& storage_;
  TableLoader* sink_;
  std::optional<model::KeySchema> schema_;
  std::atomic<bool>& cancel_;
  std::atomic<int64_t>& items_read_;
  model::ItemParser parser_;
  simdjson::dom::parser dom_;
};

// --- detection --------------------------------------------------------------------------------

Result<Manifest> load_manifest(Storage& storage, const Location& loc) {
  DR_ASSIGN(std::string body, storage.read_all(loc, size_t{16} << 20));
  return parse_manifest(body, display(loc));
}

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

}  // namespace

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

namespace {

// Reads the plan's objects with `readers` threads into `sink` (null: check only).
Status read_plan(Storage& storage, const SourcePlan& plan, TableLoader* sink, int readers, std::ostream* log,
                 RestoreProgress& progress, std::atomic<int64_t>& items_read) {
  std::atomic<bool> cancel{false};
  std::mutex mu;
  std::vector<bool> done(plan.objects.size(), false);
  const bool single = plan.objects.size() == 1 && plan.format == SourceFormat::kLineFile;
  const LineShape shape = plan.format == SourceFormat::kAwsExport ? LineShape::kAwsItem
                          : plan.format == SourceFormat::kBackupJob ? LineShape::kItem
                                                                    : LineShape::kUnknown;
  Status st = detail::parallel_for(plan.objects.size(), readers, [&](size_t i) -> Status {
    ObjectReader reader(storage, sink, plan.key_schema, cancel, items_read);
    auto r = reader.read(plan.objects[i], shape, single, log, &mu);
    if (!r.ok()) {
      cancel.store(true);
      return r.error();
    }
    std::lock_guard lock(mu);
    done[i] = true;
    if (single && log != nullptr) {
      *log << "restore: " << display(plan.objects[i].location) << ": "
           << (r->description.empty() ? "" : "dyno export, ")
           << (r->shape == LineShape::kAwsItem ? "DynamoDB export data lines" : "item lines") << ", "
           << (r->stats.gzipped ? "gzip" : "plain") << ", " << group(r->items) << " items\n";
    }
    return {};
  });
  for (size_t i = 0; i < plan.objects.size(); ++i) {
    (done[i] ? progress.objects_done : progress.objects_left).push_back(display(plan.objects[i].location));
  }
  return st;
}

Status read_incremental(Storage& storage, const Location& dir, TableLoader* sink, int readers,
                        std::atomic<int64_t>& items_read) {
  std::atomic<bool> cancel{false};
  model::ItemParser parser;
  return for_each_incremental_body(storage, dir, readers, [&](const std::string& name, std::string_view body) -> Status {
    model::Item it;
    std::string_view line = body;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    Status st = parser.parse_into(line, &it);
    if (!st.ok()) return std::move(st).error().with_context(display(child(dir, name)));
    if (sink == nullptr) {
      items_read.fetch_add(1);
      return {};
    }
    if (!sink->prepared()) DR_TRY(sink->prepare("", std::nullopt));
    auto key = model::extract_key(it, sink->schema());
    if (!key.ok()) return std::move(key).error().with_context(display(child(dir, name)));
    items_read.fetch_add(1);
    return sink->put(std::move(it));
  });
}

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

}  // namespace

Status verify_source(Storage& storage, const SourcePlan& plan, std::ostream* log, int readers) {
  RestoreProgress scratch;
  std::atomic<int64_t> items{0};
  if (plan.incremental) return read_incremental(storage, plan.root, nullptr, readers, items);
  DR_TRY(read_plan(storage, plan, nullptr, readers, log, scratch, items));
  if (log != nullptr) *log << "restore: verified " << plan.objects.size() << " object(s), " << group(items.load()) << " items\n";
  return {};
}

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
  TableLoader loader(opt, progress);
  if (plan.format != SourceFormat::kLineFile) DR_TRY(loader.prepare(plan.description, plan.key_schema));
  std::atomic<int64_t> items_read{0};
  Status st = plan.incremental ? read_incremental(storage, plan.root, &loader, readers, items_read)
                               : read_plan(storage, plan, &loader, readers, log, progress, items_read);
  if (st.ok() && !loader.prepared()) {
    // An empty source: still make the table, so the result is the (empty) table.
    st = loader.prepare(plan.description, plan.key_schema);
  }
  if (st.ok() && opt.as_of) {
    // Replay the history window: last change per key wins.
    auto from = plan.manifest->start_time - opt.margin;
    std::unordered_map<std::string, HistoryEntry> last;
    st = read_history(storage, *opt.history, from, *opt.as_of, readers, [&](HistoryEntry&& e) -> Status {
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
    if (st.ok() && log != nullptr) {
      *log << "restore: history " << display(*opt.history) << ": " << group(progress.history_entries)
           << " changes in (" << format_time(from) << ", " << format_time(*opt.as_of) << "], " << group(static_cast<int64_t>(last.size()))
           << " keys\n";
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
  }
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
