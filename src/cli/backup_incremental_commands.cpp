// Incremental backups (docs/backup.md): incremental-backup (stream consumer with leases, or one
// Lambda event), incremental-backfill, incremental-snapshot, and the record commands.
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>

#include "aws/location.h"
#include "backup/incremental.h"
#include "backup/storage.h"
#include "cli/command.h"
#include "cli/common.h"
#include "core/json_writer.h"
#include "core/progress.h"
#include "kinesis/client.h"
#include "lease/worker.h"
#include "model/codec.h"
#include "replicate/dead_letter.h"
#include "s3/client.h"

namespace dynarep::cli {
namespace {

std::atomic<bool> g_stop{false};
void on_backup_stop_signal(int) { g_stop.store(true); }

void add_s3_endpoint_option(CLI::App& app, std::string& endpoint) {
  app.add_option("--s3-endpoint", endpoint,
                 "S3 endpoint URL (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, or AWS for the default region)");
}

// DEST as s3://bucket/prefix (or a local directory) for incremental commands.
Result<backup::Location> parse_dest(const std::string& text) {
  DR_ASSIGN(aws::ObjectLocation loc, aws::parse_object_location(text));
  if (loc.kind == aws::ObjectLocation::Kind::kStdio) {
    return invalid_input("an incremental backup needs s3://bucket/prefix (or a local directory), not -");
  }
  return loc;
}

// The key of `key_text` for the table, as key_for_table in table_commands does.
Result<model::Item> table_key(dynamodb::Client& client, const std::string& table, const std::string& key_text) {
  DR_ASSIGN(model::Item key, model::parse_key_arg(key_text));
  DR_ASSIGN(dynamodb::TableDescription d, client.describe_table(table));
  auto k = model::extract_key(key, d.key_schema);
  if (!k.ok()) return std::move(k).error().with_context("key " + key_text + " for table " + table);
  if (k->size() != key.size()) {
    return invalid_input(fmt::format("key {} has attributes that are not part of table {}'s key", key_text, table));
  }
  return std::move(k).value();
}

class IncrementalBackupCommand final : public Command {
 public:
  std::string_view name() const override { return "incremental-backup"; }
  std::string_view summary() const override {
    return "Keep one S3 object per item from the primary's change stream (leases, or one Lambda event)";
  }
  std::string_view group() const override { return "Backup"; }
  void setup(CLI::App& app) override {
    app.add_option("--primary", primary_, "The primary table: region/table or host:port/table")->required();
    app.add_option("--stream", stream_.stream, "The Kinesis stream of the primary's change records, or a DynamoDB stream's ARN");
    add_table_stream_options(app, stream_);
    app.add_option("dest", dest_, "s3://bucket/prefix: objects go to <prefix>/<table>/<sha256 of key>")->required();
    app.add_option("--lease-table", lease_table_,
                   "Lease table (default: the replicator's default name + \"-backup\", so both get every shard)");
    app.add_option("--worker-id", worker_id_, "This worker's id (default host:pid:random)");
    app.add_option("--event", event_, "Process one Lambda event ({\"Records\":[...]}) from FILE (- for stdin) and exit");
    app.add_flag("--history", history_, "Also append every change to <prefix>/<table>/history/ (point-in-time restore)");
    app.add_flag("--reread", reread_, "Read every key from the primary, even records that carry NewImage");
    app.add_option("--dead-letter", dead_letter_,
                   "Records that can never be applied (malformed, keys that do not fit the table) go to DIR "
                   "(DIR/<shard>.jsonl) or s3://bucket/prefix, as the replicator's dead letters (default: logged only)");
    app.add_option("--parallel", parallel_, "S3 writes in flight per batch (default 8)")->check(CLI::Range(1, 128));
    app.add_option("--start-at", start_at_,
                   "Where shards without a checkpoint start: TRIM_HORIZON (default), LATEST, or a time (ISO 8601 or "
                   "epoch milliseconds), as for replicate");
    app.add_option("--from", start_at_, "Old spelling of --start-at (trim-horizon or latest)");
    app.add_option("--fence", fence_,
                   "auto (default): make every S3 write conditional on the object's ETag (If-Match / "
                   "If-None-Match), so a worker that lost its lease cannot overwrite the next owner's newer "
                   "object, when the S3 server honours conditions (probed); conditional: require it; "
                   "deadline: the lease's write deadline only (one HEAD less per write)")
        ->check(CLI::IsMember({"auto", "conditional", "deadline"}));
    app.add_option("--until-idle", idle_,
                   "Stop after this many seconds with every shard caught up and no records (default: run until signalled)");
    app.add_option("--kinesis-endpoint", stream_.kinesis_endpoint, "Kinesis endpoint URL (default: AWS_ENDPOINT_URL_KINESIS ...)");
    add_endpoint_option(app, endpoint_);
    add_s3_endpoint_option(app, s3_endpoint_);
    add_credentials_options(app, "primary", "the primary table and the lease table beside it", primary_creds_);
    add_credentials_options(app, "stream", "the stream", stream_creds_, "the primary's");
    add_credentials_options(app, "s3", "the backup bucket and an s3:// --dead-letter", s3_creds_);
    app.add_flag("--quiet", quiet_, "No log lines on stderr");
  }

