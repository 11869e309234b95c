#include "backup/backup_table.h"

#include <fmt/format.h>

#include <mutex>

#include "compress/gzip.h"
#include "crypto/random.h"
#include "dynamodb/client.h"
#include "dynamodb/parallel.h"

namespace dynarep::backup {

Location job_location(const Location& dest, const std::string& jobid) { return child(dest, jobid); }

Result<BackupResult> backup_table(dynamodb::Client& client, Storage& storage, const BackupOptions& opt) {
  Clock& clock = opt.clock != nullptr ? *opt.clock : SystemClock::instance();
  if (opt.segments < 1) return invalid_input("--segments must be at least 1");
  if (opt.segment && (*opt.segment < 0 || *opt.segment >= opt.segments)) {
    return invalid_input(fmt::format("--segment {} is outside 0..{}", *opt.segment, opt.segments - 1));
  }
  if (!opt.segment && opt.segments > 1) return invalid_input("--segments needs --segment");
  const int parallel = std::max(1, opt.parallel);

  Manifest m;
  m.table = opt.table;
  m.source = opt.source_display;
  m.jobid = opt.jobid.empty() ? crypto::random_hex(8) : opt.jobid;
  m.segments = opt.segments;
  m.segment = opt.segment;
  const int seg = opt.segment.value_or(0);

  DR_ASSIGN(dynamodb::TableDescription desc, client.describe_table(opt.table));
  m.key_schema = desc.key_schema;
  m.table_item_count = desc.item_count;
  if (auto line = dynamodb::export_description(desc); line.ok()) m.description = *line;

  dynamodb::ParallelScanOptions scan;
  scan.table = opt.table;
  scan.total_segments = opt.segments * parallel;
  for (int i = 0; i < parallel; ++i) scan.segments.push_back(seg * parallel + i);
  scan.parallel = parallel;
  scan.consistent_read = opt.consistent_read;
  RateLimiter limiter(opt.rate_limit);
  if (opt.rate_limit > 0) scan.rate_limiter = &limiter;
  m.scan_total_segments = scan.total_segments;
  m.scan_segments = scan.segments;

  const bool to_stdio = opt.dest.kind == Location::Kind::kStdio;
  Location data = to_stdio ? opt.dest : child(job_location(opt.dest, m.jobid), std::to_string(seg));
  DR_ASSIGN(std::unique_ptr<ObjectSink> sink, storage.open_sink(data, opt.sink));

  m.start_time = clock.now();
  std::mutex mu;
  int64_t lines = 0;
  compress::GzipWriter gz([&](std::string_view bytes) { return sink->write(bytes); },
                          compress::GzipWriterOptions{.level = opt.gzip_level});
  auto totals = dynamodb::parallel_scan_raw(client, scan, [&](int, dynamodb::RawScanPage& page) -> Status {
    if (page.items.empty()) return {};
    std::string chunk;
    size_t n = 0;
    for (const auto& l : page.items) n += l.size() + 1;
    chunk.reserve(n);
    for (const auto& l : page.items) {
      chunk += l;
      chunk += '\n';
    }
    {
      std::lock_guard lock(mu);
      DR_TRY(gz.write(chunk));
      lines += static_cast<int64_t>(page.items.size());
    }
    if (opt.progress != nullptr) opt.progress->add(static_cast<int64_t>(page.items.size()));
    return {};
  });
  if (!totals.ok()) return std::move(totals).error().with_context("backup of table " + opt.table);
  DR_TRY(gz.finish());
  auto done = sink->finish();
  if (!done.ok()) return std::move(done).error().with_context("backup of table " + opt.table);
  m.end_time = clock.now();

  ObjectEntry e;
  e.segment = seg;
  e.name = std::to_string(seg);
  e.items = lines;
  e.bytes = gz.bytes_in();
  e.gzip_bytes = done->size;
  e.sha256 = done->sha256;
  m.objects.push_back(e);
  m.items = lines;
  m.bytes = e.bytes;
  m.gzip_bytes = e.gzip_bytes;

  BackupResult r;
  r.data = data;
  r.read_units = totals->read_units;
  if (!to_stdio) {
    Location ml = child(job_location(opt.dest, m.jobid), opt.segment ? segment_manifest_name(seg) : std::string(kJobManifestName));
    DR_TRY(storage.write_all(ml, to_json(m) + "\n"));
    r.manifest_location = ml;
  }
  r.manifest = std::move(m);
  return r;
}

}  // namespace dynarep::backup
