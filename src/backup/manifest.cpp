#include "backup/manifest.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <charconv>
#include <ctime>

#include "core/json_writer.h"
#include "stream/record.h"

namespace dynarep::backup {
namespace {

using std::chrono::system_clock;

Error bad_manifest(std::string_view where, std::string_view what) {
  return invalid_input(fmt::format("not a valid backup manifest: {}", what)).with_context(where);
}

std::string type_letter(model::Type t) { return std::string(model::type_tag(t)); }

void write_key_schema(JsonWriter& w, const model::KeySchema& k) {
  w.key("key_schema").begin_object();
  w.key("hash").begin_object().field("name", k.hash_name).field("type", type_letter(k.hash_type)).end_object();
  if (k.has_range()) {
    w.key("range").begin_object().field("name", k.range_name).field("type", type_letter(k.range_type)).end_object();
  }
  w.end_object();
}

Result<model::Type> key_type(std::string_view tag) {
  model::Type t;
  if (!model::type_from_tag(tag, &t) || (t != model::Type::kS && t != model::Type::kN && t != model::Type::kB)) {
    return invalid_input(fmt::format("key type \"{}\" is not S, N or B", tag));
  }
  return t;
}

}  // namespace

std::string segment_manifest_name(int segment) { return fmt::format("manifest-{}.json", segment); }

bool is_segment_name(std::string_view name) {
  if (name.empty() || name.size() > 9) return false;
  if (name.size() > 1 && name[0] == '0') return false;
  for (char c : name) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::optional<int> parse_segment_manifest_name(std::string_view name) {
  constexpr std::string_view kPre = "manifest-", kPost = ".json";
  if (name.size() <= kPre.size() + kPost.size() || !name.starts_with(kPre) || !name.ends_with(kPost)) {
    return std::nullopt;
  }
  std::string_view digits = name.substr(kPre.size(), name.size() - kPre.size() - kPost.size());
  if (!is_segment_name(digits)) return std::nullopt;
  int v = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), v);
  return v;
}

std::string to_json(const Manifest& m) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.field("format", m.format).field("version", m.version);
  w.field("table", m.table).field("source", m.source).field("jobid", m.jobid);
  w.field("segments", m.segments);
  if (m.segment) w.field("segment", *m.segment);
  w.key("scan").begin_object().field("total_segments", m.scan_total_segments).key("segments").begin_array();
  for (int s : m.scan_segments) w.number(s);
  w.end_array().end_object();
  w.field("start_time", format_time(m.start_time)).field("end_time", format_time(m.end_time));
  write_key_schema(w, m.key_schema);
  w.key("description");
  if (m.description.empty()) {
    w.raw("null");
  } else {
    w.raw(m.description);
  }
  w.field("table_item_count", m.table_item_count);
  w.key("objects").begin_array();
  for (const auto& o : m.objects) {
    w.begin_object()
        .field("segment", o.segment)
        .field("name", o.name)
        .field("items", o.items)
        .field("bytes", static_cast<int64_t>(o.bytes))
        .field("gzip_bytes", static_cast<int64_t>(o.gzip_bytes))
        .field("sha256", o.sha256)
        .end_object();
  }
  w.end_array();
  w.field("items", m.items).field("bytes", static_cast<int64_t>(m.bytes)).field("gzip_bytes", static_cast<int64_t>(m.gzip_bytes));
  w.end_object();
  return out;
}

namespace {

// Reads typed fields of one manifest, each error naming the manifest and the field.
struct ManifestFields {
  std::string_view where;