  int run(Io& io) override {
    auto t = open_table(primary_, endpoint_, primary_creds_);
    if (!t.ok()) return usage_error(io, name(), t.error().describe());
    auto dest = parse_dest(dest_);
    if (!dest.ok()) return usage_error(io, name(), dest.error().describe());
    if (event_.empty() && stream_.stream.empty() && !stream_.table_stream) {
      return usage_error(io, name(), "give --stream NAME|ARN, --table-stream, or --event FILE");
    }
    auto start = parse_start_position(start_at_, "--start-at");
    if (!start.ok()) return usage_error(io, name(), start.error().message);
    // The table's key: records whose keys do not fit it are dead-lettered, never sent to
    // BatchGetItem (one bad key there fails the call, and the shard would retry forever).
    auto desc = t->client->describe_table(t->table());
    if (!desc.ok()) return report(io, name(), desc.error());
    std::shared_ptr<replicate::DeadLetterSink> sink;
    if (!dead_letter_.empty()) {
      auto opened =
          replicate::open_dead_letter_sink(dead_letter_, t->location.endpoint.region, s3_endpoint_, s3_creds_);
      if (!opened.ok()) return usage_error(io, name(), opened.error().describe());
      sink = std::move(opened).value();
    }
    auto storage_owner = storage_for(s3_endpoint_, s3_creds_, io);
    backup::Storage& storage = *storage_owner;
    std::mutex log_mu;
    backup::IncrementalOptions opt;
    opt.primary = t->client.get();
    opt.table = t->table();
    opt.key_schema = desc->key_schema;
    if (sink) {
      opt.dead_letter = [sink](const std::vector<backup::RejectedRecord>& rejected) -> Status {
        std::vector<replicate::DeadLetter> letters;
        for (const auto& r : rejected) {
          letters.push_back(replicate::DeadLetter{std::chrono::system_clock::now(), r.input->shard,
                                                  r.input->sequence_number, r.input->partition_key, r.reason,
                                                  r.input->raw});
        }
        return sink->write(letters);
      };
    }
    opt.storage = &storage;
    opt.table_dir = backup::incremental_table_dir(*dest, t->table());
    opt.history = history_;
    opt.reread = reread_;
    opt.parallel = parallel_;
    opt.warn = [&](const std::string& line) {
      std::lock_guard lock(log_mu);
      io.err << "dynarep incremental-backup: warning: " << line << "\n";
    };
    if (!event_.empty()) {
      backup::IncrementalBackup backup(opt);  // one batch, no lease: nothing to fence
      return run_event(io, backup);
    }
    // The stream first: a usage error or a table without a stream fails before the S3 probe.
    auto opened = open_stream(*t, stream_, credentials_or(stream_creds_, primary_creds_));
    if (!opened.ok()) {
      if (opened.error().code == "Usage") return usage_error(io, name(), opened.error().message);
      return report(io, name(), opened.error());
    }
    // Which protection keeps a worker that lost its lease from overwriting newer objects.
    auto fence = backup::choose_fence(fence_, opt);
    if (!fence.ok()) {
      if (fence.error().kind == ErrorKind::kInvalidInput) return usage_error(io, name(), fence.error().describe());
      return report(io, name(), fence.error());
    }
    backup::IncrementalBackup backup(opt);
    backup::IncrementalProcessor processor(backup);
    lease::Config cfg;
    cfg.stream = opened->name;
    cfg.lease_table = lease_table_.empty() ? opened->lease_table + "-backup" : lease_table_;
    cfg.worker_id = worker_id_;
    cfg.initial_position = *start;
    lease::Worker worker(cfg, std::move(opened->source), *t->client, processor, SystemClock::instance());
    if (!quiet_) {
      io.err << fmt::format("incremental-backup: {} -> {} (stream {}, lease table {}, worker {}{}; lease fence: {})\n",
                            t->display(), backup::display(opt.table_dir), opened->name, cfg.lease_table, worker.worker_id(),
                            history_ ? ", with history" : "", *fence);
    }
    g_stop.store(false);
    std::signal(SIGINT, on_backup_stop_signal);
    std::signal(SIGTERM, on_backup_stop_signal);
    std::atomic<bool> stop{false};
    std::atomic<bool> done{false};
    // Watches for a signal, for --until-idle, and logs now and then.
    std::thread watcher([&] {
      auto last_change = std::chrono::steady_clock::now();
      auto last_log = last_change;
      int64_t last_records = -1;
      while (!done.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (g_stop.load()) stop.store(true);
        auto now = std::chrono::steady_clock::now();
        int64_t records = backup.stats().records.load();
        if (records != last_records) {
          last_records = records;
          last_change = now;
        }
        if (idle_ > 0) {
          // Every shard in play held here and at the tip: a shard still leased by a stopped or
          // dead worker is not drained yet, however idle the shards held here are.
          const bool caught_up = worker.caught_up();
          if (!caught_up) last_change = now;
          if (caught_up && now - last_change >= std::chrono::milliseconds(static_cast<int64_t>(idle_ * 1000))) {
            stop.store(true);
          }
        }
        if (!quiet_ && now - last_log >= std::chrono::seconds(10)) {
          last_log = now;
          log_stats(io, log_mu, backup);
        }
      }
    });
    Status st = worker.run(stop);
    done.store(true);
    watcher.join();
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    if (!quiet_) log_stats(io, log_mu, backup);
    if (!st.ok()) return report(io, name(), st.error());
    return kExitOk;
  }

