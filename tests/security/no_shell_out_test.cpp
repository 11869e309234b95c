// dynarep never runs another program with user input: no system(), popen(), exec*(),
// posix_spawn() or fork() in src/ (nothing through a shell at all). Comments and string literals are ignored. The one
// legitimate exception is listed with the exact call it allows, so another call in the same
// file still fails the test.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "support/stack.h"

namespace dynarep::security {
namespace {

namespace fs = std::filesystem;

// file (relative to src/) -> the call allowed there, exactly as written, and why.
const std::map<std::string, std::pair<std::string, std::string>> kAllowed = {
    {"cli/replicate_command.cpp",
     {R"(::execv("/proc/self/exe", argv))",
      "Lambda custom runtime bootstrap: re-executes this same binary with a fixed argv "
      "(dynarep replicate --lambda-runtime); no user input reaches it"}},
    {"aws/credentials_sources.cpp",
     {R"(::posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), environ))",
      "credential_process: the program the user's AWS profile names, run as the AWS CLI runs it: directly "
      "with its arguments split (never through a shell), stdin from /dev/null"}},
};

// The text with comments and the contents of string and character literals blanked out
// (newlines kept, so line numbers stay right). Raw string literals are blanked too.
std::string code_only(const std::string& s) {
  std::string out = s;
  size_t i = 0;
  auto blank = [&](size_t from, size_t to) {
    for (size_t k = from; k < to && k < out.size(); ++k) {
      if (out[k] != '\n') out[k] = ' ';
    }
  };
  while (i < s.size()) {
    if (s.compare(i, 2, "//") == 0) {
      const size_t end = s.find('\n', i);
      blank(i, end == std::string::npos ? s.size() : end);
      i = end == std::string::npos ? s.size() : end;
    } else if (s.compare(i, 2, "/*") == 0) {
      const size_t end = s.find("*/", i + 2);
      const size_t stop = end == std::string::npos ? s.size() : end + 2;
      blank(i, stop);
      i = stop;
    } else if (s[i] == 'R' && i + 1 < s.size() && s[i + 1] == '"' &&
               (i == 0 || !(std::isalnum(static_cast<unsigned char>(s[i - 1])) || s[i - 1] == '_'))) {
      const size_t paren = s.find('(', i + 2);
      if (paren == std::string::npos) break;
      const std::string close = ")" + s.substr(i + 2, paren - i - 2) + "\"";
      const size_t end = s.find(close, paren);
      const size_t stop = end == std::string::npos ? s.size() : end + close.size();
      blank(i + 2, stop - 1);
      i = stop;
    } else if (s[i] == '"' || s[i] == '\'') {
      const char q = s[i];
      size_t k = i + 1;
      while (k < s.size() && s[k] != q && s[k] != '\n') k += s[k] == '\\' ? 2 : 1;
      blank(i + 1, k);
      i = k + 1;
    } else {
      ++i;
    }
  }
  return out;
}

TEST(NoShellOut, CodeOnlyBlanksCommentsAndStrings) {
  EXPECT_EQ(code_only("a // system(x)\nb"), "a" + std::string(13, ' ') + "\nb");
  EXPECT_EQ(code_only(R"(f("popen(") /* exec( */ g)"), "f(\"      \")" + std::string(13, ' ') + "g");
  EXPECT_EQ(code_only("R\"x(system()\")x\" y"), "R\"" + std::string(13, ' ') + "\" y");
}

TEST(NoShellOut, SourcesRunNoPrograms) {
  const std::regex call(R"(\b(system|popen|execl|execlp|execle|execv|execve|execvp|execvpe|fexecve|posix_spawnp?|fork|vfork|wordexp)\s*\()");
  const fs::path src = fs::path(dynarep::testing::source_dir()) / "src";
  ASSERT_TRUE(fs::is_directory(src)) << src;
  int files = 0;
  std::vector<std::string> allowed_seen;
  for (const auto& entry : fs::recursive_directory_iterator(src)) {
    const std::string ext = entry.path().extension().string();
    if (!entry.is_regular_file() || (ext != ".cpp" && ext != ".h" && ext != ".hpp" && ext != ".cc")) continue;
    ++files;
    std::ifstream in(entry.path());
    std::stringstream buf;
    buf << in.rdbuf();
    const std::string original = buf.str();
    const std::string code = code_only(original);
    const std::string rel = fs::relative(entry.path(), src).generic_string();
    for (auto it = std::sregex_iterator(code.begin(), code.end(), call); it != std::sregex_iterator(); ++it) {
      const size_t at = static_cast<size_t>(it->position());
      const size_t line_start = original.rfind('\n', at) + 1;
      const std::string line = original.substr(line_start, original.find('\n', at) - line_start);
      const auto allow = kAllowed.find(rel);
      // "::execv(" matches as "execv(": compare the call as written on the line.
      if (allow != kAllowed.end() && line.find(allow->second.first) != std::string::npos) {
        allowed_seen.push_back(rel);
        continue;
      }
      const size_t line_no = static_cast<size_t>(std::count(original.begin(), original.begin() + static_cast<long>(at), '\n')) + 1;
      ADD_FAILURE() << "src/" << rel << ":" << line_no << " runs a program: " << line;
    }
  }
  EXPECT_GT(files, 20) << "found too few sources under " << src;
  for (const auto& [file, why] : kAllowed) {
    if (std::find(allowed_seen.begin(), allowed_seen.end(), file) == allowed_seen.end()) {
      ADD_FAILURE() << "the allowed call in src/" << file << " is gone: remove it from kAllowed (" << why.second << ")";
    }
  }
}

}  // namespace
}  // namespace dynarep::security
