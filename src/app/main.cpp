#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "cli/command.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  std::vector<std::string> args(argv, argv + argc);
  dynarep::cli::Io io{std::cin, std::cout, std::cerr, ::isatty(STDERR_FILENO) == 1};
  int rc = dynarep::cli::run(args, io);
  std::cout.flush();
  return rc;
}
