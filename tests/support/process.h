// Runs a program the way a user would (no shell), feeding stdin and capturing the output.
#pragma once

#include <spawn.h>
#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace dynarep::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
};

// argv[0] is the program path. `extra_env` is added to (or overrides) this process's environment.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& stdin_data = "",
                          const std::map<std::string, std::string>& extra_env = {});

// The one place tests start a process: posix_spawn of `argv` (argv[0] the program path) with the
// file actions `fa` and this process's environment plus `extra_env` (which overrides). Stores the
// child's pid in `pid`; returns posix_spawn's result (0, or an errno value).
int spawn_process(pid_t& pid, const std::vector<std::string>& argv, const posix_spawn_file_actions_t& fa,
                  const std::map<std::string, std::string>& extra_env);

// The path of `name` found on $PATH (posix_spawn does not search it), or "" when it is not there.
std::string find_program(const std::string& name);

// Runs the dynarep binary under test (DYNAREP_BINARY) with these arguments.
ProcessResult run_dynarep(const std::vector<std::string>& args, const std::string& stdin_data = "",
                          const std::map<std::string, std::string>& extra_env = {});

}  // namespace dynarep::testing