 private:
  int run_event(Io& io, backup::IncrementalBackup& backup) {
    std::string text;
    if (event_ == "-") {
      text.assign(std::istreambuf_iterator<char>(io.in), std::istreambuf_iterator<char>());
    } else {
      std::ifstream f(event_, std::ios::binary);
      if (!f) return report(io, name(), invalid_input("cannot open " + event_));
      text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
    auto groups = backup::inputs_from_lambda_event(text);
    if (!groups.ok()) return report(io, name(), Error(groups.error()).with_context(event_));
    for (const auto& [shard, inputs] : *groups) {
      Status st = backup.apply(inputs);
      if (!st.ok()) {
        return report(io, name(), Error(st.error()).with_context("event " + event_ + " shard " + shard));
      }
    }
    std::mutex mu;
    if (!quiet_) log_stats(io, mu, backup);
    return kExitOk;
  }

  static void log_stats(Io& io, std::mutex& mu, const backup::IncrementalBackup& b) {
    const auto& s = b.stats();
    std::lock_guard lock(mu);
    io.err << fmt::format("incremental-backup: {} records, {} batches, {} puts, {} deletes, {} skipped, {} fenced "
                          "writes refused{}\n",
                          s.records.load(), s.batches.load(), s.puts.load(), s.deletes.load(), s.skipped.load(),
                          s.fenced_writes_refused.load(),
                          b.options().history ? fmt::format(", {} history entries", s.history_entries.load()) : "");
  }

  StreamChoice stream_;
  std::string primary_, dest_, lease_table_, worker_id_, event_, endpoint_, s3_endpoint_, dead_letter_;
  aws::CredentialsSpec primary_creds_, stream_creds_, s3_creds_;
  std::string start_at_ = "TRIM_HORIZON";
  std::string fence_ = "auto";
  int parallel_ = 8;
  double idle_ = 0;
  bool history_ = false, reread_ = false, quiet_ = false;
};

class IncrementalBackfillCommand final : public Command {
 public:
  std::string_view name() const override { return "incremental-backfill"; }
  std::string_view summary() const override { return "Write every item of a table to its incremental backup object"; }
  std::string_view group() const override { return "Backup"; }
  void setup(CLI::App& app) override {
    app.add_option("location", location_, "region/table or host:port/table")->required();
    app.add_option("dest", dest_, "s3://bucket/prefix (objects go to <prefix>/<table>/)")->required();
    app.add_option("--parallel", parallel_, "Scan segments (and object writers) at once (default 8)")
        ->check(CLI::Range(1, 256));
    add_endpoint_option(app, endpoint_);
    add_s3_endpoint_option(app, s3_endpoint_);
    app.add_flag("--quiet", quiet_, "No progress on stderr");
  }
  int run(Io& io) override {
    auto t = open_table(location_, endpoint_);
    if (!t.ok()) return usage_error(io, name(), t.error().describe());
    auto dest = parse_dest(dest_);
    if (!dest.ok()) return usage_error(io, name(), dest.error().describe());
    backup::Storage storage(s3_endpoint_, &io.in, &io.out);
    std::optional<Progress> progress;
    if (!quiet_) progress.emplace(io.err, Progress::Options{.label = "backfill " + t->display(), .tty = io.err_is_tty});
    auto dir = backup::incremental_table_dir(*dest, t->table());
    auto n = backup::incremental_backfill(*t->client, t->table(), storage, dir, parallel_, progress ? &*progress : nullptr);
    if (progress) progress->stop();
    if (!n.ok()) return report(io, name(), n.error());
    if (!quiet_) {
      io.err << fmt::format("incremental-backfill {}: {} items written to {}\n", t->display(),
                            Progress::group_digits(*n), backup::display(dir));
    }
    return kExitOk;
  }

