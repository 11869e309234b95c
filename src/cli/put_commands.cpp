// put and import: read items a line each and write them in parallel batches, retrying
// unprocessed items until every one is written. import first reads dyno export's
// description line and creates the table when it does not exist.
#include <fmt/format.h>

#include <fstream>
#include <iostream>

#include "cli/command.h"
#include "cli/common.h"
#include "core/progress.h"
#include "dynamodb/parallel.h"
#include "model/codec.h"
#include "model/item.h"

namespace dynarep::cli {
namespace {

class PutCommand : public Command {
 public:
  explicit PutCommand(bool import = false) : import_(import) {}
  std::string_view name() const override { return import_ ? "import" : "put"; }
  std::string_view summary() const override {
    return import_ ? "Create a table from dyno export's description line and load its items"
                   : "Write items, a line each (DynamoDB JSON), from stdin or a file";
  }
  std::string_view group() const override { return "Tables"; }
  void setup(CLI::App& app) override {
    app.add_option("location", location_, "region/table or host:port/table")->required();
    app.add_option("file", file_, "file to read (default: - for stdin)");
    add_endpoint_option(app, endpoint_);
    app.add_option("--parallel", parallel_, "Concurrent BatchWriteItem calls (default 8)")
        ->check(CLI::Range(1, 256));
    app.add_flag("--quiet", quiet_, "No progress on stderr");
  }

  int run(Io& io) override {
    auto t = open_table(location_, endpoint_);
    if (!t.ok()) return usage_error(io, name(), t.error().describe());
    std::ifstream file;
    std::istream* in = &io.in;
    if (file_ != "-") {
      file.open(file_, std::ios::binary);
      if (!file) return report(io, name(), invalid_input(fmt::format("cannot open {}", file_)));
      in = &file;
    }
    std::string source = file_ == "-" ? "stdin" : file_;
    auto& client = *t->client;

    std::string line;
    int64_t line_no = 0;
    if (import_) {
      if (!std::getline(*in, line)) {
        return report(io, name(), invalid_input(source + ": empty input: import expects dyno "
                                                         "export's description line first"));
      }
      line_no = 1;
      auto st = ensure_table(io, client, t->table(), line);
      if (!st.ok()) return report(io, name(), Error(st.error()).with_context(source + " line 1"));
    }
    auto desc = client.describe_table(t->table());
    if (!desc.ok()) return report(io, name(), desc.error());
    const model::KeySchema schema = desc->key_schema;

    std::optional<Progress> progress;
    if (!quiet_) {
      progress.emplace(io.err, Progress::Options{.label = std::string(name()) + " " + t->display(),
                                                  .tty = io.err_is_tty});
    }
    dynamodb::BatchWriter writer(client, t->table(), schema,
                                 {.parallel = parallel_, .progress = progress ? &*progress : nullptr});
    model::ItemParser parser;
    std::optional<Error> bad;
    while (std::getline(*in, line)) {
      ++line_no;
      if (line.empty() || line == "\r") continue;
      auto item = parser.parse(line);
      if (!item.ok()) {
        bad = Error(item.error()).with_context(fmt::format("{} line {}", source, line_no));
        break;
      }
      auto key = model::extract_key(*item, schema);
      if (!key.ok()) {
        bad = Error(key.error()).with_context(fmt::format("{} line {}", source, line_no));
        break;
      }
      size_t size = model::item_size(*item);
      if (size > model::kMaxItemSize) {
        bad = invalid_input(fmt::format("item {} is {} bytes, over DynamoDB's 400 KB limit",
                                        model::canonical_key_json(*key), size))
                  .with_context(fmt::format("{} line {}", source, line_no));
        break;
      }
      auto st = writer.add({dynamodb::WriteRequest::Kind::kPut, std::move(item).value()});
      if (!st.ok()) break;  // a write failed; finish() below reports it
    }
    auto st = writer.finish();
    if (progress) progress->stop();
    int64_t written = writer.written();
    if (!st.ok()) {
      io.err << fmt::format("dynarep {}: {}\n", name(), st.error().describe());
      io.err << fmt::format("dynarep {}: {} items were written to {} before the failure; writing "
                            "the same input again is safe (puts are idempotent)\n",
                            name(), written, t->display());
      return kExitFailure;
    }
    if (bad) {
      io.err << fmt::format("dynarep {}: {}\n", name(), bad->describe());
      io.err << fmt::format("dynarep {}: stopped at line {}: the {} items before it were written, "
                            "nothing after it; fix the line and resume with `tail -n +{} {}`\n",
                            name(), line_no, written, line_no, file_ == "-" ? "FILE" : file_);
      return kExitFailure;
    }
    if (!quiet_) {
      io.err << fmt::format("{} {}: {} items written in {:.1f}s\n", name(), t->display(),
                            Progress::group_digits(written),
                            progress ? progress->elapsed_seconds() : 0.0);
    }
    return kExitOk;
  }

 private:
  // import: create the table from the description line unless it exists already.
  Status ensure_table(Io& io, dynamodb::Client& client, const std::string& table,
                      const std::string& description) {
    auto existing = client.describe_table(table);
    if (existing.ok()) {
      if (!quiet_) io.err << "import: table " << table << " exists; loading items into it\n";
      return {};
    }
    if (existing.error().kind != ErrorKind::kNotFound) return existing.error();
    DR_ASSIGN(std::string request, dynamodb::create_table_request(description, table));
    if (!quiet_) io.err << "import: creating table " << table << "\n";
    DR_TRY(client.create_table(request));
    return client.wait_until_active(table);
  }

  bool import_;
  std::string location_, endpoint_;
  std::string file_ = "-";
  int parallel_ = 8;
  bool quiet_ = false;
};

class ImportCommand final : public PutCommand {
 public:
  ImportCommand() : PutCommand(true) {}
};

}  // namespace
}  // namespace dynarep::cli

using dynarep::cli::ImportCommand;
using dynarep::cli::PutCommand;
DYNAREP_REGISTER_COMMAND(PutCommand)
DYNAREP_REGISTER_COMMAND(ImportCommand)
