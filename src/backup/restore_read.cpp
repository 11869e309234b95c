// restore, read: objects' lines into items, each object verified against its manifest entry
// (backup/detail/restore_parts.h).
#include <fmt/format.h>
#include <simdjson.h>

#include <ostream>

#include "backup/detail/parallel.h"
#include "backup/detail/restore_parts.h"
#include "backup/incremental.h"
#include "backup/reader.h"
#include "dynamodb/table_load.h"
#include "model/codec.h"

namespace dynarep::backup::detail {
namespace {

std::string group(int64_t n) { return Progress::group_digits(n); }

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
      if (n == 1 && allow_description && dynamodb::is_description_line(line)) {
        out.description = std::string(line);
        if (log != nullptr) {
          std::lock_guard lock(*log_mu);
          *log << "restore: " << where << ": dyno export (table description on line 1)\n";
        }
        if (sink_ != nullptr) return sink_->prepare(out.description, std::nullopt);
        if (!schema_) {
          if (auto k = dynamodb::key_schema_from_description(out.description); k.ok()) schema_ = *k;
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
    if (schema != nullptr) DR_TRY(dynamodb::check_load_item(it, *schema));
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

}  // namespace

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
  Status st = parallel_for(plan.objects.size(), readers, [&](size_t i) -> Status {
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
    auto key = dynamodb::check_load_item(it, sink->schema());
    if (!key.ok()) return std::move(key).error().with_context(display(child(dir, name)));
    items_read.fetch_add(1);
    return sink->put(std::move(it));
  });
}

}  // namespace dynarep::backup::detail

namespace dynarep::backup {

Status verify_source(Storage& storage, const SourcePlan& plan, std::ostream* log, int readers) {
  RestoreProgress scratch;
  std::atomic<int64_t> items{0};
  if (plan.incremental) return detail::read_incremental(storage, plan.root, nullptr, readers, items);
  DR_TRY(detail::read_plan(storage, plan, nullptr, readers, log, scratch, items));
  if (log != nullptr) *log << "restore: verified " << plan.objects.size() << " object(s), " << Progress::group_digits(items.load()) << " items\n";
  return {};
}

}  // namespace dynarep::backup
