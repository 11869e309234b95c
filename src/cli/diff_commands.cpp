// The repair commands, as dynamodb-replicator's bin/ scripts: diff-tables (with --repair and
// --backfill), diff-record and replicate-record. The work is done in src/diff; these classes
// parse options and print (docs/formats.md §5: data on stdout, progress and errors on stderr).
#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <optional>

#include "cli/command.h"
#include "cli/common.h"
#include "core/json_writer.h"
#include "core/progress.h"
#include "diff/record_diff.h"
#include "diff/segments.h"
#include "diff/table_diff.h"
#include "model/codec.h"
#include "model/item.h"

namespace dynarep::cli {
namespace {

std::string units(double v) { return fmt::format("{:.1f}", v); }

class DiffTablesCommand final : public Command {
 public:
  std::string_view name() const override { return "diff-tables"; }
  std::string_view summary() const override {
    return "Compare a replica table with its primary; --repair fixes it, --backfill fills it";
  }
  std::string_view group() const override { return "Repair"; }
  void setup(CLI::App& app) override {
    app.add_option("primary", primary_, "the primary table: region/table or host:port/table")->required();
    app.add_option("replica", replica_, "the replica table: region/table or host:port/table")->required();
    add_endpoint_option(app, endpoint_);
    app.add_flag("--repair", repair_,
                 "Make the replica match: put the primary's version of missing and different items, "
                 "delete extraneous ones (default: report only)");
    app.add_flag("--backfill", backfill_,
                 "Copy every primary item to the replica without comparing (a new replica)");
    segment_opt_ = app.add_option("--segment", segment_,
                                  "The slice this run covers, 0-based (needs --segments; default: "
                                  "$JOB_COMPLETION_INDEX, then $AWS_BATCH_JOB_ARRAY_INDEX, else all)")
                       ->check(CLI::NonNegativeNumber);
    segments_opt_ = app.add_option("--segments", segments_,
                                   "Scan segments the tables are split into (default: one per 128 MiB "
                                   "of the primary, at least 8)")
                        ->check(CLI::Range(1, 1000000));
    app.add_option("--parallel", parallel_, "Segments scanned at once per table, and re-read workers (default 4)")
        ->check(CLI::Range(1, 256));
    app.add_option("--rate-limit", rate_, "Items scanned per second, both tables together (default: no limit)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--page-limit", page_limit_,
                   "Items per Scan page; 0 for the service's 1 MB pages (default 1000: bounds the memory "
                   "of the 2 x --parallel pages in flight)")
        ->check(CLI::Range(0, 1000000));
    app.add_option("--settle", settle_,
                   "Seconds before a difference found on re-reading is read again and confirmed; set "
                   "above the replication lag; 0 reports at once (default 2)")
        ->check(CLI::Range(0.0, 3600.0));
    app.add_option("--temp-dir", temp_dir_, "Where the private spill directory goes (default: $TMPDIR or /tmp)");
    app.add_flag("--json", json_, "Discrepancies as JSON lines and a JSON summary on stdout");
    app.add_flag("--quiet", quiet_, "No progress on stderr");
    add_credentials_options(app, "primary", "the primary table", primary_creds_);
    add_credentials_options(app, "replica", "the replica table", replica_creds_);
  }

  int run(Io& io) override {
    auto p = open_table(primary_, endpoint_, primary_creds_);
    if (!p.ok()) return usage_error(io, name(), p.error().describe());
    auto r = open_table(replica_, endpoint_, replica_creds_);
    if (!r.ok()) return usage_error(io, name(), r.error().describe());
    std::optional<int> segment, segments;
    if (segment_opt_->count() > 0) segment = segment_;
    if (segments_opt_->count() > 0) segments = segments_;
    auto slice = diff::choose_slice(segment, segments, diff::process_env());
    if (!slice.ok()) return usage_error(io, name(), slice.error().message);
    if (!slice->note.empty()) io.err << "dynarep " << name() << ": " << slice->note << "\n";

    diff::TableRef primary{p->client.get(), p->table(), p->display()};
    diff::TableRef replica{r->client.get(), r->table(), r->display()};
    diff::DiffOptions opt;
    opt.total_segments = slice->total_segments;
    opt.segments = slice->segments;
    opt.parallel = parallel_;
    opt.rate_limit = rate_;
    opt.page_limit = page_limit_;
    opt.repair = repair_;
    opt.backfill = backfill_;
    opt.settle = std::chrono::milliseconds(static_cast<int64_t>(std::llround(settle_ * 1000)));
    opt.temp_dir = temp_dir_;
    if (!quiet_) {
      opt.progress = &io.err;
      opt.progress_tty = io.err_is_tty;
      opt.progress_label = fmt::format("{} {} -> {}", backfill_ ? "backfill" : "diff", p->display(), r->display());
    }
    opt.on_discrepancy = [&](const diff::Discrepancy& d) {
      std::string line;
      if (json_) {
        JsonWriter w(line);
        w.begin_object().field("kind", diff::to_string(d.kind)).key("key").raw(model::canonical_key_json(d.key));
        w.field("repaired", d.repaired).end_object();
      } else {
        line = fmt::format("{} {}", diff::to_string(d.kind), model::canonical_key_json(d.key));
        if (repair_) line += d.repaired ? " repaired" : " not-repaired";
      }
      line += '\n';
      // Flushed at once: a run over a large table may be stopped, and what it found stands.
      io.out << line << std::flush;
    };

    auto summary = diff::diff_tables(primary, replica, opt);
    io.out.flush();
    if (!summary.ok()) return report(io, name(), summary.error());
    const diff::DiffSummary& s = *summary;
    int code = kExitOk;
    if (!backfill_ && s.discrepancies() > 0 && !(repair_ && s.repaired == s.discrepancies())) {
      code = kExitDiscrepancies;
    }
    if (json_) {
      print_json(io, *p, *r, s, slice->origin, code);
    } else {
      print_summary(io, *p, *r, s, slice->origin);
    }
    return code;
  }

