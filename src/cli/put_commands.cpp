// The write commands: put, import, delete and republish. Items travel as the line format
// (docs/formats.md §1); with --stream NAME every confirmed write's KEYS_ONLY change record goes to
// that Kinesis stream (§3), through writer::StreamPublisher.
//
// put and import read items a line each and write them in parallel batches, re-sending
// unprocessed items until every one is written. import first reads dyno export's description
// line and creates the table (on-demand or provisioned, as described) when it does not exist.
//
// Nothing is lost silently: a bad line stops the reading with its line number after what came
// before it is written; a failed write reports exactly how many items were written; a change
// record that cannot be published is listed (one line each, and in --unpublished-file) for
// `dynarep republish`, and the exit code is 3.
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>

#include "aws/credentials.h"
#include "cli/command.h"
#include "cli/common.h"
#include "core/progress.h"
#include "dynamodb/client.h"
#include "dynamodb/table_load.h"
#include "model/codec.h"
#include "model/item.h"
#include "writer/batch_writer.h"
#include "writer/change.h"
#include "writer/publisher.h"
#include "writer/replicated_table.h"
#include "writer/stream_target.h"

namespace dynarep::cli {
namespace {

// "1 item", "2 items".
std::string items(int64_t n) { return fmt::format("{} item{}", n, n == 1 ? "" : "s"); }

// --stream and friends, shared by every command that publishes change records.
struct StreamFlags {
  std::string name;
  std::string region;
  std::string endpoint;
  std::string unpublished_file;
  int parallel = 4;

  void setup(CLI::App& app, bool required = false) {
    auto* o = app.add_option("--stream", name,
                             "Kinesis stream for the change records of confirmed writes (default: none, "
                             "nothing is published)");
    if (required) o->required();
    app.add_option("--stream-region", region,
                   "The stream's region (default: the table's region; else AWS_REGION or us-east-1)");
    app.add_option("--stream-endpoint", endpoint,
                   "Kinesis endpoint URL (default: AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL, or the region's)");
    app.add_option("--unpublished-file", unpublished_file,
                   "Also write change records that could not be published to this file, a line each, for "
                   "`dynarep republish` (default: only listed on stderr)");
    app.add_option("--stream-parallel", parallel,
                   "PutRecords calls at once (default 4); 1 sends one call at a time, for a stream with "
                   "little capacity or a local server that numbers records unsafely (moto)")
        ->check(CLI::Range(1, 64));
  }
  bool enabled() const { return !name.empty(); }
  writer::StreamLocation location(const std::string& table_region) const {
    return {name, region.empty() ? table_region : region, endpoint};
  }
};

struct Publishing {
  writer::StreamLocation where;
  std::shared_ptr<writer::StreamPublisher> publisher;
};

// The stream flags' usage errors (exit 2), checked before anything touches the network.
std::optional<int> check_stream_flags(Io& io, std::string_view command, const StreamFlags& flags) {
  if (!flags.enabled()) {
    if (!flags.unpublished_file.empty()) return usage_error(io, command, "--unpublished-file needs --stream");
    return std::nullopt;
  }
  if (auto st = writer::validate_stream_name(flags.name); !st.ok()) {
    return usage_error(io, command, st.error().message);
  }
  return std::nullopt;
}

// Connects to the stream and checks it exists before anything is written. Returns the exit
// code to use on failure (2 for bad flags, 3 otherwise).
std::optional<int> start_publishing(Io& io, std::string_view command, const StreamFlags& flags,
                                    const std::string& table_region, std::optional<Publishing>& out) {
  if (auto rc = check_stream_flags(io, command, flags)) return rc;
  if (!flags.enabled()) return std::nullopt;
  auto where = flags.location(table_region);
  auto client = writer::connect_stream(where);
  if (!client.ok()) return report(io, command, client.error());
  writer::PublisherOptions opt;
  opt.stream = where.name;
  opt.max_in_flight = flags.parallel;
  out = Publishing{where, std::make_shared<writer::StreamPublisher>(std::move(client).value(), opt)};
  return std::nullopt;
}

// Lists changes that are on the table but not on the stream, one line each, writes them to
// --unpublished-file when given, and says how to heal the gap.
void report_unpublished(Io& io, std::string_view command, const StreamFlags& flags,
                        const std::vector<writer::Change>& unpublished, const std::optional<Error>& why,
                        const std::string& table_display) {
  io.err << fmt::format("dynarep {}: {} change record{} of confirmed writes could not be published to stream {}: "
                        "{}\n",
                        command, unpublished.size(), unpublished.size() == 1 ? "" : "s", flags.name,
                        why ? why->describe() : "unknown error");
  for (const auto& c : unpublished) io.err << fmt::format("dynarep {}: unpublished {}\n", command, describe(c));
  std::string file_hint = "FILE";
  if (!flags.unpublished_file.empty()) {
    auto st = writer::write_change_file(flags.unpublished_file, unpublished);
    if (st.ok()) {
      file_hint = flags.unpublished_file;
      io.err << fmt::format("dynarep {}: the unpublished records are in {}\n", command, flags.unpublished_file);
    } else {
      io.err << fmt::format("dynarep {}: {}\n", command, st.error().describe());
    }
  }
  const std::string table = table_display.empty() ? "PRIMARY" : table_display;
  io.err << fmt::format(
      "dynarep {}: those writes are on {} but the replica will not hear of them: republish with "
      "`dynarep republish --stream {} {}`{}, or repair the replica with `dynarep diff-tables {} REPLICA "
      "--repair`\n",
      command, table_display.empty() ? "the primary table" : table_display, flags.name, file_hint,
      flags.unpublished_file.empty() ? " (with --unpublished-file FILE the records go to that file)" : "", table);
}

class PutCommand : public Command {
 public:
  explicit PutCommand(bool import = false) : import_(import) {}
  std::string_view name() const override { return import_ ? "import" : "put"; }
  std::string_view summary() const override {
    return import_ ? "Create a table from dyno export's description line and load its items (dyno import)"
                   : "Write items, a line each (DynamoDB JSON), from stdin or a file (dyno put)";
  }
  std::string_view group() const override { return "Tables"; }
  void setup(CLI::App& app) override {
    add_location_options(app, location_, endpoint_);
    app.add_option("file", file_, "file to read (default: - for stdin)");
    app.add_option("--parallel", parallel_, "Concurrent BatchWriteItem calls (default 8)")
        ->check(CLI::Range(1, 256));
    app.add_flag("--quiet", quiet_, "No progress or summary on stderr");
    stream_.setup(app);
  }

