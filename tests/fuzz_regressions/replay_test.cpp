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

// Runs `run` over fuzz/corpus/<name>/ and inputs/<name>/.
void replay(const char* name, void (*run)(std::string_view)) {
  setup_environment();
  set_failure_handler(&throw_failure);
  int inputs = 0;
  const fs::path dirs[] = {fs::path(DYNAREP_FUZZ_DIR) / "corpus" / name, fs::path(DYNAREP_FUZZ_INPUTS_DIR) / name};
  for (const fs::path& dir : dirs) {
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (!e.is_regular_file() || e.path().filename().string().starts_with(".")) continue;
      ++inputs;
      const std::string data = read_file(e.path());
      try {
        run(data);
      } catch (const PropertyFailed& f) {
        ADD_FAILURE() << e.path() << ": " << f.what();
      } catch (const std::exception& x) {
        ADD_FAILURE() << e.path() << ": threw " << x.what();
      }
    }
  }
  set_failure_handler(nullptr);
  EXPECT_GT(inputs, 0) << "no seeds for " << name;
}

TEST(FuzzReplay, ItemCodec) { replay("item_codec", &item_codec); }
TEST(FuzzReplay, Number) { replay("number", &number); }
TEST(FuzzReplay, PlainJson) { replay("plain_json", &plain_json); }
TEST(FuzzReplay, ChangeRecord) { replay("change_record", &change_record); }
TEST(FuzzReplay, LambdaEvent) { replay("lambda_event", &lambda_event); }
TEST(FuzzReplay, Location) { replay("location", &location); }
TEST(FuzzReplay, S3Xml) { replay("s3_xml", &s3_xml); }
TEST(FuzzReplay, GzipLines) { replay("gzip_lines", &gzip_lines); }
#ifdef DYNAREP_FUZZ_HAVE_BACKUP_READER
TEST(FuzzReplay, BackupReader) { replay("backup_reader", &backup_reader); }
#endif

}  // namespace
}  // namespace dynarep::fuzz
