// backup-table and restore (docs/backup.md): full backups to S3 or a local directory, and
// restores from every accepted source format, detected automatically.
#include <fmt/format.h>

#include <chrono>
#include <optional>

#include "aws/location.h"
#include "backup/backup_table.h"
#include "backup/restore.h"
#include "backup/storage.h"
#include "s3/client.h"
#include "cli/command.h"
#include "cli/common.h"
#include "core/json_writer.h"
#include "core/progress.h"

namespace dynarep::cli {
namespace {


void add_s3_endpoint_option(CLI::App& app, std::string& endpoint) {
  app.add_option("--s3-endpoint", endpoint,
                 "S3 endpoint URL (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, or AWS for the default region)");
}

// Backups and restores with S3 in its own (backup) account: --s3-profile / --s3-role-arn.
std::unique_ptr<backup::Storage> storage_for(const std::string& s3_endpoint, const aws::CredentialsSpec& creds,
                                             Io& io) {
  if (creds.empty()) return std::make_unique<backup::Storage>(s3_endpoint, &io.in, &io.out);
  return std::make_unique<backup::Storage>(
      std::make_shared<s3::Client>(s3::Client::connect(aws::default_region(), s3_endpoint, {}, creds)), &io.in,
      &io.out);
}

class BackupTableCommand final : public Command {
 public:
  std::string_view name() const override { return "backup-table"; }
  std::string_view summary() const override {
    return "Back up a table: gzipped lines to s3://bucket/prefix/<jobid>/<segment>, then a manifest";
  }
  std::string_view group() const override { return "Backup"; }
  void setup(CLI::App& app) override {
    app.add_option("location", location_, "region/table or host:port/table")->required();
    app.add_option("dest", dest_, "s3://bucket/prefix, a local directory, or - (gzip to stdout, no manifest)")
        ->required();
    app.add_option("--jobid", jobid_, "Job id: the folder under DEST (default: 16 random hex digits, printed)");
    app.add_option("--segment", segment_, "This machine's segment i of --segments n (writes <jobid>/<i>)")
        ->check(CLI::Range(0, 999999));
    app.add_option("--segments", segments_, "How many machines split the backup (default 1)")
        ->check(CLI::Range(1, 1000000));
    app.add_option("--parallel", parallel_,
                   "Scan segments read at once by this process, merged into one object (default 4)")
        ->check(CLI::Range(1, 256));
    app.add_option("--gzip-level", level_, "gzip level 0-12 (default 6)")->check(CLI::Range(0, 12));
    app.add_option("--rate-limit", rate_, "Items per second at most (default: no limit)");
    app.add_flag("--consistent", consistent_, "Strongly consistent scan (twice the read units)");
    add_endpoint_option(app, endpoint_);
    add_s3_endpoint_option(app, s3_endpoint_);
    add_credentials_options(app, "table", "the table", table_creds_);
    add_credentials_options(app, "s3", "S3", s3_creds_);
    app.add_flag("--json", json_, "A JSON summary (with the manifest) on stdout instead of the job id");
    app.add_flag("--quiet", quiet_, "No progress on stderr");
  }

  int run(Io& io) override {
    auto t = open_table(location_, endpoint_, table_creds_);
    if (!t.ok()) return usage_error(io, name(), t.error().describe());
    auto dest = aws::parse_object_location(dest_);
    if (!dest.ok()) return usage_error(io, name(), dest.error().describe());
    if (segment_ && segments_ < 2) return usage_error(io, name(), "--segment needs --segments n (n >= 2)");
    if (!segment_ && segments_ > 1) return usage_error(io, name(), "--segments needs --segment i");
    if (dest->kind == aws::ObjectLocation::Kind::kStdio && json_) {
      return usage_error(io, name(), "--json writes to stdout, which DEST - already uses");
    }
    auto storage_owner = storage_for(s3_endpoint_, s3_creds_, io);
    backup::Storage& storage = *storage_owner;
    auto desc = t->client->describe_table(t->table());
    if (!desc.ok()) return report(io, name(), desc.error());
    std::optional<Progress> progress;
    if (!quiet_) {
      progress.emplace(io.err, Progress::Options{.label = "backup " + t->display(),
                                                  .total = segments_ > 1 ? -1 : desc->item_count,
                                                  .tty = io.err_is_tty});
    }
    backup::BackupOptions opt;
    opt.table = t->table();
    opt.source_display = t->display();
    opt.dest = *dest;
    opt.jobid = jobid_;
    opt.segment = segment_;
    opt.segments = segments_;
    opt.parallel = parallel_;
    opt.gzip_level = level_;
    opt.rate_limit = rate_;
    opt.consistent_read = consistent_;
    opt.progress = progress ? &*progress : nullptr;
    auto r = backup::backup_table(*t->client, storage, opt);
    if (progress) progress->stop();
    if (!r.ok()) {
      io.err << "dynarep backup-table: " << r.error().describe() << "\n";
      io.err << "dynarep backup-table: no manifest was written, so this job is not a complete backup; run the "
                "backup again\n";
      return kExitFailure;
    }
    const auto& m = r->manifest;
    double secs = std::chrono::duration<double>(m.end_time - m.start_time).count();
    if (!quiet_) {
      io.err << fmt::format("backup-table {}: {} items, {} bytes, {} gzipped ({:.1f}x) in {:.1f}s ({:.0f} items/s) to {}{}\n",
                            t->display(), Progress::group_digits(m.items), Progress::group_digits(static_cast<int64_t>(m.bytes)),
                            Progress::group_digits(static_cast<int64_t>(m.gzip_bytes)),
                            m.gzip_bytes > 0 ? static_cast<double>(m.bytes) / static_cast<double>(m.gzip_bytes) : 0.0, secs,
                            secs > 0 ? static_cast<double>(m.items) / secs : 0.0, backup::display(r->data),
                            r->manifest_location ? "; manifest " + backup::display(*r->manifest_location) : "");
    }
    if (json_) {
      std::string out;
      JsonWriter w(out);
      w.begin_object().field("jobid", m.jobid).field("data", backup::display(r->data));
      if (r->manifest_location) w.field("manifest_location", backup::display(*r->manifest_location));
      w.field("items", m.items).field("seconds_ms", static_cast<int64_t>(secs * 1000));
      w.key("manifest").raw(backup::to_json(m)).end_object();
      io.out << out << "\n";
    } else if (dest->kind != aws::ObjectLocation::Kind::kStdio) {
      io.out << m.jobid << "\n";
    }
    return kExitOk;
  }

