// The man page and the shell completions, generated from the same CLI11 command table that
// prints --help, so they cannot drift from it. Run at build time by the hidden command
// `dynarep generate-docs man|bash|zsh` (src/app/CMakeLists.txt installs the results).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace dynarep::cli {

// The name of the hidden command; not listed in --help, the man page or the completions.
inline constexpr const char* kGenerateDocsCommand = "generate-docs";

// dynarep(1) in troff (man macros): every listed command with its summary, arguments and
// options as --help shows them, the global options, the exit codes.
std::string man_page(const CLI::App& app, const std::string& version);

// A bash completion script (`complete -F _dynarep dynarep`): command names, then the options
// of the command given; file names for option values and positionals.
std::string bash_completion(const CLI::App& app);

// A zsh completion function (`#compdef dynarep`, installed as _dynarep).
std::string zsh_completion(const CLI::App& app);

}  // namespace dynarep::cli
