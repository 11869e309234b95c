// The read commands, compatible with mapbox dyno's CLI: tables, table, scan, export, get.
// Items travel as the line format (docs/formats.md §1). The write commands (put, import, delete,
// republish) are in put_commands.cpp.
//
// dyno shapes kept: `dyno <command> <region>/<table>`, `-e ENDPOINT`, `local/<table>` for
// http://localhost:4567, `table` printing DescribeTable's whole answer ({"Table":{...}}),
// `export` printing the description line first.
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <mutex>

#include "aws/credentials.h"
#include "cli/command.h"
#include "cli/common.h"
#include "core/progress.h"
#include "dynamodb/parallel.h"
#include "model/codec.h"
#include "model/item.h"

namespace dynarep::cli {
namespace {

// "table us-east-1/orders does not exist" instead of the service's "Requested resource not found".
Error table_error(Error e, const TableTarget& t) {
  if (e.kind != ErrorKind::kNotFound) return e;
  return Error(ErrorKind::kNotFound, e.code, fmt::format("table {} does not exist", t.display()));
}

class TablesCommand final : public Command {
 public:
  std::string_view name() const override { return "tables"; }
  std::string_view summary() const override { return "List the tables at a region or endpoint"; }
  std::string_view group() const override { return "Tables"; }
  void setup(CLI::App& app) override {
    app.add_option("location", location_, "region (us-east-1) or host:port of a local server")
        ->required();
    app.add_option("-e,--endpoint", endpoint_,
                   "DynamoDB endpoint URL (default: from the location, AWS_ENDPOINT_URL_DYNAMODB or "
                   "AWS_ENDPOINT_URL); -e as in dyno");
  }
  int run(Io& io) override {
    // dyno takes `region/anything` and `local` here too.
    std::string where = location_;
    if (where == "local") where = endpoint_.empty() ? "localhost:4567" : aws::default_region();
    if (auto slash = where.find('/'); slash != std::string::npos) where.resize(slash);
    auto client = open_endpoint(where, endpoint_);
    if (!client.ok()) return usage_error(io, name(), client.error().describe());
    auto names = (*client)->list_tables();
    if (!names.ok()) return report(io, name(), names.error());
    for (const auto& n : *names) io.out << n << "\n";
    return kExitOk;
  }

 private:
  std::string location_, endpoint_;
};

class TableCommand final : public Command {
 public:
  std::string_view name() const override { return "table"; }
  std::string_view summary() const override {
    return "Print a table's description: DescribeTable's answer, {\"Table\":{...}}, as dyno table does";
  }
  std::string_view group() const override { return "Tables"; }
  void setup(CLI::App& app) override { add_location_options(app, location_, endpoint_); }
  int run(Io& io) override {
    auto t = open_location(location_, endpoint_);
    if (!t.ok()) return usage_error(io, name(), t.error().describe());
    auto d = t->client->describe_table(t->table());
    if (!d.ok()) return report(io, name(), table_error(d.error(), *t));
    io.out << "{\"Table\":" << d->raw << "}\n";
    return kExitOk;
  }