 private:
  std::string location_, dest_, jobid_, endpoint_, s3_endpoint_;
  aws::CredentialsSpec table_creds_, s3_creds_;
  std::optional<int> segment_;
  int segments_ = 1;
  int parallel_ = 4;
  int level_ = 6;
  double rate_ = 0;
  bool consistent_ = false, json_ = false, quiet_ = false;
};

class RestoreCommand final : public Command {
 public:
  std::string_view name() const override { return "restore"; }
  std::string_view summary() const override {
    return "Load a table from a backup job, backup file, snapshot, dyno export, AWS export or stdin";
  }
  std::string_view group() const override { return "Backup"; }
  void setup(CLI::App& app) override {
    app.add_option("source", src_,
                   "s3://bucket/prefix/<jobid>, s3://bucket/key, an AWS export folder, an incremental "
                   "s3://bucket/prefix/<table>, a local file or directory, or - for stdin")
        ->required();
    app.add_option("location", location_, "region/table or host:port/table to load")->required();
    app.add_flag("--create-table", create_, "Create the table (an error if it exists); without it the table is "
                                            "created only when missing");
    app.add_option("--key", key_, "Key schema for creating a table when the source has no description: "
                                  "NAME:TYPE[,NAME:TYPE], e.g. id:S or user:S,ts:N");
    app.add_option("--parallel", parallel_, "Concurrent BatchWriteItem calls (default 8)")->check(CLI::Range(1, 256));
    app.add_option("--readers", readers_, "Objects read at once (default 4)")->check(CLI::Range(1, 64));
    app.add_flag("--verify-first", verify_,
                 "Read and check every object (counts, checksums, every line) before writing anything");
    app.add_option("--as-of", as_of_,
                   "Point-in-time restore: the latest complete backup under SOURCE that ended by TIME, then "
                   "the --history changes up to TIME (ISO 8601 or epoch seconds)");
    app.add_option("--history", history_, "With --as-of: the incremental backup's s3://bucket/prefix/<table>");
    app.add_option("--margin", margin_, "With --as-of: seconds of history replayed before the backup started, "
                                        "for clock skew (default 300)")
        ->check(CLI::Range(0, 86400));
    app.add_flag("--allow-incomplete-history", allow_incomplete_history_,
                 "With --as-of: restore even when the history's newest change is older than TIME (the "
                 "incremental backup lags); otherwise that is refused");
    add_endpoint_option(app, endpoint_);
    add_s3_endpoint_option(app, s3_endpoint_);
    add_credentials_options(app, "table", "the table", table_creds_);
    add_credentials_options(app, "s3", "S3", s3_creds_);
    app.add_flag("--json", json_, "A JSON summary on stdout");
    app.add_flag("--quiet", quiet_, "No progress or detection report on stderr");
  }

