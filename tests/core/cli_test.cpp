#include <gtest/gtest.h>

#include "support/process.h"

namespace dynarep::testing {
namespace {

TEST(Cli, VersionPrintsTheVersion) {
  auto r = run_dynarep({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("dynarep ", 0), 0u) << r.out;
}

TEST(Cli, HelpListsSubcommands) {
  auto r = run_dynarep({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Usage"), std::string::npos) << r.out;
}

TEST(Cli, UnknownSubcommandIsAUsageError) {
  auto r = run_dynarep({"no-such-command"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no-such-command"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

}  // namespace
}  // namespace dynarep::testing