 private:
  std::string location_, dest_, endpoint_, s3_endpoint_;
  int parallel_ = 8;
  bool quiet_ = false;
};

class IncrementalSnapshotCommand final : public Command {
 public:
  std::string_view name() const override { return "incremental-snapshot"; }
  std::string_view summary() const override {
    return "Gzip every incremental backup object of a table into one restorable file";
  }
  std::string_view group() const override { return "Backup"; }
  void setup(CLI::App& app) override {
    app.add_option("source", src_, "s3://bucket/prefix/<table> of an incremental backup")->required();
    app.add_option("dest", dst_, "s3://bucket/key, a local file, or - for stdout")->required();
    app.add_option("--parallel", parallel_, "Objects fetched at once (default 16)")->check(CLI::Range(1, 256));
    add_s3_endpoint_option(app, s3_endpoint_);
    app.add_flag("--quiet", quiet_, "No progress on stderr");
  }
  int run(Io& io) override {
    auto src = parse_dest(src_);
    if (!src.ok()) return usage_error(io, name(), src.error().describe());
    auto dst = aws::parse_object_location(dst_);
    if (!dst.ok()) return usage_error(io, name(), dst.error().describe());
    backup::Storage storage(s3_endpoint_, &io.in, &io.out);
    std::optional<Progress> progress;
    if (!quiet_) progress.emplace(io.err, Progress::Options{.label = "snapshot " + src_, .tty = io.err_is_tty});
    auto r = backup::incremental_snapshot(storage, *src, *dst, parallel_, progress ? &*progress : nullptr);
    if (progress) progress->stop();
    if (!r.ok()) return report(io, name(), r.error());
    if (!quiet_) {
      io.err << fmt::format("incremental-snapshot {}: {} items, {} bytes ({} gzipped) to {}\n", src_,
                            Progress::group_digits(r->items), Progress::group_digits(static_cast<int64_t>(r->bytes)),
                            Progress::group_digits(static_cast<int64_t>(r->gzip_bytes)), backup::display(*dst));
    }
    return kExitOk;
  }

 private:
  std::string src_, dst_, s3_endpoint_;
  int parallel_ = 16;
  bool quiet_ = false;
};

// incremental-backup-record and incremental-diff-record: one key of a table, its item read
// consistently, and where its incremental object lives.
class OneRecordCommand : public Command {
 public:
  std::string_view group() const override { return "Backup"; }
  void setup(CLI::App& app) override {
    app.add_option("location", location_, "region/table or host:port/table")->required();
    app.add_option("dest", dest_, "s3://bucket/prefix")->required();
    app.add_option("key", key_, R"(the key: {"id":{"S":"a"}} or {"id":"a"})")->required();
    add_endpoint_option(app, endpoint_);
    add_s3_endpoint_option(app, s3_endpoint_);
  }

