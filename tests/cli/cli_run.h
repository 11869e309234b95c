// Runs dynarep commands in-process, through the CLI's entry point (cli::run, the function
// main() calls), with string streams for stdin, stdout and stderr: what a user sees (output,
// messages, exit code) without starting a process, so a test takes milliseconds.
//
// The end-to-end tests (cli_table_test, cli_stream_test, dyno_interop_test, ...) still run
// the built binary; these are the quick loop for arguments, messages and exit codes.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "cli/command.h"

namespace dynarep::cli::testing {

struct CliRun {
  int exit_code = -1;
  std::string out;  // stdout: data
  std::string err;  // stderr: errors, progress, summaries
};

// `args` without the program name: {"put", "us-east-1/t", "--quiet"}.
inline CliRun run_cli(const std::vector<std::string>& args, const std::string& stdin_data = "") {
  std::istringstream in(stdin_data);
  std::ostringstream out, err;
  Io io{in, out, err, false};
  std::vector<std::string> argv{"dynarep"};
  argv.insert(argv.end(), args.begin(), args.end());
  CliRun r;
  r.exit_code = run(argv, io);
  r.out = out.str();
  r.err = err.str();
  return r;
}

}  // namespace dynarep::cli::testing
