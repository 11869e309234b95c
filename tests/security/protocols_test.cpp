// The HTTP client speaks HTTP and HTTPS only. Endpoints come from --endpoint and
// AWS_ENDPOINT_URL*, which keep any scheme they are given; libcurl, unrestricted, would then
// read local files for a GET (file://) and write request bodies into them for a PUT or POST,
// or talk FTP, SMB, LDAP... with the request. CURLOPT_PROTOCOLS_STR "http,https" (and the same
// for redirects) closes that.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "http/client.h"

namespace dynarep::security {
namespace {

namespace fs = std::filesystem;

TEST(Protocols, HttpClientDoesNotWriteLocalFiles) {
  const fs::path dir = fs::temp_directory_path() / ("dynarep-proto-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path target = dir / "written-by-put";
  http::Client client;
  http::Request req;
  req.method = "PUT";
  req.url = "file://" + target.string();
  req.body = "request body that must not land in a local file";
  auto r = client.send(req);
  const bool written = fs::exists(target);
  std::error_code ec;
  fs::remove_all(dir, ec);
  EXPECT_FALSE(written) << "a PUT to a file:// URL wrote " << target;
  EXPECT_FALSE(r.ok()) << "a file:// URL was accepted";
}

TEST(Protocols, HttpClientDoesNotReadLocalFiles) {
  const fs::path dir = fs::temp_directory_path() / ("dynarep-proto-read-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path source = dir / "local-secret";
  std::ofstream(source) << "local file content";
  http::Client client;
  http::Request req;
  req.method = "GET";
  req.url = "file://" + source.string();
  auto r = client.send(req);
  std::error_code ec;
  fs::remove_all(dir, ec);
  ASSERT_FALSE(r.ok()) << "a GET of a file:// URL returned status " << r->status << " and body: " << r->body;
  EXPECT_EQ(r.error().describe().find("local file content"), std::string::npos);
}

}  // namespace
}  // namespace dynarep::security