  int run(Io& io) override {
    auto t = open_location(location_, endpoint_);
    if (!t.ok()) return usage_error(io, name(), t.error().describe());
    std::ifstream file;
    std::istream* in = &io.in;
    if (file_ != "-") {
      file.open(file_, std::ios::binary);
      if (!file) return usage_error(io, name(), fmt::format("cannot open {}: {}", file_, std::strerror(errno)));
      in = &file;
    }
    source_ = file_ == "-" ? "stdin" : file_;
    if (auto rc = check_stream_flags(io, name(), stream_)) return *rc;

    int64_t line_no = 0;
    auto schema = prepare_table(io, *in, *t, line_no);
    if (!schema.ok()) return report(io, name(), schema.error());

    std::optional<Publishing> pub;
    if (auto rc = start_publishing(io, name(), stream_, t->location.endpoint.region, pub)) return *rc;

    std::optional<Progress> progress;
    if (!quiet_) {
      progress.emplace(io.err, Progress::Options{.label = std::string(name()) + " " + t->display(),
                                                  .tty = io.err_is_tty});
    }
    writer::BatchWriterOptions wopt;
    wopt.parallel = parallel_;
    wopt.progress = progress ? &*progress : nullptr;
    wopt.publisher = pub ? pub->publisher.get() : nullptr;
    wopt.aws_region = t->location.endpoint.region;
    writer::BatchWriter writer(*t->client, t->table(), *schema, wopt);
    Loaded loaded = load(*in, writer, *schema, line_no);
    auto result = writer.finish();
    if (progress) progress->stop();
    return summarize(io, *t, result, loaded, pub, progress ? progress->elapsed_seconds() : 0.0);
  }

 private:
  // How reading the input ended.
  struct Loaded {
    std::optional<Error> bad;   // a line that is not a loadable item
    int64_t line_no = 0;        // the last line read
    int64_t last_read = 0;      // the last line handed to the writer (or skipped as blank)
    bool stopped_early = false; // the writer failed with input left
  };

  // put: the table must exist. import: line 1 is dyno export's description; the table is
  // created from it, or, when it exists, must have the description's key (dynamodb/table_load.h).
  Result<model::KeySchema> prepare_table(Io& io, std::istream& in, const TableTarget& t, int64_t& line_no) {
    dynamodb::LoadTableOptions opt;
    opt.table = t.table();
    opt.display = t.display();
    opt.create = dynamodb::LoadTableOptions::Create::kNever;
    opt.missing_hint = " (create it first, or use `dynarep import` with a description line)";
    if (import_) {
      std::string line;
      if (!std::getline(in, line)) {
        return invalid_input(source_ + ": empty input: import expects dyno export's description line first");
      }
      line_no = 1;
      opt.description = line;
      opt.key_source = "the description line";
      opt.create = dynamodb::LoadTableOptions::Create::kIfMissing;
      opt.missing_hint.clear();
      if (!quiet_) opt.log = [&io](const std::string& l) { io.err << "import: " << l << "\n"; };
    }
    auto table = dynamodb::prepare_load_table(*t.client, opt);
    if (!table.ok()) {
      Error e = table.error();
      return import_ ? e.with_context(source_ + " line 1") : e;
    }
    return table->key_schema;
  }