 private:
  std::string slice_text(const diff::DiffSummary& s, const std::string& origin) const {
    if (static_cast<int>(s.segments.size()) == s.total_segments) return fmt::format("{} segments", s.total_segments);
    std::string which = s.segments.size() == 1 ? fmt::format("segment {}", s.segments[0])
                                               : fmt::format("segments {}", fmt::join(s.segments, ","));
    return fmt::format("{} of {}{}", which, s.total_segments, origin.empty() ? "" : " (" + origin + ")");
  }

  void print_summary(Io& io, const TableTarget& p, const TableTarget& r, const diff::DiffSummary& s,
                     const std::string& origin) const {
    const double rate = s.elapsed_seconds > 0 ? static_cast<double>(s.backfilled > 0 ? s.backfilled : s.compared) / s.elapsed_seconds : 0;
    if (backfill_) {
      io.err << fmt::format(
          "backfill {} -> {}: {} items copied ({} scanned, {}); {} read units, {} write units; {:.1f}s ({:.0f} items/s)\n",
          p.display(), r.display(), Progress::group_digits(s.backfilled), Progress::group_digits(s.scanned_primary),
          slice_text(s, origin), units(s.read_units), units(s.write_units), s.elapsed_seconds, rate);
      return;
    }
    io.err << fmt::format(
        "diff {} -> {}: scanned {} primary and {} replica items ({}), compared {} keys, re-read {}; "
        "missing {}, different {}, extraneous {}, repaired {}; {} read units, {} write units; "
        "{:.1f}s ({:.0f} keys/s)\n",
        p.display(), r.display(), Progress::group_digits(s.scanned_primary),
        Progress::group_digits(s.scanned_replica), slice_text(s, origin), Progress::group_digits(s.compared),
        Progress::group_digits(s.suspects), Progress::group_digits(s.missing),
        Progress::group_digits(s.different), Progress::group_digits(s.extraneous),
        Progress::group_digits(s.repaired), units(s.read_units), units(s.write_units), s.elapsed_seconds, rate);
  }

  void print_json(Io& io, const TableTarget& p, const TableTarget& r, const diff::DiffSummary& s,
                  const std::string& origin, int code) const {
    std::string out;
    JsonWriter w(out);
    w.begin_object().field("kind", "summary").field("mode", backfill_ ? "backfill" : "diff");
    w.field("primary", p.display()).field("replica", r.display());
    w.field("total_segments", s.total_segments).key("segments").begin_array();
    for (int seg : s.segments) w.number(seg);
    w.end_array();
    w.field("segment_source", origin.empty() ? std::string("all") : origin);
    w.field("scanned_primary", s.scanned_primary).field("scanned_replica", s.scanned_replica);
    w.field("compared", s.compared).field("suspects", s.suspects).field("settled", s.settled);
    w.field("missing", s.missing).field("different", s.different).field("extraneous", s.extraneous);
    w.field("discrepancies", s.discrepancies()).field("repaired", s.repaired);
    w.field("backfilled", s.backfilled);
    w.key("read_units").raw(fmt::format("{:.3f}", s.read_units));
    w.key("write_units").raw(fmt::format("{:.3f}", s.write_units));
    w.key("elapsed_seconds").raw(fmt::format("{:.3f}", s.elapsed_seconds));
    w.key("scan_seconds").raw(fmt::format("{:.3f}", s.scan_seconds));
    w.key("compare_seconds").raw(fmt::format("{:.3f}", s.compare_seconds));
    w.key("settle_seconds").raw(fmt::format("{:.3f}", s.settle_seconds));
    w.key("reread_seconds").raw(fmt::format("{:.3f}", s.reread_seconds));
    w.field("partitions", s.partitions).field("rounds", s.rounds).field("exit_code", code);
    w.end_object();
    io.out << out << "\n";
    io.out.flush();
  }

