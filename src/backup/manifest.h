// The manifest of a backup-table job: written LAST, after every data object it lists, so its
// presence is what makes a backup complete ("commit the manifest last").
//
// Layout (docs/formats.md §4.1; the manifest's fields: §4.5):
//   <prefix>/<jobid>/<segment>             gzip of the line format, segment 0 when not split
//   <prefix>/<jobid>/manifest.json         one process wrote the whole job (any --parallel)
//   <prefix>/<jobid>/manifest-<i>.json     --segment i --segments n: one per machine
// Manifest names start with a letter, so they never collide with segment numbers.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "model/item.h"

namespace dynarep::backup {

inline constexpr std::string_view kManifestFormat = "dynarep-backup";
inline constexpr int kManifestVersion = 1;
inline constexpr std::string_view kJobManifestName = "manifest.json";

// "manifest-<i>.json"
std::string segment_manifest_name(int segment);
// True for "0", "1", ... (a data object's name in a job): digits only, no leading zero.
bool is_segment_name(std::string_view name);
// The segment of "manifest-<i>.json", or nullopt.
std::optional<int> parse_segment_manifest_name(std::string_view name);

// One data object of a job.
struct ObjectEntry {
  int segment = 0;
  std::string name;          // relative to the job: "0"
  int64_t items = 0;         // lines (one item each)
  uint64_t bytes = 0;        // uncompressed line bytes
  uint64_t gzip_bytes = 0;   // the object's size as stored
  std::string sha256;        // lower-case hex of the stored (gzipped) object
};

struct Manifest {
  std::string format = std::string(kManifestFormat);
  int version = kManifestVersion;
  std::string table;         // the table's name
  std::string source;        // as the user typed it: "us-east-1/orders"
  std::string jobid;
  int segments = 1;          // data objects that make the job: 0..segments-1
  std::optional<int> segment;  // set in manifest-<i>.json: the one segment this manifest covers
  // How the table was scanned: TotalSegments, and the scan segments this manifest's objects
  // hold. Across a job's manifests the scan segments must cover 0..scan_total_segments-1
  // exactly once: restore checks it.
  int scan_total_segments = 1;
  std::vector<int> scan_segments;
  std::chrono::system_clock::time_point start_time{};  // before the first Scan call
  std::chrono::system_clock::time_point end_time{};    // after the last data object was complete
  model::KeySchema key_schema;
  std::string description;   // dyno export's description line (compact JSON); may be empty
  int64_t table_item_count = -1;  // DescribeTable's ItemCount (approximate, ~6 h old)
  std::vector<ObjectEntry> objects;
  int64_t items = 0;
  uint64_t bytes = 0;
  uint64_t gzip_bytes = 0;
};

std::string to_json(const Manifest& manifest);
// `where` names the manifest in errors ("s3://b/p/j/manifest.json").
Result<Manifest> parse_manifest(std::string_view json, std::string_view where);

// Key schema from "id:S" or "id:S,ts:N" (the --key option). Key schemas are printed by
// model::describe_key_schema ("id (S), ts (N)") only.
Result<model::KeySchema> parse_key_spec(std::string_view text);

// ISO 8601 UTC with milliseconds: "2024-05-01T12:00:00.123Z".
std::string format_time(std::chrono::system_clock::time_point t);
// ISO 8601 ("2024-05-01T12:00:00Z", fractions and offsets allowed; a date alone is midnight
// UTC), or seconds since the epoch ("1714564800", "1714564800.5").
Result<std::chrono::system_clock::time_point> parse_time(std::string_view text);

}  // namespace dynarep::backup
