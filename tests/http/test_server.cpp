#include "http/test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <stdexcept>

namespace dynarep::testing {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string_view reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

std::optional<std::string> RecordedRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return std::nullopt;
}

TestHttpServer::TestHttpServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket failed");
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("bind/listen on 127.0.0.1 failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TestHttpServer::~TestHttpServer() {
  stop_ = true;
  acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
}

std::string TestHttpServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::vector<RecordedRequest> TestHttpServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

void TestHttpServer::set_handler(Handler handler) {
  std::lock_guard lock(mu_);
  handler_ = std::move(handler);
}

CannedResponse TestHttpServer::call_handler(const RecordedRequest& request) {
  Handler handler;
  {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    handler = handler_;
  }
  return handler(request);
}

void TestHttpServer::accept_loop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    const int connection = ++connections_;
    std::lock_guard lock(mu_);
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd, connection] { serve(fd, connection); });
  }
}

void TestHttpServer::serve(int fd, int connection) {
  std::string buf;
  // Reads more bytes into buf; false when the peer closed or the server stops.
  auto fill = [&]() -> bool {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      const int r = ::poll(&p, 1, 20);
      if (r == 0) continue;
      if (r < 0) return false;
      char tmp[16384];
      const ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) return false;
      buf.append(tmp, static_cast<size_t>(n));
      return true;
    }
    return false;
  };
  auto finish = [&] {
    std::lock_guard lock(mu_);
    std::erase(open_fds_, fd);
    ::close(fd);
  };

  while (!stop_) {
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return finish();
    }
    RecordedRequest req;
    req.connection = connection;
    std::string_view head(buf.data(), end);
    const auto first_eol = head.find("\r\n");
    std::string_view request_line = head.substr(0, first_eol);
    const auto sp1 = request_line.find(' ');
    const auto sp2 = request_line.rfind(' ');
    req.method = std::string(request_line.substr(0, sp1));
    req.target = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
    std::string_view rest = first_eol == std::string_view::npos ? std::string_view() : head.substr(first_eol + 2);
    size_t content_length = 0;
    bool chunked = false;
    while (!rest.empty()) {
      const auto eol = rest.find("\r\n");
      std::string_view line = rest.substr(0, eol);
      rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 2);
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string name = lower(trim(line.substr(0, colon)));
      std::string value(trim(line.substr(colon + 1)));
      if (name == "content-length") content_length = std::stoul(value);
      if (name == "transfer-encoding" && lower(value) == "chunked") chunked = true;
      req.headers.emplace_back(std::move(name), std::move(value));
    }
    buf.erase(0, end + 4);
    if (chunked) {
      while (true) {
        size_t eol;
        while ((eol = buf.find("\r\n")) == std::string::npos) {
          if (!fill()) return finish();
        }
        const size_t size = std::stoul(buf.substr(0, eol), nullptr, 16);
        while (buf.size() < eol + 2 + size + 2) {
          if (!fill()) return finish();
        }
        req.body.append(buf, eol + 2, size);
        buf.erase(0, eol + 2 + size + 2);
        if (size == 0) break;
      }
    } else {
      while (buf.size() < content_length) {
        if (!fill()) return finish();
      }
      req.body = buf.substr(0, content_length);
      buf.erase(0, content_length);
    }

    CannedResponse resp = call_handler(req);
    for (auto waited = std::chrono::milliseconds(0); waited < resp.delay && !stop_;
         waited += std::chrono::milliseconds(5)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    using Fault = CannedResponse::Fault;
    if (resp.fault == Fault::kCloseWithoutAnswer) return finish();
    if (resp.fault == Fault::kReset) {
      linger l{1, 0};  // close with RST
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      return finish();
    }
    std::string out = "HTTP/1.1 " + std::to_string(resp.status) + " " + std::string(reason(resp.status)) + "\r\n";
    bool has_length = false;
    for (const auto& [name, value] : resp.headers) {
      if (lower(name) == "content-length") has_length = true;
      out += name + ": " + value + "\r\n";
    }
    if (!has_length) {
      const size_t announced = resp.body.size() + (resp.fault == Fault::kTruncateBody ? 100 : 0);
      if (req.method != "HEAD" || !resp.body.empty()) out += "Content-Length: " + std::to_string(announced) + "\r\n";
    }
    if (resp.close) out += "Connection: close\r\n";
    out += "\r\n";
    if (req.method != "HEAD") out += resp.body;
    if (!send_all(fd, out) || resp.close || resp.fault == Fault::kTruncateBody) return finish();
    if (auto c = req.header("connection"); c && lower(*c) == "close") return finish();
  }
  finish();
}

CannedResponse forward(const std::string& upstream, const RecordedRequest& request) {
  http::Request fwd;
  fwd.method = request.method;
  fwd.url = upstream + request.target;
  for (const auto& [name, value] : request.headers) {
    if (name != "host" && name != "content-length" && name != "connection") fwd.headers.emplace_back(name, value);
  }
  fwd.body = request.body;
  http::Client client;
  auto resp = client.send(fwd);
  CannedResponse out;
  if (!resp.ok()) {
    out.status = 502;
    return out;
  }
  out.status = resp->status;
  for (const auto& [name, value] : resp->headers) {
    if (name == "content-type" || name == "x-amz-crc32" || name == "x-amzn-requestid") out.headers.emplace_back(name, value);
  }
  out.body = resp->body;
  return out;
}

}  // namespace dynarep::testing
