// One class per subcommand (name, help, options, run), registered at start-up, so each
// subcommand can be run from a test in-process through cli::run().
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dynarep::cli {

// Exit codes, docs/formats.md §5.
enum ExitCode : int {
  kExitOk = 0,
  kExitDiscrepancies = 1,  // diff found discrepancies it did not repair
  kExitUsage = 2,
  kExitFailure = 3,  // service, network or data failure
};

struct Io {
  std::istream& in;
  std::ostream& out;  // data
  std::ostream& err;  // errors, progress, logs
  bool err_is_tty = false;
};

class Command {
 public:
  virtual ~Command() = default;
  virtual std::string_view name() const = 0;
  virtual std::string_view summary() const = 0;
  // Groups subcommands in --help: "Tables", "Replication", "Repair", "Backup".
  virtual std::string_view group() const = 0;
  // Declares options on the subcommand; the values land in members of the command.
  virtual void setup(CLI::App& app) = 0;
  virtual int run(Io& io) = 0;
};

using CommandFactory = std::function<std::unique_ptr<Command>()>;

// Registers a command factory; call through DYNAREP_REGISTER_COMMAND in the command's file.
bool register_command(CommandFactory factory);

// Parses argv and runs the chosen subcommand. argv[0] is the program name.
int run(const std::vector<std::string>& argv, Io& io);

}  // namespace dynarep::cli

#define DYNAREP_REGISTER_COMMAND(Type)                                                  \
  namespace {                                                                           \
  [[maybe_unused]] const bool registered_##Type =                                      \
      ::dynarep::cli::register_command([] { return std::make_unique<Type>(); });        \
  }
