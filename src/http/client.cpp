#include "http/client.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace dynarep::http {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("curl_global_init failed");  // start-up failure
    }
  });
}

// State shared with the curl callbacks of one transfer.
struct Transfer {
  const Request* request = nullptr;
  size_t body_offset = 0;
  Response* response = nullptr;
  const std::function<bool(std::string_view)>* on_chunk = nullptr;
  int status = 0;  // of the response being received, from its status line
  bool aborted_by_caller = false;
  std::exception_ptr exception;  // thrown by a user callback; rethrown once curl returns
};

size_t read_body(char* buf, size_t size, size_t nitems, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  const size_t max = size * nitems;
  if (t->request->body_reader) {
    try {
      return std::min(t->request->body_reader(buf, max), max);
    } catch (...) {
      t->exception = std::current_exception();
      return CURL_READFUNC_ABORT;
    }
  }
  const std::string& body = t->request->body;
  const size_t n = std::min(max, body.size() - t->body_offset);
  std::memcpy(buf, body.data() + t->body_offset, n);
  t->body_offset += n;
  return n;
}

// curl rewinds the upload when it resends a request on a fresh connection after finding a
// reused keep-alive connection dead; an in-memory body can be rewound, a streamed one cannot.
int seek_body(void* userdata, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(userdata);
  if (t->request->body_reader || origin != SEEK_SET || offset < 0 ||
      static_cast<size_t>(offset) > t->request->body.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  t->body_offset = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t write_body(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  const size_t n = size * nmemb;
  // Only a 2xx body is streamed: an error document is kept for the caller to read.
  if (t->on_chunk == nullptr || t->status < 200 || t->status > 299) {
    t->response->body.append(ptr, n);
    return n;
  }
  try {
    if (!(*t->on_chunk)(std::string_view(ptr, n))) {
      t->aborted_by_caller = true;
      return 0;  // makes curl fail with CURLE_WRITE_ERROR
    }
  } catch (...) {
    t->exception = std::current_exception();
    return 0;
  }
  return n;
}

size_t read_header(char* buf, size_t size, size_t nitems, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  const size_t n = size * nitems;
  std::string_view line = trim(std::string_view(buf, n));
  if (line.starts_with("HTTP/")) {
    t->response->headers.clear();  // a new response (after a 100 Continue, say) starts here
    const auto sp = line.find(' ');
    t->status = sp == std::string_view::npos ? 0 : std::atoi(std::string(line.substr(sp + 1, 3)).c_str());
    return n;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  t->response->headers.emplace_back(lower(trim(line.substr(0, colon))),
                                    std::string(trim(line.substr(colon + 1))));
  return n;
}

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

Error curl_error(CURLcode code, const char* errbuf, const Request& request) {
  std::string message = (errbuf != nullptr && errbuf[0] != '\0') ? errbuf : curl_easy_strerror(code);
  Error err;
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      err = Error(ErrorKind::kTransient, std::string(kConnectFailed), std::move(message));
      break;
    case CURLE_OPERATION_TIMEDOUT:
      err = Error(ErrorKind::kTransient, std::string(kTimeout), std::move(message));
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      // A rejected certificate is a configuration problem (or an attack): retrying cannot help.
      err = Error(ErrorKind::kFatal, std::string(kTlsError), std::move(message));
      break;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      err = Error(ErrorKind::kInvalidInput, "BadUrl", std::move(message));
      break;
    default:
      // Resets, empty replies, truncated bodies (CURLE_PARTIAL_FILE), send/receive failures.
      err = Error(ErrorKind::kTransient, std::string(kNetworkError), std::move(message));
      break;
  }
  err.with_context("host " + url_host(request.url));
  return err;
}

}  // namespace

std::optional<std::string_view> Response::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return std::string_view(value);
  }
  return std::nullopt;
}

bool is_secret_header(std::string_view name) {
  static constexpr std::array<std::string_view, 4> kSecret = {
      "authorization", "x-amz-security-token", "x-aws-ec2-metadata-token", "proxy-authorization"};
  return std::any_of(kSecret.begin(), kSecret.end(), [&](std::string_view s) { return iequals(s, name); });
}

Headers redact_headers(const Headers& headers) {
  Headers out = headers;
  for (auto& [name, value] : out) {
    if (is_secret_header(name)) value = "<redacted>";
  }
  return out;
}

