// Every fuzz harness over its seeds and over the saved inputs of past findings: no crash, no
// sanitizer report (asan preset), every property of fuzz/targets/<target>.cpp holds.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/check.h"
#include "targets/targets.h"

namespace dynarep::fuzz {
namespace {

namespace fs = std::filesystem;

struct Target {
  const char* name;
  void (*run)(std::string_view);
};

const Target kTargets[] = {
    {"item_codec", &item_codec},       {"number", &number},     {"plain_json", &plain_json},
    {"change_record", &change_record}, {"lambda_event", &lambda_event}, {"location", &location},
    {"s3_xml", &s3_xml},               {"gzip_lines", &gzip_lines},
#ifdef DYNAREP_FUZZ_HAVE_BACKUP_READER
    {"backup_reader", &backup_reader},
#endif
};

struct PropertyFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void throw_failure(const std::string& what) { throw PropertyFailed(what); }

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class Replay : public ::testing::TestWithParam<Target> {
 protected:
  static void SetUpTestSuite() {
    setup_environment();
    set_failure_handler(&throw_failure);
  }
  static void TearDownTestSuite() { set_failure_handler(nullptr); }
};

TEST_P(Replay, SeedsAndSavedInputs) {
  const Target t = GetParam();
  int inputs = 0;
  const fs::path dirs[] = {fs::path(DYNAREP_FUZZ_DIR) / "corpus" / t.name, fs::path(DYNAREP_FUZZ_INPUTS_DIR) / t.name};
  for (const fs::path& dir : dirs) {
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (!e.is_regular_file() || e.path().filename().string().starts_with(".")) continue;
      ++inputs;
      const std::string data = read_file(e.path());
      try {
        t.run(data);
      } catch (const PropertyFailed& f) {
        ADD_FAILURE() << e.path() << ": " << f.what();
      } catch (const std::exception& x) {
        ADD_FAILURE() << e.path() << ": threw " << x.what();
      }
    }
  }
  EXPECT_GT(inputs, 0) << "no seeds for " << t.name;
}

std::string target_name(const ::testing::TestParamInfo<Target>& p) { return p.param.name; }

INSTANTIATE_TEST_SUITE_P(Fuzz, Replay, ::testing::ValuesIn(kTargets), target_name);

}  // namespace
}  // namespace dynarep::fuzz