  Status str(simdjson::dom::object obj, const char* name, std::string& out, bool required) const {
    std::string_view v;
    auto e = obj[name];
    if (e.error()) return required ? Status(bad_manifest(where, fmt::format("\"{}\" missing", name))) : Status();
    if (e.get_string().get(v)) return bad_manifest(where, fmt::format("\"{}\" is not a string", name));
    out = std::string(v);
    return {};
  }
  // An absent optional field leaves `out` as it is.
  Status integer(simdjson::dom::object obj, const char* name, int64_t& out, bool required) const {
    auto e = obj[name];
    if (e.error()) return required ? Status(bad_manifest(where, fmt::format("\"{}\" missing", name))) : Status();
    if (e.get_int64().get(out)) return bad_manifest(where, fmt::format("\"{}\" is not an integer", name));
    return {};
  }
  // A required integer in [lo, hi].
  Result<int> in_range(simdjson::dom::object obj, const char* name, int64_t lo, int64_t hi,
                       std::string_view label) const {
    int64_t v = 0;
    DR_TRY(integer(obj, name, v, true));
    if (v < lo || v > hi) return bad_manifest(where, fmt::format("\"{}\" out of range", label));
    return static_cast<int>(v);
  }
};

// format, version, table, source, jobid, segments, segment.
Status parse_job(const ManifestFields& f, simdjson::dom::object o, Manifest& m) {
  DR_TRY(f.str(o, "format", m.format, true));
  if (m.format != kManifestFormat) {
    return bad_manifest(f.where, fmt::format("format is \"{}\", expected \"{}\"", m.format, kManifestFormat));
  }
  int64_t v = 0;
  DR_TRY(f.integer(o, "version", v, true));
  if (v < 1 || v > kManifestVersion) {
    return bad_manifest(f.where, fmt::format("version {} is not supported (this dynarep reads up to {})", v,
                                             kManifestVersion));
  }
  m.version = static_cast<int>(v);
  DR_TRY(f.str(o, "table", m.table, true));
  DR_TRY(f.str(o, "source", m.source, false));
  DR_TRY(f.str(o, "jobid", m.jobid, true));
  DR_ASSIGN(m.segments, f.in_range(o, "segments", 1, 1000000, "segments"));
  if (!o["segment"].error()) {
    DR_ASSIGN(m.segment, f.in_range(o, "segment", 0, m.segments - 1, "segment"));
  }
  return {};
}

// scan: total_segments and the segments this job covered.
Status parse_scan(const ManifestFields& f, simdjson::dom::object o, Manifest& m) {
  simdjson::dom::object scan;
  if (o["scan"].get_object().get(scan)) return bad_manifest(f.where, "\"scan\" missing");
  DR_ASSIGN(m.scan_total_segments, f.in_range(scan, "total_segments", 1, 1000000, "scan.total_segments"));
  simdjson::dom::array segs;
  if (scan["segments"].get_array().get(segs)) return bad_manifest(f.where, "\"scan.segments\" missing");
  for (auto s : segs) {
    int64_t n = 0;
    if (s.get_int64().get(n) || n < 0 || n >= m.scan_total_segments) {
      return bad_manifest(f.where, "\"scan.segments\" has a bad entry");
    }
    m.scan_segments.push_back(static_cast<int>(n));
  }
  return {};
}

Status parse_times(const ManifestFields& f, simdjson::dom::object o, Manifest& m) {
  for (const char* name : {"start_time", "end_time"}) {
    std::string text;
    DR_TRY(f.str(o, name, text, true));
    auto t = parse_time(text);
    if (!t.ok()) return bad_manifest(f.where, fmt::format("\"{}\": {}", name, t.error().message));
    (std::string_view(name) == "start_time" ? m.start_time : m.end_time) = *t;
  }
  return {};
}

Status parse_key_schema(const ManifestFields& f, simdjson::dom::object o, Manifest& m) {
  simdjson::dom::object ks;
  if (o["key_schema"].get_object().get(ks)) return bad_manifest(f.where, "\"key_schema\" missing");
  for (const char* part : {"hash", "range"}) {
    const bool hash = std::string_view(part) == "hash";
    simdjson::dom::object p;
    if (ks[part].get_object().get(p)) {
      if (hash) return bad_manifest(f.where, "\"key_schema.hash\" missing");
      continue;
    }
    std::string_view name, type;
    if (p["name"].get_string().get(name) || p["type"].get_string().get(type) || name.empty()) {
      return bad_manifest(f.where, fmt::format("\"key_schema.{}\" needs a name and a type", part));
    }
    auto t = key_type(type);
    if (!t.ok()) return bad_manifest(f.where, t.error().message);
    (hash ? m.key_schema.hash_name : m.key_schema.range_name) = std::string(name);
    (hash ? m.key_schema.hash_type : m.key_schema.range_type) = *t;
  }
  return {};
}

Result<ObjectEntry> parse_object(const ManifestFields& f, simdjson::dom::element e) {
  simdjson::dom::object eo;
  if (e.get_object().get(eo)) return bad_manifest(f.where, "\"objects\" has an entry that is not an object");
  ObjectEntry oe;
  int64_t n = 0;
  DR_TRY(f.integer(eo, "segment", n, true));
  oe.segment = static_cast<int>(n);
  std::string_view s;
  if (eo["name"].get_string().get(s)) return bad_manifest(f.where, "an object entry has no \"name\"");
  oe.name = std::string(s);
  if (!is_segment_name(oe.name)) {
    return bad_manifest(f.where, fmt::format("object name \"{}\" is not a segment number", oe.name));
  }
  DR_TRY(f.integer(eo, "items", oe.items, true));
  DR_TRY(f.integer(eo, "bytes", n, true));
  oe.bytes = static_cast<uint64_t>(n);
  DR_TRY(f.integer(eo, "gzip_bytes", n, true));
  oe.gzip_bytes = static_cast<uint64_t>(n);
  if (eo["sha256"].get_string().get(s) || s.size() != 64) {
    return bad_manifest(f.where, "an object entry has no 64-digit \"sha256\"");
  }
  oe.sha256 = std::string(s);
  return oe;
}

// objects, items, bytes, gzip_bytes; items must be the objects' sum.
Status parse_objects(const ManifestFields& f, simdjson::dom::object o, Manifest& m) {
  simdjson::dom::array objs;
  if (o["objects"].get_array().get(objs)) return bad_manifest(f.where, "\"objects\" missing");
  for (auto e : objs) {
    DR_ASSIGN(ObjectEntry oe, parse_object(f, e));
    m.objects.push_back(std::move(oe));
  }
  DR_TRY(f.integer(o, "items", m.items, true));
  // Optional totals: absent means 0 (not whatever was read before them).
  int64_t bytes = 0, gzip_bytes = 0;
  DR_TRY(f.integer(o, "bytes", bytes, false));
  DR_TRY(f.integer(o, "gzip_bytes", gzip_bytes, false));
  m.bytes = static_cast<uint64_t>(bytes);
  m.gzip_bytes = static_cast<uint64_t>(gzip_bytes);
  int64_t sum = 0;
  for (const auto& e : m.objects) sum += e.items;
  if (sum != m.items) {
    return bad_manifest(f.where, fmt::format("\"items\" is {} but its objects hold {}", m.items, sum));
  }
  return {};
}

}  // namespace

