// backup-table: scan a table (parallel segments, raw wire lines: no item model is built) and
// stream the items, gzipped, to `<dest>/<jobid>/<segment>`, then write the manifest LAST.
//
// One process, any --parallel: ONE data object, segment 0, every scan segment merged through
// one gzip stream (the original tool's layout, one file for users to handle), and
// `<jobid>/manifest.json`. With --segment i --segments n (one process per machine): this process
// scans its share and writes `<jobid>/<i>` and `<jobid>/manifest-<i>.json`; with --parallel P
// as well, the table is scanned as n*P segments and this process takes i*P..i*P+P-1 (every
// machine must pass the same P: restore checks that the manifests' scan segments tile
// 0..n*P-1 exactly).
//
// Memory: pages in flight (one per scan worker) + one 1 MiB gzip block + the S3 part buffers
// (parts_in_flight + 1 = 3 parts of 8 MiB). Never the table.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "backup/manifest.h"
#include "backup/storage.h"
#include "core/clock.h"
#include "core/progress.h"
#include "core/result.h"

namespace dynarep::dynamodb {
class Client;
}

namespace dynarep::backup {

struct BackupOptions {
  std::string table;
  std::string source_display;     // "us-east-1/orders", for the manifest
  Location dest;                  // prefix (S3 or a local directory), or "-" (stdout: no manifest)
  std::string jobid;              // empty: 16 random hex digits
  std::optional<int> segment;     // --segment i (with segments > 1)
  int segments = 1;               // --segments n
  int parallel = 4;               // scan workers in this process (default 4)
  int gzip_level = 6;             // libdeflate level (default 6)
  // S3 upload: 8 MiB parts, 2 in flight (default). The gzip stream is ~5-10x smaller than the
  // scan's output, so two parts in flight keep up with any scan and keep memory at 3 parts.
  SinkOptions sink{.part_size = size_t{8} << 20, .parts_in_flight = 2};
  double rate_limit = 0;          // items/s, <= 0: none
  bool consistent_read = false;
  Progress* progress = nullptr;
  Clock* clock = nullptr;         // null: SystemClock
};

struct BackupResult {
  Manifest manifest;
  Location data;                  // the data object written
  std::optional<Location> manifest_location;  // none for stdout
  double read_units = 0;
};

Result<BackupResult> backup_table(dynamodb::Client& client, Storage& storage, const BackupOptions& options);

// The job directory `<dest>/<jobid>`.
Location job_location(const Location& dest, const std::string& jobid);

}  // namespace dynarep::backup
