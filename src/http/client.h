// HTTP/1.1 over libcurl: one Client per thread, keep-alive connections reused between calls,
// whole-request and connect timeouts, streamed request and response bodies.
//
// Failures where no complete HTTP answer arrived (connection refused, reset, DNS, timeout,
// truncated body) are Errors of kind kTransient whose context names the URL's host; any
// complete answer, whatever its status, is a Response (classifying statuses is the AWS
// layer's job). Header values that carry secrets (Authorization, X-Amz-Security-Token, ...)
// never appear in a log line or an Error: see redact_headers().
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace dynarep::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";
  // scheme://host[:port]/path[?query]; the path and query are already percent-encoded, and
  // are sent exactly as given ("." and ".." segments included).
  std::string url{};
  Headers headers{};
  // A body held in memory (DynamoDB/Kinesis JSON, S3 parts).
  std::string body{};
  // A streamed upload instead of `body`: called until it returns 0; returns the bytes it wrote
  // into buf (at most max). The size must be given as a Content-Length header. Optional.
  std::function<size_t(char* buf, size_t max)> body_reader{};
  std::chrono::milliseconds timeout{60000};          // the whole request, connect included
  std::chrono::milliseconds connect_timeout{5000};
  // Send on a new connection. libcurl silently re-sends a request whose reused keep-alive
  // connection closed before any answer byte; for a request that must not run twice (an
  // UpdateItem ADD) that hidden retry would apply it twice, so such requests never reuse.
  bool fresh_connection = false;
};

struct Response {
  int status = 0;
  Headers headers{};  // names lower-cased, in the order received
  std::string body{};
  // The first header with this (lower-case) name.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view lower_name) const;
};

// Error codes this module produces (Error::code), all of kind kTransient except kTlsError:
inline constexpr std::string_view kConnectFailed = "ConnectFailed";  // refused, DNS, unreachable
inline constexpr std::string_view kTimeout = "Timeout";              // connect or request timeout
inline constexpr std::string_view kNetworkError = "NetworkError";    // reset, truncated body, ...
inline constexpr std::string_view kTlsError = "TlsError";            // certificate rejected: kFatal
inline constexpr std::string_view kAborted = "Aborted";              // a callback stopped it: kCancelled

// True for header names whose values are secrets (case-insensitive).
[[nodiscard]] bool is_secret_header(std::string_view name);
// A copy with the values of secret headers replaced by "<redacted>", for logging.
[[nodiscard]] Headers redact_headers(const Headers& headers);
// The URL with the values of presigned-URL secrets (X-Amz-Signature, X-Amz-Credential,
// X-Amz-Security-Token) replaced by "<redacted>", for logging.
[[nodiscard]] std::string redact_url(std::string_view url);
// "host[:port]" of a URL ("http://127.0.0.1:8000/x" -> "127.0.0.1:8000"); the input if unparsable.
[[nodiscard]] std::string url_host(std::string_view url);

// Not thread-safe: use one per thread (it keeps one curl handle and its connection cache).
// Every request is logged at spdlog debug level (method, redacted url, status, ms); headers,
// redacted, at trace level.
class Client {
 public:
  Client();
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;

  Result<Response> send(const Request& request);
  // Streams a 2xx response body to on_chunk (return false to abort: the result is then an
  // Error of kind kCancelled, code "Aborted"), leaving Response.body empty. Bodies of other
  // statuses (error documents) are not streamed but returned in Response.body.
  Result<Response> send_streaming(const Request& request,
                                  const std::function<bool(std::string_view)>& on_chunk);

  // Connections this client has opened so far (a reused keep-alive connection adds none).
  [[nodiscard]] uint64_t connections_opened() const { return connections_opened_; }
  // Requests sent so far, successful or not.
  [[nodiscard]] uint64_t requests_sent() const { return requests_sent_; }

 private:
  Result<Response> perform(const Request& request,
                           const std::function<bool(std::string_view)>* on_chunk);

  void* curl_ = nullptr;  // CURL*, kept opaque so users need no curl include
  uint64_t connections_opened_ = 0;
  uint64_t requests_sent_ = 0;
};

}  // namespace dynarep::http
