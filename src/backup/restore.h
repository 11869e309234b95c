// restore: load a table from any backup source, detected automatically:
//
//   backup-job      a backup-table job directory `<prefix>/<jobid>/` (its segments; verified
//                   against manifest.json / manifest-<i>.json when present: segments complete,
//                   sizes, sha256 and item counts); also a job root holding several jobs with
//                   --as-of (the latest complete job that ended at or before the time)
//   line-file       one file of the line format, gzipped or plain: a single backup object, an
//                   incremental snapshot, `dyno scan` output, a local file or stdin ("-")
//   dyno-export     the same with dyno export's table description as its first line
//   aws-export      DynamoDB's own "export to S3" (DYNAMODB_JSON): the folder holding
//                   manifest-summary.json (or its parent AWSDynamoDB/ folder with one export),
//                   data/*.json.gz of {"Item":{...}} lines; counts and MD5s verified against
//                   manifest-files.json
//   incremental     an incremental backup's `<prefix>/<table>/` (one object per item)
//
// Items are written with BatchWriteItem by `parallel` workers, unprocessed items retried until
// done. The first bad thing (corrupt gzip, truncated object, a line that is not an item, a
// missing segment, a manifest that disagrees) stops the restore with an error naming the
// object and line; RestoreProgress then says how much was written. Puts are idempotent:
// running the same restore again after fixing the cause completes it.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "backup/manifest.h"
#include "backup/storage.h"
#include "core/clock.h"
#include "core/progress.h"
#include "core/result.h"
#include "model/item.h"

namespace dynarep::dynamodb {
class Client;
}

namespace dynarep::backup {

enum class SourceFormat { kBackupJob, kLineFile, kDynoExport, kAwsExport, kIncremental };
std::string_view to_string(SourceFormat f);

// One object to read.
struct SourceObject {
  Location location;
  std::optional<uint64_t> size;       // as listed
  // From a manifest, when there is one.
  std::optional<int64_t> expected_items;
  std::optional<uint64_t> expected_size;
  std::string expected_sha256;        // hex; backup-table manifests
  std::string expected_md5;           // base64; AWS export manifests
  std::string manifest;               // which manifest said so, for messages
};

struct SourcePlan {
  SourceFormat format = SourceFormat::kLineFile;
  Location root;                      // what was given (or the job chosen by --as-of)
  std::string summary;                // "backup-table job s3://b/p/j: 1 segment, manifest.json (1,000 items)"
  std::vector<SourceObject> objects;  // in reading order
  std::optional<Manifest> manifest;   // backup-job: merged over its manifests
  std::string description;            // table description line, when known before reading
  std::optional<model::KeySchema> key_schema;
  std::optional<int64_t> expected_items;
  std::vector<std::string> warnings;  // "no manifest: completeness cannot be checked"
  bool incremental = false;           // objects are bare item bodies (incremental backup)
};

// Looks at `src` and decides what it is. Errors when it is none of the accepted formats, when
// a job is incomplete (a segment or its manifest missing) or its manifests disagree, and when
// listed sizes contradict a manifest (a truncated object): all before anything is written.
Result<SourcePlan> detect_source(Storage& storage, const Location& src);

// For --as-of: among the jobs under `root` (or `root` itself, a job), the complete one with the
// latest end time <= as_of.
Result<SourcePlan> choose_backup_job(Storage& storage, const Location& root,
                                     std::chrono::system_clock::time_point as_of);

struct RestoreOptions {
  dynamodb::Client* client = nullptr;  // required
  std::string table;
  std::string display;                 // "us-east-1/orders", for messages
  bool create_table = false;           // create it; an error if it exists
  std::optional<model::KeySchema> key; // --key: to create a table when no description is known
  int parallel = 8;                    // BatchWriteItem workers (default 8)
  int readers = 4;                     // objects read at once (default 4)
  bool verify_first = false;           // read and check every object before writing anything
  Progress* progress = nullptr;        // items written
  std::ostream* log = nullptr;         // what was detected, warnings
  // Point-in-time restore: a full backup (chosen from `src` as above), then the history log
  // entries with times in (backup start - margin, as_of], last change per key wins.
  std::optional<std::chrono::system_clock::time_point> as_of;
  std::optional<Location> history;     // `<incremental prefix>/<table>` (its history/ is read)
  std::chrono::milliseconds margin{std::chrono::minutes(5)};  // clock-skew allowance (default 5 min)
  // Restore --as-of even when the history does not reach it (its newest entry is older: the
  // incremental backup lags, or the table was idle). Without it that is an error, code
  // "IncompleteHistory", before anything is written.
  bool allow_incomplete_history = false;
};

struct RestoreProgress {
  std::string detected;                // plan summary
  int64_t items_written = 0;
  int64_t items_read = 0;
  std::vector<std::string> objects_done;   // fully read and verified
  std::vector<std::string> objects_left;   // not (fully) read
  int64_t history_entries = 0;         // PITR: entries in the window
  int64_t history_puts = 0, history_deletes = 0;
  bool table_created = false;
};

// Restores; `progress` is filled in as it goes, so it is meaningful after an error too.
Status restore(Storage& storage, const Location& src, const RestoreOptions& options, RestoreProgress& progress);

// Checks every object of a source without writing (counts, checksums, every line parsed):
// what --verify-first does before it writes.
Status verify_source(Storage& storage, const SourcePlan& plan, std::ostream* log, int readers);

}  // namespace dynarep::backup