  int run(Io& io) override {
    auto t = open_table(location_, endpoint_, table_creds_);
    if (!t.ok()) return usage_error(io, name(), t.error().describe());
    auto src = aws::parse_object_location(src_);
    if (!src.ok()) return usage_error(io, name(), src.error().describe());
    backup::RestoreOptions opt;
    opt.client = t->client.get();
    opt.table = t->table();
    opt.display = t->display();
    opt.create_table = create_;
    if (!key_.empty()) {
      auto k = backup::parse_key_spec(key_);
      if (!k.ok()) return usage_error(io, name(), k.error().message);
      opt.key = *k;
    }
    opt.parallel = parallel_;
    opt.readers = readers_;
    opt.verify_first = verify_;
    if (!as_of_.empty()) {
      auto when = backup::parse_time(as_of_);
      if (!when.ok()) return usage_error(io, name(), "--as-of: " + when.error().message);
      opt.as_of = *when;
      if (history_.empty()) return usage_error(io, name(), "--as-of needs --history s3://bucket/prefix/<table>");
      auto h = aws::parse_object_location(history_);
      if (!h.ok()) return usage_error(io, name(), h.error().describe());
      opt.history = *h;
      opt.margin = std::chrono::milliseconds(static_cast<int64_t>(margin_ * 1000));
      opt.allow_incomplete_history = allow_incomplete_history_;
    } else if (!history_.empty()) {
      return usage_error(io, name(), "--history is for --as-of");
    }
    auto storage_owner = storage_for(s3_endpoint_, s3_creds_, io);
    backup::Storage& storage = *storage_owner;
    std::optional<Progress> progress;
    if (!quiet_) {
      progress.emplace(io.err, Progress::Options{.label = "restore " + t->display(), .tty = io.err_is_tty});
      opt.log = &io.err;
    }
    opt.progress = progress ? &*progress : nullptr;
    backup::RestoreProgress p;
    auto start = std::chrono::steady_clock::now();
    Status st = backup::restore(storage, *src, opt, p);
    if (progress) progress->stop();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!st.ok() && st.error().code == "IncompleteHistory") {
      // Refused before anything was read or written: the one line says it all.
      io.err << "dynarep restore: " << st.error().message << "\n";
      return kExitFailure;
    }
    if (!st.ok()) {
      io.err << "dynarep restore: " << st.error().describe() << "\n";
      if (p.items_written > 0 || !p.objects_done.empty()) {
        io.err << fmt::format(
            "dynarep restore: INCOMPLETE: {} items were written to {} before the failure ({} object(s) fully "
            "restored{}{}). Restoring is idempotent: fix or replace the object named above and run the same "
            "command again{}.\n",
            Progress::group_digits(p.items_written), t->display(), p.objects_done.size(),
            p.objects_left.empty() ? "" : ", not finished: ",
            p.objects_left.empty() ? "" : fmt::format("{}", fmt::join(p.objects_left, ", ")),
            p.table_created ? " (without --create-table: the table exists now)" : "");
      } else {
        io.err << fmt::format("dynarep restore: nothing was written to {}\n", t->display());
      }
      if (json_) print_json(io, p, secs, false, st.error().describe());
      return st.error().code == "Usage" ? kExitUsage : kExitFailure;
    }
    if (!quiet_) {
      io.err << fmt::format("restore {}: {} items written in {:.1f}s ({:.0f} items/s){}\n", t->display(),
                            Progress::group_digits(p.items_written), secs,
                            secs > 0 ? static_cast<double>(p.items_written) / secs : 0.0,
                            opt.as_of ? fmt::format("; history: {} changes, {} puts, {} deletes", p.history_entries,
                                                    p.history_puts, p.history_deletes)
                                      : "");
    }
    if (json_) print_json(io, p, secs, true, "");
    return kExitOk;
  }

 private:
  static void print_json(Io& io, const backup::RestoreProgress& p, double secs, bool ok, const std::string& error) {
    std::string out;
    JsonWriter w(out);
    w.begin_object().field("ok", ok).field("detected", p.detected).field("items_written", p.items_written);
    w.field("items_read", p.items_read).field("table_created", p.table_created);
    w.field("history_entries", p.history_entries).field("history_puts", p.history_puts);
    w.field("history_deletes", p.history_deletes).field("seconds_ms", static_cast<int64_t>(secs * 1000));
    w.key("objects_done").begin_array();
    for (const auto& o : p.objects_done) w.string(o);
    w.end_array().key("objects_left").begin_array();
    for (const auto& o : p.objects_left) w.string(o);
    w.end_array();
    if (!ok) w.field("error", error);
    w.end_object();
    io.out << out << "\n";
  }

  std::string src_, location_, key_, as_of_, history_, endpoint_, s3_endpoint_;
  aws::CredentialsSpec table_creds_, s3_creds_;
  int parallel_ = 8, readers_ = 4;
  double margin_ = 300;
  bool allow_incomplete_history_ = false;
  bool create_ = false, verify_ = false, json_ = false, quiet_ = false;
};

}  // namespace
}  // namespace dynarep::cli

using dynarep::cli::BackupTableCommand;
using dynarep::cli::RestoreCommand;
DYNAREP_REGISTER_COMMAND(BackupTableCommand)
DYNAREP_REGISTER_COMMAND(RestoreCommand)