 protected:
  struct Record {
    model::Item key;
    backup::Location obj;
    std::optional<model::Item> item;  // nullopt: not in the table
  };
  // The record, or nullopt with the error reported and its exit code in *code.
  std::optional<Record> read_record(Io& io, int* code) {
    auto fail = [&](int c) -> std::optional<Record> {
      *code = c;
      return std::nullopt;
    };
    auto t = open_table(location_, endpoint_);
    if (!t.ok()) return fail(usage_error(io, name(), t.error().describe()));
    auto dest = parse_dest(dest_);
    if (!dest.ok()) return fail(usage_error(io, name(), dest.error().describe()));
    auto key = table_key(*t->client, t->table(), key_);
    if (!key.ok()) return fail(report(io, name(), key.error()));
    auto item = t->client->get_item(t->table(), *key, true);
    if (!item.ok()) return fail(report(io, name(), item.error()));
    auto obj = backup::child(backup::incremental_table_dir(*dest, t->table()), backup::incremental_object_name(*key));
    return Record{std::move(key).value(), std::move(obj), std::move(item).value()};
  }

  std::string location_, dest_, key_, endpoint_, s3_endpoint_;
};

class IncrementalBackupRecordCommand final : public OneRecordCommand {
 public:
  std::string_view name() const override { return "incremental-backup-record"; }
  std::string_view summary() const override {
    return "Back up one item now: write (or delete) its incremental object from the table";
  }
  int run(Io& io) override {
    int code = kExitOk;
    auto rec = read_record(io, &code);
    if (!rec) return code;
    backup::Storage storage(s3_endpoint_, &io.in, &io.out);
    Status st = rec->item ? storage.write_all(rec->obj, model::to_json(*rec->item)) : storage.remove(rec->obj);
    if (!st.ok()) return report(io, name(), st.error());
    io.out << (rec->item ? "backed up " : "deleted ") << model::canonical_key_json(rec->key) << " "
           << backup::display(rec->obj) << "\n";
    return kExitOk;
  }
};

class IncrementalDiffRecordCommand final : public OneRecordCommand {
 public:
  std::string_view name() const override { return "incremental-diff-record"; }
  std::string_view summary() const override {
    return "Compare one item in the table with its incremental backup object (exit 1 when they differ)";
  }
  int run(Io& io) override {
    int code = kExitOk;
    auto rec = read_record(io, &code);
    if (!rec) return code;
    backup::Storage storage(s3_endpoint_, &io.in, &io.out);
    auto exists = storage.stat(rec->obj);
    if (!exists.ok()) return report(io, name(), exists.error());
    std::optional<model::Item> backed;
    if (*exists) {
      auto body = storage.read_all(rec->obj, size_t{8} << 20);
      if (!body.ok()) return report(io, name(), body.error());
      auto parsed = model::parse_item(*body);
      if (!parsed.ok()) return report(io, name(), Error(parsed.error()).with_context(backup::display(rec->obj)));
      backed = std::move(parsed).value();
    }
    const std::string k = model::canonical_key_json(rec->key);
    if (!rec->item.has_value() && !backed) {
      io.out << "absent " << k << ": in neither the table nor the backup\n";
      return kExitOk;
    }
    if (rec->item.has_value() && backed && *rec->item == *backed) {
      io.out << "in sync " << k << "\n";
      return kExitOk;
    }
    if (!backed) {
      io.out << "missing " << k << ": in the table, not in the backup " << backup::display(rec->obj) << "\n";
    } else if (!rec->item.has_value()) {
      io.out << "extraneous " << k << ": in the backup " << backup::display(rec->obj) << ", not in the table\n";
    } else {
      io.out << "different " << k << "\n";
    }
    if (rec->item.has_value()) io.out << "table:  " << model::to_json(*rec->item) << "\n";
    if (backed) io.out << "backup: " << model::to_json(*backed) << "\n";
    return kExitDiscrepancies;
  }
};

class IncrementalRecordHistoryCommand final : public Command {
 public:
  std::string_view name() const override { return "incremental-record-history"; }
  std::string_view summary() const override {
    return "List the stored versions of one item's incremental backup object (versioned buckets)";
  }
  std::string_view group() const override { return "Backup"; }
  void setup(CLI::App& app) override {
    app.add_option("dest", dest_, "s3://bucket/prefix/<table> of the incremental backup")->required();
    app.add_option("key", key_, R"(the key as the table returns it: {"id":{"S":"a"}} or {"id":"a"})")->required();
    add_s3_endpoint_option(app, s3_endpoint_);
    app.add_flag("--json", json_, "One JSON object per version");
  }
  int run(Io& io) override {
    auto dir = parse_dest(dest_);
    if (!dir.ok()) return usage_error(io, name(), dir.error().describe());
    if (dir->kind != aws::ObjectLocation::Kind::kS3) return usage_error(io, name(), "versions are kept only on S3");
    auto key = model::parse_key_arg(key_);
    if (!key.ok()) return usage_error(io, name(), key.error().describe());
    backup::Storage storage(s3_endpoint_, &io.in, &io.out);
    auto obj = backup::child(*dir, backup::incremental_object_name(*key));
    auto client = storage.s3();
    if (!client.ok()) return report(io, name(), client.error());
    std::vector<s3::ObjectVersion> versions;
    Status st = (*client)->for_each_object_version(obj.bucket, s3::ListVersionsRequest{.prefix = obj.key},
                                                   [&](const s3::ObjectVersion& v) -> Status {
                                                     if (v.key == obj.key) versions.push_back(v);
                                                     return {};
                                                   });
    if (!st.ok()) {
      if (st.error().code == "VersionsUnsupported") {
        io.err << fmt::format(
            "dynarep incremental-record-history: bucket {} keeps no object versions (versioning is not enabled, "
            "or the server does not support it), so only the current state of {} is stored: use "
            "`dynarep incremental-diff-record` for it, and incremental-backup --history for a change log\n",
            obj.bucket, backup::display(obj));
        return kExitFailure;
      }
      return report(io, name(), st.error());
    }
    if (versions.empty()) {
      io.err << "dynarep incremental-record-history: no versions of " << backup::display(obj) << " (key "
             << model::canonical_key_json(*key) << ")\n";
      return kExitFailure;
    }
    for (const auto& v : versions) {
      std::string body;
      if (!v.is_delete_marker) {
        auto r = (*client)->get_object(obj.bucket, obj.key, s3::GetOptions{.range = {}, .version_id = v.version_id, .if_match = {}});
        if (!r.ok()) return report(io, name(), r.error());
        body = r->body;
      }
      if (json_) {
        std::string out;
        JsonWriter w(out);
        w.begin_object().field("version_id", v.version_id).field("last_modified", v.last_modified);
        w.field("latest", v.is_latest).field("deleted", v.is_delete_marker).key("item");
        if (v.is_delete_marker) {
          w.raw("null");
        } else {
          w.raw(body);
        }
        w.end_object();
        io.out << out << "\n";
      } else {
        io.out << v.last_modified << " " << v.version_id << (v.is_latest ? " (latest)" : "") << " "
               << (v.is_delete_marker ? "DELETED" : body) << "\n";
      }
    }
    return kExitOk;
  }

 private:
  std::string dest_, key_, s3_endpoint_;
  bool json_ = false;
};

}  // namespace
}  // namespace dynarep::cli

using dynarep::cli::IncrementalBackfillCommand;
using dynarep::cli::IncrementalBackupCommand;
using dynarep::cli::IncrementalBackupRecordCommand;
using dynarep::cli::IncrementalDiffRecordCommand;
using dynarep::cli::IncrementalRecordHistoryCommand;
using dynarep::cli::IncrementalSnapshotCommand;
DYNAREP_REGISTER_COMMAND(IncrementalBackupCommand)
DYNAREP_REGISTER_COMMAND(IncrementalBackfillCommand)
DYNAREP_REGISTER_COMMAND(IncrementalSnapshotCommand)
DYNAREP_REGISTER_COMMAND(IncrementalBackupRecordCommand)
DYNAREP_REGISTER_COMMAND(IncrementalDiffRecordCommand)
DYNAREP_REGISTER_COMMAND(IncrementalRecordHistoryCommand)
