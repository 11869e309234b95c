// TLS certificate verification is on by default: an https endpoint whose certificate is
// self-signed (for localhost and 127.0.0.1, so only the issuer is wrong) must fail with a
// TLS error, not silently succeed, both in the HTTP client and in the dynarep binary.
// The server is node's https module (tests/security/tls_server.js) with a certificate made
// by the openssl command.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <regex>

#include "background.h"
#include "http/client.h"
#include "secrets.h"
#include "support/process.h"
#include "support/stack.h"

namespace dynarep::security {
namespace {

namespace fs = std::filesystem;
using dynarep::testing::run_dynarep;
using dynarep::testing::run_process;

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string openssl = find_program("openssl");
    const std::string node = std::getenv("DYNAREP_NODE") != nullptr ? std::getenv("DYNAREP_NODE") : find_program("node");
    if (openssl.empty() || node.empty()) GTEST_SKIP() << "needs the openssl command and node";
    dir_ = fs::temp_directory_path() / ("dynarep-tls-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    const std::string key = (dir_ / "key.pem").string(), cert = (dir_ / "cert.pem").string();
    auto gen = run_process({openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                            "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"});
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    server_ = std::make_unique<BackgroundProcess>(std::vector<std::string>{
        node, dynarep::testing::source_dir() + "/tests/security/tls_server.js", key, cert});
    const std::string line = server_->first_line(std::chrono::seconds(20));
    std::smatch m;
    ASSERT_TRUE(std::regex_search(line, m, std::regex(R"("port":(\d+))"))) << line;
    port_ = std::stoi(m[1]);
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

  fs::path dir_;
  std::unique_ptr<BackgroundProcess> server_;
  int port_ = 0;
};

TEST_F(TlsTest, HttpClientRejectsSelfSignedCertificate) {
  http::Client client;
  http::Request req;
  req.method = "POST";
  req.url = url() + "/";
  req.body = "{}";
  req.headers = {{"Content-Type", "application/x-amz-json-1.0"}};
  auto r = client.send(req);
  ASSERT_FALSE(r.ok()) << "HTTPS to a self-signed certificate succeeded: status " << r->status << " body " << r->body;
  EXPECT_EQ(r.error().code, http::kTlsError) << r.error().describe();
  EXPECT_EQ(r.error().kind, ErrorKind::kFatal) << "a rejected certificate must not be retried";
  EXPECT_NE(r.error().describe().find("certificate"), std::string::npos) << r.error().describe();
}

TEST_F(TlsTest, DynarepRejectsSelfSignedEndpoint) {
  auto env = credential_env();
  env["AWS_ENDPOINT_URL_DYNAMODB"] = url();
  const auto start = std::chrono::steady_clock::now();
  auto r = run_dynarep({"tables", "us-east-1"}, "", env);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(r.out.find("tls-verification-was-skipped"), std::string::npos) << "the call went through:\n" << r.out;
  EXPECT_NE(r.err.find("certificate"), std::string::npos) << "no clear TLS error:\n" << r.err;
  EXPECT_LT(took, std::chrono::seconds(20)) << "a certificate error was retried at length";
}

TEST_F(TlsTest, EndpointFlagAlsoVerifies) {
  auto env = credential_env();
  auto r = run_dynarep({"tables", "us-east-1", "--endpoint", url()}, "", env);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(r.out.find("tls-verification-was-skipped"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("certificate"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace dynarep::security
