// The fault-injecting proxy (tools/fault-proxy) as a C++ test fixture. One FaultProxy sits in
// front of one upstream (dynalite, kinesalite or s3rver); point a client at url() and tell the
// proxy what to break with set_rules(). The proxy is a node child process whose stdin is a pipe
// held by this object: it exits when the object is destroyed (SIGTERM) or, should the test
// process die first, when the pipe closes (--exit-on-stdin-eof).
//
//   testing::FaultProxy proxy(testing::local_stack().dynamodb);
//   proxy.set_rules(R"({"rules":[{"match":{"target":"DynamoDB_20120810.BatchWriteItem"},
//                                  "fault":"throttle","count":2}]})");
//   ... client pointed at proxy.url() ...
//   EXPECT_EQ(proxy.requests("DynamoDB_20120810.BatchWriteItem"), 3);
//
// Control calls throw std::runtime_error when the proxy answers non-2xx or cannot be reached:
// a broken fixture is a test bug, not an outcome to handle.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace dynarep::testing {

class FaultProxy {
 public:
  // Starts `node <source>/tools/fault-proxy/proxy.js --target <target_url> --exit-on-stdin-eof`
  // (node from PATH, or $DYNAREP_NODE) and waits (up to 20 s) for its ports.
  explicit FaultProxy(const std::string& target_url);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // "http://127.0.0.1:<port>": where clients send traffic.
  [[nodiscard]] std::string url() const;
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] int control_port() const { return control_port_; }
  [[nodiscard]] pid_t pid() const { return pid_; }

  // POST /rules with a body such as {"rules":[...],"seed":1}; replaces the rules and restarts
  // their after/count progress. Throws (with the proxy's message) on a rejected rule.
  void set_rules(const std::string& rules_json);
  // DELETE /rules: everything passes through.
  void clear_rules();
  // POST /reset-stats: zeroes the counters (not the rules' progress).
  void reset_stats();
  // GET /stats, the JSON as the proxy sent it.
  [[nodiscard]] std::string stats_json();
  // Requests a rule fired on ("faulted" in /stats).
  [[nodiscard]] int64_t faults_injected();
  // Requests seen for an operation: an X-Amz-Target ("DynamoDB_20120810.PutItem") or, for
  // requests without one (S3), the HTTP method ("PUT"). 0 when none was seen.
  [[nodiscard]] int64_t requests(std::string_view operation);
  // All requests seen ("total" in /stats).
  [[nodiscard]] int64_t total_requests();

  // One blocking HTTP/1.1 exchange with the control port (Connection: close). Returns the
  // status and fills `body`. Public for tests of odd control calls.
  int control(std::string_view method, std::string_view path, std::string_view request_body,
              std::string& body);

 private:
  void stop();

  pid_t pid_ = -1;
  int stdin_fd_ = -1;   // our end of the proxy's stdin: held open while the proxy should run
  int stdout_fd_ = -1;  // our end of the proxy's stdout (only its first line is read)
  int port_ = 0;
  int control_port_ = 0;
};

namespace detail {
// The integer value of `"name": N` in a flat JSON object text, searching from `from`; -1 if
// absent. Enough for the proxy's /stats, whose keys hold no quotes.
int64_t json_int_field(std::string_view json, std::string_view name, size_t from = 0, size_t to = std::string_view::npos);
// The integer value of `"key": N` inside the object that is the value of `"object"` (one
// level deep, flat); 0 when the object or the key is absent.
int64_t json_object_int(std::string_view json, std::string_view object, std::string_view key);
}  // namespace detail

}  // namespace dynarep::testing
