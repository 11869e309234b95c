// A tiny HTTP/1.1 server on 127.0.0.1 and a free port, for tests: a handler answers each
// request with a canned response, optionally with a fault (delay, reset, truncated body).
// Keep-alive connections are served until the client closes them; every request is recorded.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "http/client.h"

namespace dynarep::testing {

struct RecordedRequest {
  std::string method;
  std::string target;  // path and query as sent
  http::Headers headers;  // names lower-cased
  std::string body;
  int connection = 0;  // 1 for the first connection accepted, 2 for the next, ...
  [[nodiscard]] std::optional<std::string> header(std::string_view lower_name) const;
};

struct CannedResponse {
  enum class Fault {
    kNone,
    kCloseWithoutAnswer,  // read the request, then close the connection
    kReset,               // read the request, then reset the connection (RST)
    kTruncateBody,        // announce more body than is sent, then close
  };
  int status = 200;
  http::Headers headers{};
  std::string body{};
  std::chrono::milliseconds delay{0};  // wait before answering
  Fault fault = Fault::kNone;
  bool close = false;  // close the connection after answering
};

// What `upstream` (http://host:port) answers to `request`: for a front that answers some
// requests itself (a fault, a poisoned key) and passes the rest on to a local stack server.
// The request keeps its headers (SigV4 included) but Host, Content-Length and Connection; the
// answer keeps Content-Type, x-amz-crc32 and x-amzn-RequestId. 502 when the upstream is down.
CannedResponse forward(const std::string& upstream, const RecordedRequest& request);

class TestHttpServer {
 public:
  using Handler = std::function<CannedResponse(const RecordedRequest&)>;
  explicit TestHttpServer(Handler handler);
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::string url() const;  // "http://127.0.0.1:<port>"
  [[nodiscard]] std::vector<RecordedRequest> requests() const;
  [[nodiscard]] int connections_accepted() const { return connections_.load(); }
  void set_handler(Handler handler);

 private:
  void accept_loop();
  void serve(int fd, int connection);
  CannedResponse call_handler(const RecordedRequest& request);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  mutable std::mutex mu_;
  Handler handler_;
  std::vector<RecordedRequest> requests_;
  std::vector<int> open_fds_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

}  // namespace dynarep::testing
