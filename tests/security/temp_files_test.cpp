// Files dynarep creates on its own are private. diff-tables spills what it scans to a
// directory made with mkdtemp (0700 whatever the umask) holding files opened 0600 and
// unlinked at once. Local backup files (Storage's file sink: a ".tmp-XXXXXXXX" name beside
// the destination, renamed into place) get the permissions the umask allows, like any file a
// user asks a tool to write: never wider, and private under umask 077.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

#include "backup/storage.h"
#include "diff/detail/spill.h"

namespace dynarep::security {
namespace {

namespace fs = std::filesystem;

class UmaskGuard {
 public:
  explicit UmaskGuard(mode_t m) : old_(::umask(m)) {}
  ~UmaskGuard() { ::umask(old_); }
  UmaskGuard(const UmaskGuard&) = delete;
  UmaskGuard& operator=(const UmaskGuard&) = delete;

 private:
  mode_t old_;
};

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// The mode of an open descriptor of this process whose (unlinked) file was under `dir`.
std::optional<mode_t> open_file_mode_under(const std::string& dir) {
  for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const fs::path target = fs::read_symlink(e.path(), ec);
    if (ec || target.string().rfind(dir + "/", 0) != 0) continue;
    struct stat st {};
    const int fd = std::stoi(e.path().filename().string());
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) return st.st_mode & 07777;
  }
  return std::nullopt;
}

class TempFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("dynarep-security-tmp-" + std::to_string(::getpid()));
    fs::create_directories(base_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }
  fs::path base_;
};

TEST_F(TempFilesTest, DiffSpillDirectoryAndFilesArePrivateWhateverTheUmask) {
  UmaskGuard open_umask(0);  // the widest: only the modes dynarep asks for count
  auto dir = diff::detail::TempDir::create(base_.string());
  ASSERT_TRUE(dir.ok()) << dir.error().describe();
  const fs::path path = (*dir)->path();
  EXPECT_EQ(path.parent_path(), base_);
  EXPECT_EQ(mode_of(path), 0700u) << path;

  auto file = (*dir)->new_file("scan");
  ASSERT_TRUE(file.ok()) << file.error().describe();
  ASSERT_TRUE((*file)->append("spilled key data").ok());
  ASSERT_TRUE((*file)->flush().ok());
  EXPECT_TRUE(fs::is_empty(path)) << "a spill file is still linked in " << path;
  const auto mode = open_file_mode_under(path.string());
  ASSERT_TRUE(mode.has_value()) << "no open spill file found under " << path;
  EXPECT_EQ(*mode, 0600u);

  file->reset();
  dir->reset();
  EXPECT_FALSE(fs::exists(path)) << "the spill directory outlived its TempDir";
}

TEST_F(TempFilesTest, DiffSpillDefaultsToTmpdir) {
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("TMPDIR", base_.c_str(), 1);
  auto dir = diff::detail::TempDir::create("");
  if (old != nullptr) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
  ASSERT_TRUE(dir.ok()) << dir.error().describe();
  EXPECT_EQ(fs::path((*dir)->path()).parent_path(), base_);
  EXPECT_EQ(mode_of((*dir)->path()), 0700u);
}

// The temporary name and the final file: never wider than the umask allows.
void write_local_backup(const fs::path& dest, mode_t umask_value, mode_t* tmp_mode, mode_t* final_mode) {
  UmaskGuard guard(umask_value);
  backup::Storage storage;
  aws::ObjectLocation loc;
  loc.kind = aws::ObjectLocation::Kind::kFile;
  loc.path = dest.string();
  loc.display = loc.path;
  auto sink = storage.open_sink(loc);
  ASSERT_TRUE(sink.ok()) << sink.error().describe();
  ASSERT_TRUE((*sink)->write("{\"id\":{\"S\":\"secret item\"}}\n").ok());
  *tmp_mode = 0;
  for (const auto& e : fs::directory_iterator(dest.parent_path())) {
    if (e.path().filename().string().rfind(dest.filename().string() + ".tmp-", 0) == 0) *tmp_mode = mode_of(e.path());
  }
  EXPECT_NE(*tmp_mode, 0u) << "no temporary file beside " << dest;
  auto done = (*sink)->finish();
  ASSERT_TRUE(done.ok()) << done.error().describe();
  *final_mode = mode_of(dest);
}

TEST_F(TempFilesTest, LocalBackupFilesFollowTheUmask) {
  mode_t tmp_mode = 0, final_mode = 0;
  write_local_backup(base_ / "private" / "0", 077, &tmp_mode, &final_mode);
  EXPECT_EQ(tmp_mode, 0600u);
  EXPECT_EQ(final_mode, 0600u);

  write_local_backup(base_ / "default" / "0", 022, &tmp_mode, &final_mode);
  EXPECT_EQ(tmp_mode & 0133u, 0u) << std::oct << tmp_mode;  // no execute bits, no group/other write
  EXPECT_EQ(final_mode & 0133u, 0u) << std::oct << final_mode;
}

}  // namespace
}  // namespace dynarep::security
