#include "cli/command.h"

#include "cli/generate.h"
#include "core/log.h"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>

namespace dynarep::cli {
namespace {

std::vector<CommandFactory>& factories() {
  static std::vector<CommandFactory> list;
  return list;
}

// Order of groups in --help, the way a user meets them.
int group_rank(std::string_view group) {
  static const std::vector<std::string_view> order{"Tables", "Replication", "Repair", "Backup"};
  auto it = std::find(order.begin(), order.end(), group);
  return static_cast<int>(it - order.begin());
}

}  // namespace

bool register_command(CommandFactory factory) {
  factories().push_back(std::move(factory));
  return true;
}

int run(const std::vector<std::string>& argv, Io& io) {
  CLI::App app{
      "dynarep: replicate, verify, repair, back up and restore Amazon DynamoDB tables.\n"
      "Locations: region/table (AWS), host:port/table (local server), s3://bucket/prefix, a "
      "file path, or - for stdin/stdout."};
  app.name("dynarep");
  app.set_version_flag("--version", std::string("dynarep ") + DYNAREP_VERSION);
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Log each request and retry to stderr (secrets redacted)");
  std::string log_format = "text";
  app.add_option("--log-format", log_format,
                 "text (default) or json: one object per line (time, level, message, and shard, sequence, "
                 "table, key when the message names them)")
      ->check(CLI::IsMember({"text", "json"}));

  std::vector<std::unique_ptr<Command>> commands;
  for (auto& f : factories()) commands.push_back(f());
  std::stable_sort(commands.begin(), commands.end(), [](const auto& a, const auto& b) {
    return group_rank(a->group()) < group_rank(b->group());
  });
  std::vector<std::pair<CLI::App*, Command*>> subs;
  for (auto& c : commands) {
    CLI::App* sub = app.add_subcommand(std::string(c->name()), std::string(c->summary()));
    sub->group(std::string(c->group()));
    c->setup(*sub);
    subs.emplace_back(sub, c.get());
  }
  // Hidden (no group): the build runs it to write the man page and completions from this table.
  std::string generate;
  CLI::App* generate_docs = app.add_subcommand(kGenerateDocsCommand, "");
  generate_docs->group("");
  generate_docs->add_option("what", generate)->required()->check(CLI::IsMember({"man", "bash", "zsh"}));

  if (argv.size() > 1 && !argv[1].empty() && argv[1][0] != '-') {
    bool known = argv[1] == kGenerateDocsCommand ||
                 std::any_of(commands.begin(), commands.end(), [&](const auto& c) { return c->name() == argv[1]; });
    if (!known) {
      io.err << "dynarep: unknown command '" << argv[1] << "'\n";
      io.err << "Run 'dynarep --help' for the list of commands.\n";
      return kExitUsage;
    }
  }
  std::vector<std::string> args(argv.rbegin(), argv.rend() - 1);  // CLI11 wants reversed, no argv[0]
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    io.out << app.help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp& e) {
    io.out << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::CallForVersion& e) {
    io.out << e.what() << "\n";
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    io.err << "dynarep: " << e.what() << "\n";
    io.err << "Run 'dynarep --help' for usage.\n";
    return kExitUsage;
  }

  if (generate_docs->parsed()) {
    if (generate == "man") io.out << man_page(app, std::string("dynarep ") + DYNAREP_VERSION);
    if (generate == "bash") io.out << bash_completion(app);
    if (generate == "zsh") io.out << zsh_completion(app);
    return kExitOk;
  }

  configure_logging(log_format == "json" ? LogFormat::kJson : LogFormat::kText, verbose);

  for (auto& [sub, cmd] : subs) {
    if (sub->parsed()) {
      try {
        return cmd->run(io);
      } catch (const CLI::ParseError& e) {
        io.err << "dynarep " << cmd->name() << ": " << e.what() << "\n";
        return kExitUsage;
      }
    }
  }
  io.err << "dynarep: no subcommand given; run 'dynarep --help'\n";
  return kExitUsage;
}

}  // namespace dynarep::cli
