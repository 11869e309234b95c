// diff-tables: prove a replica table equal to its primary, find what differs, repair it.
//
// Both tables are read by Scan only (eventually consistent, ~1/40 read unit per 200-byte item
// on DynamoDB), never item by item: each scanned item becomes a small record (128-bit key id,
// 128-bit fingerprint of the item's canonical bytes, the key's JSON) spilled to files
// partitioned by key id. Partition by partition, the primary's records go into a hash table
// and the replica's stream past it; a key seen on one side only, or with different
// fingerprints, is a *suspect*. Only suspects are read again, with ConsistentRead on both
// tables, and compared with full Item equality (docs/formats.md §1). The scans were the first
// observation of a suspect; the re-read, at least `settle` after them, is the second: a
// difference both observations agree on is real; an item that changed in between was being
// written, and is observed once more. Only what is confirmed is reported, and repaired with
// --repair.
//
// Memory is bounded whatever the table size: scan pages in flight, one partition's hash table,
// and re-check batches of at most 100 keys / ~2 MB.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "dynamodb/client.h"
#include "model/item.h"

namespace dynarep::diff {

// What is wrong with one key on the replica.
enum class Kind {
  kMissing,     // in the primary, not in the replica
  kDifferent,   // in both, not equal
  kExtraneous,  // in the replica, not in the primary
};
// "missing", "different", "extraneous"
std::string_view to_string(Kind kind);

struct Discrepancy {
  Kind kind = Kind::kMissing;
  model::Item key;
  bool repaired = false;  // with --repair: the replica now holds the primary's version (or nothing)
};

// A table and the client for its endpoint.
struct TableRef {
  dynamodb::Client* client = nullptr;
  std::string table;    // the name DynamoDB knows
  std::string display;  // as the user typed it ("us-east-1/orders"), for messages
};

struct DiffOptions {
  // Scan slicing. `total_segments` is the Scan's TotalSegments (0: chosen from the primary's
  // size: one per 128 MiB, at least 8 and at least `parallel`, at most 1024); `segments` are the
  // ones this run covers (empty: all). Both tables are scanned with the same slicing.
  int total_segments = 0;
  std::vector<int> segments;
  int parallel = 4;          // segments scanned at once per table; also re-check workers
  double rate_limit = 0;     // items scanned per second, both tables together; <= 0: no limit
  // Items per Scan page (the request's Limit); 0: the service's own pages of up to 1 MB. A page
  // in flight costs memory about ten times its size (response, JSON tape, parsed items), and
  // 2 x parallel pages are in flight: 1000 items keeps that near 2-3 MB each for small items,
  // for a few percent more requests.
  int page_limit = 1000;
  bool repair = false;       // make the replica match: put the primary's version, delete extraneous
  bool backfill = false;     // copy every primary item to the replica, without comparing
  // The scans are the first observation of each suspect. A consistent re-read of both tables
  // at least `settle` after the scans confirms a difference when it sees the same versions the
  // scans saw; when it finds an item changed (a write in flight), the key is read again after
  // another `settle`, up to `max_rounds` re-reads, the last of which reports whatever still
  // differs. Set it above the replication lag. 0: report what the first re-read finds, at once.
  std::chrono::milliseconds settle{2000};
  int max_rounds = 3;
  std::string temp_dir;             // parent of the private spill directory; empty: $TMPDIR or /tmp
  size_t partition_bytes = 4 << 20;  // spilled bytes (both tables) aimed at per partition
  // First-level partitions = 2^partition_bits (at most 2^8); -1: from the tables' item counts.
  // A partition larger than 3 x partition_bytes is split 16 ways when compared, so a wrong
  // count costs time, not memory.
  int partition_bits = -1;
  // Progress (items scanned, keys compared, rate, ETA) on this stream; none when null.
  std::ostream* progress = nullptr;
  bool progress_tty = false;
  std::string progress_label = "diff-tables";
  Clock* clock = nullptr;  // settle waits; null: the system clock
  // Called once per discrepancy, after its repair, never concurrently (from worker threads).
  std::function<void(const Discrepancy&)> on_discrepancy;
};

struct DiffSummary {
  int total_segments = 0;
  std::vector<int> segments;  // the ones scanned
  int64_t scanned_primary = 0;
  int64_t scanned_replica = 0;
  int64_t compared = 0;   // distinct keys compared (present in either table)
  int64_t suspects = 0;   // keys re-read with consistent reads
  int64_t settled = 0;    // suspects found equal on a re-read (writes that were in flight)
  int64_t missing = 0;
  int64_t different = 0;
  int64_t extraneous = 0;
  int64_t repaired = 0;
  int64_t backfilled = 0;  // --backfill: items written to the replica
  int partitions = 0;      // spill partitions (first level)
  int rounds = 0;          // re-read rounds run
  double read_units = 0;   // consumed read capacity, both tables (ReturnConsumedCapacity)
  double write_units = 0;  // consumed write capacity on the replica
  double elapsed_seconds = 0;
  // Where the time went (wall clock): both scans (concurrent, spilling included), comparing
  // the partitions, waiting for `settle`, re-reading suspects (and repairing them).
  double scan_seconds = 0;
  double compare_seconds = 0;
  double settle_seconds = 0;
  double reread_seconds = 0;
  int64_t discrepancies() const { return missing + different + extraneous; }
};

// Compares (or, with backfill, copies) primary -> replica. Fails when a table does not exist,
// when their key schemas differ, or on a service error that retries could not fix; the
// discrepancies reported before a failure stand.
Result<DiffSummary> diff_tables(const TableRef& primary, const TableRef& replica,
                                const DiffOptions& options);

// Describes both tables and checks that their key schemas are equal; returns the schema.
// Errors name the table ("replica table us-east-1/t does not exist").
Result<model::KeySchema> check_tables(const TableRef& primary, const TableRef& replica,
                                      dynamodb::TableDescription* primary_desc = nullptr,
                                      dynamodb::TableDescription* replica_desc = nullptr);

}  // namespace dynarep::diff