Result<Manifest> parse_manifest(std::string_view json, std::string_view where) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(json.data(), json.size()).get(doc)) {
    return bad_manifest(where, fmt::format("malformed JSON: {}", simdjson::error_message(err)));
  }
  simdjson::dom::object o;
  if (doc.get_object().get(o)) return bad_manifest(where, "not a JSON object");
  const ManifestFields f{where};
  Manifest m;
  DR_TRY(parse_job(f, o, m));
  DR_TRY(parse_scan(f, o, m));
  DR_TRY(parse_times(f, o, m));
  DR_TRY(parse_key_schema(f, o, m));
  simdjson::dom::element desc;
  if (!o["description"].get(desc) && !desc.is_null()) {
    if (!desc.is_object()) return bad_manifest(where, "\"description\" is not an object");
    m.description = simdjson::minify(desc);
  }
  DR_TRY(f.integer(o, "table_item_count", m.table_item_count, false));
  DR_TRY(parse_objects(f, o, m));
  return m;
}

Result<model::KeySchema> parse_key_spec(std::string_view text) {
  model::KeySchema k;
  auto bad = [&](std::string_view why) {
    return invalid_input(fmt::format("--key \"{}\": {} (expected NAME:TYPE[,NAME:TYPE], TYPE S, N or B)", text, why));
  };
  std::string_view rest = text;
  for (int part = 0; part < 2 && !rest.empty(); ++part) {
    size_t comma = rest.find(',');
    std::string_view one = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t colon = one.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return bad("missing NAME:TYPE");
    auto t = key_type(one.substr(colon + 1));
    if (!t.ok()) return bad(t.error().message);
    if (part == 0) {
      k.hash_name = std::string(one.substr(0, colon));
      k.hash_type = *t;
    } else {
      k.range_name = std::string(one.substr(0, colon));
      k.range_type = *t;
    }
    if (part == 1 && !rest.empty()) return bad("more than two key attributes");
  }
  if (k.hash_name.empty()) return bad("empty");
  return k;
}

std::string format_time(system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int millis = static_cast<int>(ms - secs * 1000);
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

Result<system_clock::time_point> parse_time(std::string_view text) {
  if (text.empty()) return invalid_input("empty time");
  bool numeric = true;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || c == '.')) numeric = false;
  }
  if (numeric) {
    double v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size() || !(v >= 0 && v < 1e11)) {
      return invalid_input(fmt::format("\"{}\" is not a time (epoch seconds)", text));
    }
    auto us = static_cast<int64_t>(v * 1e6);
    return system_clock::time_point(std::chrono::microseconds(us));
  }
  if (text.size() == 10) {  // a date alone
    std::string full = std::string(text) + "T00:00:00Z";
    return stream::creation_time_from_iso8601(full);
  }
  auto t = stream::creation_time_from_iso8601(text);
  if (!t.ok()) {
    return invalid_input(fmt::format("\"{}\" is not a time: give ISO 8601 (2024-05-01T12:00:00Z) or epoch seconds",
                                     text));
  }
  return t;
}

}  // namespace dynarep::backup