std::string redact_url(std::string_view url) {
  const auto q = url.find('?');
  if (q == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, q + 1));
  std::string_view query = url.substr(q + 1);
  bool first = true;
  while (true) {
    const auto amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    if (!first) out += '&';
    first = false;
    const auto eq = param.find('=');
    std::string_view name = param.substr(0, eq);
    if (eq != std::string_view::npos &&
        (iequals(name, "X-Amz-Signature") || iequals(name, "X-Amz-Credential") ||
         iequals(name, "X-Amz-Security-Token"))) {
      out += name;
      out += "=<redacted>";
    } else {
      out += param;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

std::string url_host(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  return std::string(rest);
}

Client::Client() {
  global_init();
  curl_ = curl_easy_init();
  if (curl_ == nullptr) throw std::runtime_error("curl_easy_init failed");
}

Client::~Client() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Client::Client(Client&& other) noexcept
    : curl_(std::exchange(other.curl_, nullptr)),
      connections_opened_(other.connections_opened_),
      requests_sent_(other.requests_sent_) {}

Client& Client::operator=(Client&& other) noexcept {
  if (this != &other) {
    if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
    curl_ = std::exchange(other.curl_, nullptr);
    connections_opened_ = other.connections_opened_;
    requests_sent_ = other.requests_sent_;
  }
  return *this;
}

Result<Response> Client::send(const Request& request) { return perform(request, nullptr); }

Result<Response> Client::send_streaming(const Request& request,
                                        const std::function<bool(std::string_view)>& on_chunk) {
  return perform(request, &on_chunk);
}

namespace {

// The request's headers as curl's list. Content-Length is left to curl (it writes it from the
// upload size; a second copy would be invalid), but a streamed body's size is taken from it.
Result<std::unique_ptr<curl_slist, SlistDeleter>> header_list(const Request& request, curl_off_t& upload_size) {
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto add_header = [&](const std::string& line) {
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next == nullptr) throw std::bad_alloc();
    (void)headers.release();
    headers.reset(next);
  };
  for (const auto& [name, value] : request.headers) {
    if (iequals(name, "content-length")) {
      if (request.body_reader) {
        try {
          upload_size = static_cast<curl_off_t>(std::stoll(value));
        } catch (const std::exception&) {
          return Error(ErrorKind::kInvalidInput, "BadRequest", "invalid Content-Length '" + value + "'");
        }
      }
      continue;
    }
    // "Name;" is curl's way to send a header with an empty value ("Name:" would remove it).
    add_header(value.empty() ? name + ";" : name + ": " + value);
  }
  if (request.body_reader && !std::any_of(request.headers.begin(), request.headers.end(), [](const auto& h) {
        return iequals(h.first, "content-length");
      })) {
    return Error(ErrorKind::kInvalidInput, "BadRequest",
                 "a streamed request body needs a Content-Length header");
  }
  // No "Expect: 100-continue" round trip before uploads: AWS answers errors after the body anyway.
  add_header("Expect:");
  return headers;
}

// Connection and safety options, the same for every request.
void set_connection_options(CURL* curl, const Request& request) {
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  // Send the path exactly as given: it was signed as given, and S3 keys may hold "." and ".."
  // segments that curl would otherwise squash.
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
  // Endpoints come from users' environment variables and config files: a file:// or other
  // scheme there must fail, not read or write local files with a request body or response.
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // required with threads
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, request.fresh_connection ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  // $SSL_CERT_FILE, when set, replaces the CA bundle libcurl was built with (Debian's
  // /etc/ssl/certs/ca-certificates.crt, which Debian's libcurl uses even when OpenSSL's
  // variable is set). The Lambda zip runs Debian's libraries on Amazon Linux 2023, whose bundle
  // is /etc/pki/tls/certs/ca-bundle.crt: its bootstrap wrapper sets the variable.
  static const char* const ca_file = [] {
    const char* v = std::getenv("SSL_CERT_FILE");
    return (v != nullptr && *v != '\0') ? v : nullptr;
  }();
  if (ca_file != nullptr) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 128L * 1024L);
}

// Method, body and the callbacks that fill `transfer`.
void set_transfer_options(CURL* curl, const Request& request, Transfer& transfer, bool has_body,
                          curl_off_t upload_size) {
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &read_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &write_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "GET" && !has_body) {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (has_body) {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, 128L * 1024L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, upload_size);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, &read_body);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, &seek_body);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &transfer);
  }

}

void trace_headers(std::string_view what, const Headers& headers) {
  if (!spdlog::should_log(spdlog::level::trace)) return;
  std::string shown;
  for (const auto& [name, value] : redact_headers(headers)) shown += " " + name + "=" + value;
  spdlog::trace("http {} headers:{}", what, shown);
}

}  // namespace

Result<Response> Client::perform(const Request& request,
                                 const std::function<bool(std::string_view)>* on_chunk) {
  if (curl_ == nullptr) throw std::logic_error("http::Client used after move");
  CURL* curl = static_cast<CURL*>(curl_);
  // Resets options only: the connection cache (keep-alive connections) survives.
  curl_easy_reset(curl);

  Response response;
  Transfer transfer;
  transfer.request = &request;
  transfer.response = &response;
  transfer.on_chunk = on_chunk;
  char errbuf[CURL_ERROR_SIZE] = {0};

  const bool has_body = !request.body.empty() || static_cast<bool>(request.body_reader) ||
                        request.method == "POST" || request.method == "PUT" || request.method == "PATCH";
  curl_off_t upload_size = static_cast<curl_off_t>(request.body.size());
  DR_ASSIGN(auto headers, header_list(request, upload_size));
  set_connection_options(curl, request);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  set_transfer_options(curl, request, transfer, has_body, upload_size);
  trace_headers(request.method + " " + redact_url(request.url), request.headers);

  const auto start = std::chrono::steady_clock::now();
  const CURLcode rc = curl_easy_perform(curl);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  ++requests_sent_;
  long connects = 0;
  if (curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects > 0) {
    connections_opened_ += static_cast<uint64_t>(connects);
  }
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);  // errbuf goes out of scope

  if (transfer.exception) std::rethrow_exception(transfer.exception);
  if (rc != CURLE_OK) {
    if (transfer.aborted_by_caller) {
      spdlog::debug("http {} {} -> aborted by the caller ({} ms)", request.method, redact_url(request.url), ms);
      Error err(ErrorKind::kCancelled, std::string(kAborted), "response body consumer stopped the transfer");
      err.with_context("host " + url_host(request.url));
      return err;
    }
    Error err = curl_error(rc, errbuf, request);
    spdlog::debug("http {} {} -> {} ({} ms)", request.method, redact_url(request.url), err.describe(), ms);
    return err;
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  spdlog::debug("http {} {} -> {} ({} ms)", request.method, redact_url(request.url), response.status, ms);
  trace_headers("response " + std::to_string(response.status), response.headers);
  return response;
}

}  // namespace dynarep::http