 private:
  std::string location_, endpoint_;
};

// scan and export: every item as a line; export first prints the description line.
class ScanCommand : public Command {
 public:
  explicit ScanCommand(bool with_description = false) : export_(with_description) {}
  std::string_view name() const override { return export_ ? "export" : "scan"; }
  std::string_view summary() const override {
    return export_ ? "Print the table description, then every item, a line each (dyno export)"
                   : "Print every item of a table, a line each (DynamoDB JSON)";
  }
  std::string_view group() const override { return "Tables"; }
  void setup(CLI::App& app) override {
    add_location_options(app, location_, endpoint_);
    app.add_option("--segments", segments_,
                   "Parallel scan segments; item order across segments is not defined (default 4)")
        ->check(CLI::Range(1, 1000000));
    app.add_option("--parallel", parallel_, "Segments scanned at once (default: --segments, at most 8)")
        ->check(CLI::Range(1, 1024));
    app.add_flag("--consistent", consistent_, "Strongly consistent reads (twice the read units)");
    app.add_option("--rate-limit", rate_, "Items per second at most (default: no limit)");
    app.add_flag("--quiet", quiet_, "No progress on stderr");
  }
  int run(Io& io) override {
    auto t = open_location(location_, endpoint_);
    if (!t.ok()) return usage_error(io, name(), t.error().describe());
    auto& client = *t->client;
    auto desc = client.describe_table(t->table());
    if (!desc.ok()) return report(io, name(), table_error(desc.error(), *t));
    if (export_) {
      auto line = dynamodb::export_description(*desc);
      if (!line.ok()) return report(io, name(), line.error());
      io.out << *line << "\n";
    }
    std::optional<Progress> progress;
    if (!quiet_) {
      progress.emplace(io.err, Progress::Options{.label = std::string(name()) + " " + t->display(),
                                                  .total = desc->item_count,
                                                  .tty = io.err_is_tty});
    }
    RateLimiter limiter(rate_);
    dynamodb::ParallelScanOptions opt;
    opt.table = t->table();
    opt.total_segments = segments_;
    opt.parallel = parallel_ > 0 ? parallel_ : std::min(segments_, 8);
    opt.consistent_read = consistent_;
    opt.rate_limiter = rate_ > 0 ? &limiter : nullptr;
    std::mutex out_mu;
    std::string buf;
    auto totals = dynamodb::parallel_scan_raw(client, opt, [&](int, dynamodb::RawScanPage& page) -> Status {
      std::string chunk;
      for (const auto& line : page.items) {
        chunk += line;
        chunk += '\n';
      }
      {
        std::lock_guard lock(out_mu);
        io.out << chunk;
        if (!io.out) return fatal("cannot write to standard output");
      }
      if (progress) progress->add(static_cast<int64_t>(page.items.size()));
      return {};
    });
    if (progress) progress->stop();
    io.out.flush();
    if (!totals.ok()) return report(io, name(), totals.error());
    if (!quiet_) {
      io.err << fmt::format("{} {}: {} items, {:.1f} read units, {:.1f}s\n", name(), t->display(),
                            Progress::group_digits(totals->items), totals->read_units,
                            progress ? progress->elapsed_seconds() : 0.0);
    }
    return kExitOk;
  }

 private:
  bool export_;
  std::string location_, endpoint_;
  int segments_ = 4;
  int parallel_ = 0;
  bool consistent_ = false;
  bool quiet_ = false;
  double rate_ = 0;
};

class ExportCommand final : public ScanCommand {
 public:
  ExportCommand() : ScanCommand(true) {}
};

Result<model::Item> key_for_table(const TableTarget& t, const std::string& key_text) {
  DR_ASSIGN(model::Item key, model::parse_key_arg(key_text));
  auto d = t.client->describe_table(t.table());
  if (!d.ok()) return table_error(d.error(), t);
  auto k = model::extract_key(key, d->key_schema);
  if (!k.ok()) return std::move(k).error().with_context("key " + key_text + " for table " + t.display());
  if (k->size() != key.size()) {
    return invalid_input(fmt::format("key {} has attributes that are not part of table {}'s key",
                                     key_text, t.display()));
  }
  return std::move(k).value();
}

class GetCommand final : public Command {
 public:
  std::string_view name() const override { return "get"; }
  std::string_view summary() const override {
    return "Print one item (consistent read); KEY as DynamoDB JSON or plain JSON";
  }
  std::string_view group() const override { return "Tables"; }
  void setup(CLI::App& app) override {
    add_location_options(app, location_, endpoint_);
    app.add_option("key", key_, R"(the key: {"id":{"S":"a"}} or {"id":"a"})")->required();
  }
  int run(Io& io) override {
    auto t = open_location(location_, endpoint_);
    if (!t.ok()) return usage_error(io, name(), t.error().describe());
    auto key = key_for_table(*t, key_);
    if (!key.ok()) return report(io, name(), key.error());
    auto item = t->client->get_item(t->table(), *key, true);
    if (!item.ok()) return report(io, name(), item.error());
    if (!item->has_value()) {
      io.err << "dynarep get: no item with key " << model::canonical_key_json(*key) << " in table "
             << t->display() << "\n";
      return kExitFailure;
    }
    io.out << model::to_json(**item) << "\n";
    return kExitOk;
  }

 private:
  std::string location_, key_, endpoint_;
};

}  // namespace
}  // namespace dynarep::cli

using dynarep::cli::ExportCommand;
using dynarep::cli::GetCommand;
using dynarep::cli::ScanCommand;
using dynarep::cli::TableCommand;
using dynarep::cli::TablesCommand;
DYNAREP_REGISTER_COMMAND(TablesCommand)
DYNAREP_REGISTER_COMMAND(TableCommand)
DYNAREP_REGISTER_COMMAND(ScanCommand)
DYNAREP_REGISTER_COMMAND(ExportCommand)
DYNAREP_REGISTER_COMMAND(GetCommand)

