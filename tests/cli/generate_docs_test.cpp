// The man page and shell completions the build generates (`dynarep generate-docs`): they name
// every command and option that --help names, the man page renders without groff warnings, and
// the completion scripts complete as a user expects when bash (zsh, where installed) runs them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/process.h"

namespace dynarep::testing {
namespace {

std::string generated(const std::string& what) {
  ProcessResult r = run_dynarep({"generate-docs", what});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

// The commands `dynarep --help` lists: the first word of each indented line under a group.
std::vector<std::string> listed_commands() {
  ProcessResult r = run_dynarep({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> out;
  static const std::regex line(R"(^  ([a-z][a-z0-9-]+)  )");
  std::istringstream in(r.out);
  bool in_group = false;
  for (std::string l; std::getline(in, l);) {
    if (!l.empty() && l.back() == ':' && l[0] != ' ') in_group = l != "Options:";
    std::smatch m;
    if (in_group && std::regex_search(l, m, line)) out.push_back(m[1]);
  }
  return out;
}

// Every --long option a command's --help names.
std::set<std::string> options_in_help(const std::string& command) {
  ProcessResult r = run_dynarep({command, "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> out;
  static const std::regex opt(R"((?:^|[ ,])(--[a-z][a-z0-9-]*))");
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), opt), end; it != end; ++it) out.insert((*it)[1]);
  out.erase("--help");
  return out;
}

std::string write_temp(const std::string& name, const std::string& text) {
  auto p = std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
  std::ofstream(p) << text;
  return p.string();
}

TEST(GenerateDocs, HelpListsTheCommandsButNotTheGenerator) {
  auto commands = listed_commands();
  EXPECT_GT(commands.size(), 20u);
  for (const char* c : {"scan", "replicate", "status", "diff-tables", "backup-table", "restore"}) {
    EXPECT_NE(std::find(commands.begin(), commands.end(), c), commands.end()) << c;
  }
  EXPECT_EQ(std::find(commands.begin(), commands.end(), "generate-docs"), commands.end());
  EXPECT_EQ(generated("man").find("generate\\-docs"), std::string::npos);
}

TEST(GenerateDocs, ManPageHasEveryCommandAndEveryOptionOfItsHelp) {
  const std::string man = generated("man");
  ASSERT_EQ(man.rfind(".\\\" Generated", 0), 0u);
  for (const auto& command : listed_commands()) {
    // The command's entry: from its synopsis line to the next command's.
    std::string head = "\\fBdynarep " + std::regex_replace(command, std::regex("-"), "\\-") + "\\fR";
    size_t at = man.find(".TP\n" + head);
    ASSERT_NE(at, std::string::npos) << command;
    size_t end = man.find(".RE\n", at);
    std::string entry = man.substr(at, end - at);
    for (const auto& o : options_in_help(command)) {
      std::string escaped = std::regex_replace(o, std::regex("-"), "\\-");
      EXPECT_NE(entry.find("\\fB" + escaped + "\\fR"), std::string::npos) << command << " " << o;
    }
  }
}

TEST(GenerateDocs, ManPageRendersWithoutWarnings) {
  if (!std::filesystem::exists("/usr/bin/groff")) GTEST_SKIP() << "groff not installed";
  std::string page = write_temp("dynarep.1", generated("man"));
  ProcessResult r = run_process({"/usr/bin/groff", "-man", "-Tutf8", "-ww", "-z", page});
  std::filesystem::remove(page);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
}

// What the bash completion offers for the words typed so far (the last one being completed).
std::string bash_complete(const std::string& script, const std::string& words) {
  ProcessResult r = run_process(
      {"/bin/bash", "-c",
       "source \"$0\"; COMP_WORDS=($1); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _dynarep; echo \"${COMPREPLY[*]}\"",
       script, words});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out.substr(0, r.out.find('\n'));
}

TEST(GenerateDocs, BashCompletionCompletesCommandsThenTheirOptions) {
  std::string script = write_temp("dynarep.bash", generated("bash"));
  EXPECT_EQ(bash_complete(script, "dynarep sc"), "scan");
  EXPECT_EQ(bash_complete(script, "dynarep diff-t"), "diff-tables");
  // A global option's value is not taken for the command.
  EXPECT_EQ(bash_complete(script, "dynarep --log-format json diff-tables --repa"), "--repair");
  EXPECT_EQ(bash_complete(script, "dynarep replicate --report"), "--report-batch-item-failures");
  std::string all = bash_complete(script, "dynarep status --");
  for (const auto& o : options_in_help("status")) EXPECT_NE(all.find(o), std::string::npos) << o << " in " << all;
  EXPECT_EQ(bash_complete(script, "dynarep generate"), "");
  std::filesystem::remove(script);
}

TEST(GenerateDocs, ZshCompletionParses) {
  const std::string z = generated("zsh");
  EXPECT_EQ(z.rfind("#compdef dynarep\n", 0), 0u);
  for (const auto& c : listed_commands()) EXPECT_NE(z.find("    '" + c + ":"), std::string::npos) << c;
  if (!std::filesystem::exists("/usr/bin/zsh") && !std::filesystem::exists("/bin/zsh")) {
    GTEST_SKIP() << "zsh not installed: its syntax check is skipped";
  }
  std::string script = write_temp("_dynarep", z);
  ProcessResult r = run_process({"/bin/zsh", "-n", script});
  std::filesystem::remove(script);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace dynarep::testing