  // Reads the items after `line_no` into the writer until the input ends, a line is bad or
  // the writer failed.
  Loaded load(std::istream& in, writer::BatchWriter& writer, const model::KeySchema& schema, int64_t line_no) {
    Loaded out;
    out.line_no = out.last_read = line_no;
    model::ItemParser parser;
    std::string line;
    while (std::getline(in, line)) {
      ++out.line_no;
      if (line.empty() || line == "\r") {
        out.last_read = out.line_no;
        continue;
      }
      auto item = check_line(parser, line, schema, out.line_no);
      if (!item.ok()) {
        out.bad = item.error();
        break;
      }
      if (!writer.add({dynamodb::WriteRequest::Kind::kPut, std::move(item).value()}).ok()) break;
      out.last_read = out.line_no;
      // A failed write or an unpublishable record: read no further, so the gap stays small.
      if (writer.failed()) {
        out.stopped_early = !in.eof() && in.peek() != std::char_traits<char>::eof();
        break;
      }
    }
    return out;
  }

  // Says what happened, one line per fact, and picks the exit code.
  int summarize(Io& io, const TableTarget& t, const writer::WriteResult<writer::BatchWriteSummary>& result,
                const Loaded& loaded, const std::optional<Publishing>& pub, double seconds) {
    const bool write_failed = !result.ok() && result.error().write_error.has_value();
    const int64_t written = result.ok() ? result->written : result.error().written;
    int rc = kExitOk;
    if (write_failed) {
      io.err << fmt::format("dynarep {}: {}\n", name(), result.error().write_error->describe());
      io.err << fmt::format("dynarep {}: {} written to {} before the failure (not necessarily the first lines: "
                            "writes run in parallel); writing the same input again is safe (puts are "
                            "idempotent)\n",
                            name(), items(written), t.display());
      rc = kExitFailure;
    }
    if (!result.ok() && !result.error().unpublished.empty()) {
      report_unpublished(io, name(), stream_, result.error().unpublished, result.error().publish_error, t.display());
      if (!write_failed && loaded.stopped_early && !loaded.bad) {
        io.err << fmt::format("dynarep {}: stopped after line {}: every item up to it was written ({}), nothing "
                              "after it; resume with `tail -n +{} {} | dynarep put {}{}`\n",
                              name(), loaded.last_read, items(written), loaded.last_read + 1,
                              file_ == "-" ? "FILE" : file_, t.display(), stream_flags_text());
      }
      rc = kExitFailure;
    }
    if (loaded.bad) {
      io.err << fmt::format("dynarep {}: {}\n", name(), loaded.bad->describe());
      if (!write_failed) {
        io.err << fmt::format("dynarep {}: stopped at line {}: {} before it written, nothing from it on; fix the "
                              "line and resume with `tail -n +{} {} | dynarep put {}{}`\n",
                              name(), loaded.line_no, items(written), loaded.line_no, file_ == "-" ? "FILE" : file_,
                              t.display(), stream_flags_text());
        rc = kExitFailure;
      }
    }
    if (rc == kExitOk && !quiet_) {
      std::string published;
      if (pub) {
        published = fmt::format(", {} change records published to stream {}",
                                Progress::group_digits(static_cast<int64_t>(pub->publisher->stats().published)),
                                stream_.name);
      }
      io.err << fmt::format("{} {}: {} items written in {:.1f}s{}\n", name(), t.display(),
                            Progress::group_digits(written), seconds, published);
    }
    return rc;
  }

  // Parses and checks one line as DynamoDB would, naming the line (and the key, when known).
  Result<model::Item> check_line(model::ItemParser& parser, const std::string& line, const model::KeySchema& schema,
                                 int64_t line_no) {
    const std::string where = fmt::format("{} line {}", source_, line_no);
    auto item = parser.parse(line);
    if (!item.ok()) return std::move(item).error().with_context(where);
    if (auto key = dynamodb::check_load_item(*item, schema); !key.ok()) {
      return std::move(key).error().with_context(where);
    }
    return std::move(item).value();
  }

  std::string stream_flags_text() const {
    if (!stream_.enabled()) return "";
    std::string s = " --stream " + stream_.name;
    if (!stream_.region.empty()) s += " --stream-region " + stream_.region;
    if (!stream_.endpoint.empty()) s += " --stream-endpoint " + stream_.endpoint;
    return s;
  }