  std::string primary_, replica_, endpoint_, temp_dir_;
  aws::CredentialsSpec primary_creds_, replica_creds_;
  bool repair_ = false, backfill_ = false, json_ = false, quiet_ = false;
  int segment_ = 0, segments_ = 0, parallel_ = 4, page_limit_ = 1000;
  double rate_ = 0, settle_ = 2.0;
  CLI::Option* segment_opt_ = nullptr;
  CLI::Option* segments_opt_ = nullptr;
};

// Shared by diff-record and replicate-record: open both tables, check them, read the key.
struct RecordArgs {
  std::string primary, replica, key, endpoint;
  aws::CredentialsSpec primary_creds, replica_creds;

  void setup(CLI::App& app) {
    app.add_option("primary", primary, "the primary table: region/table or host:port/table")->required();
    app.add_option("replica", replica, "the replica table: region/table or host:port/table")->required();
    app.add_option("key", key, R"(the key: {"id":{"S":"a"}} or {"id":"a"})")->required();
    add_endpoint_option(app, endpoint);
    add_credentials_options(app, "primary", "the primary table", primary_creds);
    add_credentials_options(app, "replica", "the replica table", replica_creds);
  }

  // Returns an exit code on failure.
  std::optional<int> open(Io& io, std::string_view command, std::optional<TableTarget>& p,
                          std::optional<TableTarget>& r, model::Item& k) const {
    auto pt = open_table(primary, endpoint, primary_creds);
    if (!pt.ok()) return usage_error(io, command, pt.error().describe());
    auto rt = open_table(replica, endpoint, replica_creds);
    if (!rt.ok()) return usage_error(io, command, rt.error().describe());
    auto parsed = model::parse_key_arg(key);
    if (!parsed.ok()) return usage_error(io, command, fmt::format("key {}: {}", key, parsed.error().describe()));
    p.emplace(std::move(pt).value());
    r.emplace(std::move(rt).value());
    auto schema = diff::check_tables(ref(*p), ref(*r));
    if (!schema.ok()) return report(io, command, schema.error());
    auto checked = diff::key_for_schema(*parsed, *schema);
    if (!checked.ok()) return usage_error(io, command, checked.error().message);
    k = std::move(checked).value();
    return std::nullopt;
  }

  static diff::TableRef ref(const TableTarget& t) { return {t.client.get(), t.table(), t.display()}; }
};

class DiffRecordCommand final : public Command {
 public:
  std::string_view name() const override { return "diff-record"; }
  std::string_view summary() const override {
    return "Compare one item in both tables (consistent reads); exit 1 when they differ";
  }
  std::string_view group() const override { return "Repair"; }
  void setup(CLI::App& app) override { args_.setup(app); }
  int run(Io& io) override {
    std::optional<TableTarget> p, r;
    model::Item key;
    if (auto code = args_.open(io, name(), p, r, key)) return *code;
    auto c = diff::compare_record(RecordArgs::ref(*p), RecordArgs::ref(*r), key);
    if (!c.ok()) return report(io, name(), c.error());
    io.out << diff::format_comparison(*c, p->display(), r->display());
    return c->equal() ? kExitOk : kExitDiscrepancies;
  }

 private:
  RecordArgs args_;
};

class ReplicateRecordCommand final : public Command {
 public:
  std::string_view name() const override { return "replicate-record"; }
  std::string_view summary() const override {
    return "Make one item of the replica match the primary (consistent read; put or delete)";
  }
  std::string_view group() const override { return "Repair"; }
  void setup(CLI::App& app) override { args_.setup(app); }
  int run(Io& io) override {
    std::optional<TableTarget> p, r;
    model::Item key;
    if (auto code = args_.open(io, name(), p, r, key)) return *code;
    auto o = diff::replicate_record(RecordArgs::ref(*p), RecordArgs::ref(*r), key);
    if (!o.ok()) return report(io, name(), o.error());
    const std::string k = model::canonical_key_json(key);
    switch (o->action) {
      case diff::ReplicateOutcome::Action::kNone:
        io.out << fmt::format("unchanged {}: replica {} already matches primary {}{}\n", k, r->display(),
                              p->display(), o->before.primary ? "" : " (neither has the item)");
        break;
      case diff::ReplicateOutcome::Action::kPut:
        io.out << fmt::format("put {}: copied the primary's item to replica {} (it was {})\n", k, r->display(),
                              diff::to_string(*o->before.kind()));
        break;
      case diff::ReplicateOutcome::Action::kDelete:
        io.out << fmt::format("deleted {}: removed it from replica {} (primary {} has no such item)\n", k,
                              r->display(), p->display());
        break;
    }
    return kExitOk;
  }

 private:
  RecordArgs args_;
};

}  // namespace
}  // namespace dynarep::cli

using dynarep::cli::DiffRecordCommand;
using dynarep::cli::DiffTablesCommand;
using dynarep::cli::ReplicateRecordCommand;
DYNAREP_REGISTER_COMMAND(DiffTablesCommand)
DYNAREP_REGISTER_COMMAND(DiffRecordCommand)
DYNAREP_REGISTER_COMMAND(ReplicateRecordCommand)