  bool import_;
  std::string location_, endpoint_;
  std::string file_ = "-";
  std::string source_;
  int parallel_ = 8;
  bool quiet_ = false;
  StreamFlags stream_;
};

class ImportCommand final : public PutCommand {
 public:
  ImportCommand() : PutCommand(true) {}
};

class DeleteCommand final : public Command {
 public:
  std::string_view name() const override { return "delete"; }
  std::string_view summary() const override { return "Delete one item; KEY as DynamoDB JSON or plain JSON"; }
  std::string_view group() const override { return "Tables"; }
  void setup(CLI::App& app) override {
    add_location_options(app, location_, endpoint_);
    app.add_option("key", key_, R"(the key: {"id":{"S":"a"}} or {"id":"a"})")->required();
    stream_.setup(app);
  }
  int run(Io& io) override {
    auto t = open_location(location_, endpoint_);
    if (!t.ok()) return usage_error(io, name(), t.error().describe());
    auto key = model::parse_key_arg(key_);
    if (!key.ok()) return usage_error(io, name(), Error(key.error()).with_context("key " + key_).describe());
    if (auto rc = check_stream_flags(io, name(), stream_)) return *rc;
    auto d = t->client->describe_table(t->table());
    if (!d.ok()) {
      if (d.error().kind != ErrorKind::kNotFound) return report(io, name(), d.error());
      return report(io, name(), Error(ErrorKind::kNotFound, d.error().code,
                                      fmt::format("table {} does not exist", t->display())));
    }
    std::optional<Publishing> pub;
    if (auto rc = start_publishing(io, name(), stream_, t->location.endpoint.region, pub)) return *rc;
    writer::ReplicatedTableConfig config;
    config.write = {t->client, t->table()};
    config.publisher = pub ? pub->publisher : nullptr;
    config.aws_region = t->location.endpoint.region;
    writer::ReplicatedTable table(std::move(config), d->key_schema);
    auto st = table.remove(*key);
    if (st.ok()) return kExitOk;
    if (st.error().unpublished_only()) {
      report_unpublished(io, name(), stream_, st.error().unpublished, st.error().publish_error, t->display());
      return kExitFailure;
    }
    Error e = st.error().error();
    if (e.kind == ErrorKind::kInvalidInput) e.with_context("key " + key_);
    return report(io, name(), e);
  }

 private:
  std::string location_, key_, endpoint_;
  StreamFlags stream_;
};

// Sends change records that an earlier write could not publish: the lines of an
// --unpublished-file (or any KEYS_ONLY records, a line each), as they are, same event IDs.
class RepublishCommand final : public Command {
 public:
  std::string_view name() const override { return "republish"; }
  std::string_view summary() const override {
    return "Put change records from an --unpublished-file (a record a line) on the stream";
  }
  std::string_view group() const override { return "Replication"; }
  void setup(CLI::App& app) override {
    app.add_option("file", file_, "the records, a line each (- for stdin)")->required();
    stream_.setup(app, true);
  }
  int run(Io& io) override {
    if (auto rc = check_stream_flags(io, name(), stream_)) return *rc;
    std::ifstream file;
    std::istream* in = &io.in;
    if (file_ != "-") {
      file.open(file_, std::ios::binary);
      if (!file) return usage_error(io, name(), fmt::format("cannot open {}: {}", file_, std::strerror(errno)));
      in = &file;
    }
    const std::string source = file_ == "-" ? "stdin" : file_;
    // Read and check every line first: a bad file publishes nothing.
    std::vector<writer::Change> changes;
    std::string line;
    int64_t line_no = 0;
    while (std::getline(*in, line)) {
      ++line_no;
      if (line.empty() || line == "\r") continue;
      auto c = writer::parse_change_line(line);
      if (!c.ok()) {
        return report(io, name(), Error(c.error()).with_context(fmt::format("{} line {}", source, line_no)));
      }
      changes.push_back(std::move(c).value());
    }
    std::optional<Publishing> pub;
    if (auto rc = start_publishing(io, name(), stream_, "", pub)) return *rc;
    auto out = pub->publisher->republish(changes);
    if (!out.ok()) {
      report_unpublished(io, name(), stream_, out.unpublished, out.error, "");
      return kExitFailure;
    }
    io.err << fmt::format("republish: {} change records published to {}\n", changes.size(),
                          writer::describe(pub->where));
    return kExitOk;
  }

 private:
  std::string file_;
  StreamFlags stream_;
};

}  // namespace
}  // namespace dynarep::cli

using dynarep::cli::DeleteCommand;
using dynarep::cli::ImportCommand;
using dynarep::cli::PutCommand;
using dynarep::cli::RepublishCommand;
DYNAREP_REGISTER_COMMAND(PutCommand)
DYNAREP_REGISTER_COMMAND(ImportCommand)
DYNAREP_REGISTER_COMMAND(DeleteCommand)
DYNAREP_REGISTER_COMMAND(RepublishCommand)
