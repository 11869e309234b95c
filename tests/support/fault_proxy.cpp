#include "support/fault_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/process.h"
#include "support/stack.h"

namespace dynarep::testing {
namespace detail {

int64_t json_int_field(std::string_view json, std::string_view name, size_t from, size_t to) {
  std::string needle = "\"" + std::string(name) + "\"";
  if (to > json.size()) to = json.size();
  size_t pos = json.find(needle, from);
  if (pos == std::string_view::npos || pos >= to) return -1;
  pos += needle.size();
  while (pos < to && (json[pos] == ' ' || json[pos] == '\n' || json[pos] == '\r' || json[pos] == '\t')) ++pos;
  if (pos >= to || json[pos] != ':') return -1;
  ++pos;
  while (pos < to && (json[pos] == ' ' || json[pos] == '\n' || json[pos] == '\r' || json[pos] == '\t')) ++pos;
  bool negative = pos < to && json[pos] == '-';
  if (negative) ++pos;
  if (pos >= to || json[pos] < '0' || json[pos] > '9') return -1;
  int64_t v = 0;
  while (pos < to && json[pos] >= '0' && json[pos] <= '9') v = v * 10 + (json[pos++] - '0');
  return negative ? -v : v;
}

int64_t json_object_int(std::string_view json, std::string_view object, std::string_view key) {
  std::string needle = "\"" + std::string(object) + "\"";
  size_t pos = json.find(needle);
  if (pos == std::string_view::npos) return 0;
  size_t open = json.find('{', pos + needle.size());
  if (open == std::string_view::npos) return 0;
  size_t close = json.find('}', open);  // the object is flat
  int64_t v = json_int_field(json, key, open, close);
  return v < 0 ? 0 : v;
}

}  // namespace detail

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("FaultProxy: " + what); }

std::string errno_text() { return std::strerror(errno); }

}  // namespace

FaultProxy::FaultProxy(const std::string& target_url) {
  int in_pipe[2], out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) fail("pipe: " + errno_text());
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    ::close(in_pipe[0]);
    ::close(in_pipe[1]);
    fail("pipe: " + errno_text());
  }
  // dup2 onto 0 and 1 clears O_CLOEXEC there; our ends stay close-on-exec, so no other child
  // inherits the stdin write end (which would keep the proxy alive after we close ours).
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);

  const char* node_env = std::getenv("DYNAREP_NODE");
  std::string node = node_env != nullptr && *node_env != '\0' ? node_env : find_program("node");
  if (node.empty()) node = "node";  // named in the error below
  std::vector<std::string> args{node, source_dir() + "/tools/fault-proxy/proxy.js", "--target", target_url,
                                "--exit-on-stdin-eof"};

  pid_t pid = -1;
  int rc = spawn_process(pid, args, fa, {});
  posix_spawn_file_actions_destroy(&fa);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  if (rc != 0) {
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    fail("cannot start " + node + ": " + std::strerror(rc));
  }
  pid_ = pid;
  stdin_fd_ = in_pipe[1];
  stdout_fd_ = out_pipe[0];

  // The first stdout line: {"port":P,"control_port":C,"pid":N}.
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (line.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      stop();
      fail("no port line from the proxy within 20 s (target " + target_url + "), got: " + line);
    }
    pollfd p{stdout_fd_, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    char buf[512];
    ssize_t got = ::read(stdout_fd_, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      stop();
      fail("the proxy exited before printing its ports (target " + target_url + "; its stderr is above)");
    }
    line.append(buf, static_cast<size_t>(got));
  }
  line.resize(line.find('\n'));
  int64_t port = detail::json_int_field(line, "port");
  int64_t control_port = detail::json_int_field(line, "control_port");
  if (port <= 0 || port > 65535 || control_port <= 0 || control_port > 65535) {
    stop();
    fail("unexpected first line from the proxy: " + line);
  }
  port_ = static_cast<int>(port);
  control_port_ = static_cast<int>(control_port);
}

FaultProxy::~FaultProxy() { stop(); }

void FaultProxy::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    // node exits at once on SIGTERM; give it 5 s, then make sure.
    int status = 0;
    bool reaped = false;
    for (int i = 0; i < 500 && !reaped; ++i) {
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_ || (r < 0 && errno != EINTR)) {
        reaped = true;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    if (!reaped) {
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    pid_ = -1;
  }
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  stdin_fd_ = stdout_fd_ = -1;
}

std::string FaultProxy::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

int FaultProxy::control(std::string_view method, std::string_view path, std::string_view request_body,
                        std::string& body) {
  const std::string what = std::string(method) + " " + std::string(path);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail(what + ": socket: " + errno_text());
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  timeval tv{10, 0};  // a control call never takes long; never hang a test on one
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(control_port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    fail(what + ": connect to control port " + std::to_string(control_port_) + ": " + errno_text());
  }
  std::string req = std::string(method) + " " + std::string(path) + " HTTP/1.1\r\n" +
                    "Host: 127.0.0.1:" + std::to_string(control_port_) + "\r\n" +
                    "Content-Type: application/json\r\n" +
                    "Content-Length: " + std::to_string(request_body.size()) + "\r\n" +
                    "Connection: close\r\n\r\n" + std::string(request_body);
  size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(what + ": send: " + errno_text());
    sent += static_cast<size_t>(n);
  }
  // The proxy closes after its answer (Connection: close); read to the end, or to
  // Content-Length when it is known.
  std::string resp;
  char buf[8192];
  size_t header_end = std::string::npos;
  int64_t content_length = -1;
  for (;;) {
    if (header_end != std::string::npos && content_length >= 0 &&
        resp.size() >= header_end + 4 + static_cast<size_t>(content_length)) {
      break;
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(what + ": recv: " + errno_text());
    if (n == 0) break;
    resp.append(buf, static_cast<size_t>(n));
    if (header_end == std::string::npos) {
      header_end = resp.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        std::string head = resp.substr(0, header_end);
        for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t cl = head.find("\r\ncontent-length:");
        if (cl != std::string::npos) content_length = std::strtoll(head.c_str() + cl + 17, nullptr, 10);
      }
    }
  }
  if (header_end == std::string::npos || resp.compare(0, 9, "HTTP/1.1 ") != 0) {
    fail(what + ": not an HTTP answer: " + resp.substr(0, 200));
  }
  int status = std::atoi(resp.c_str() + 9);
  body = resp.substr(header_end + 4);
  return status;
}

void FaultProxy::set_rules(const std::string& rules_json) {
  std::string body;
  int status = control("POST", "/rules", rules_json, body);
  if (status < 200 || status > 299) {
    fail("POST /rules: HTTP " + std::to_string(status) + ": " + body + " (rules: " + rules_json + ")");
  }
}

void FaultProxy::clear_rules() {
  std::string body;
  int status = control("DELETE", "/rules", "", body);
  if (status < 200 || status > 299) fail("DELETE /rules: HTTP " + std::to_string(status) + ": " + body);
}

void FaultProxy::reset_stats() {
  std::string body;
  int status = control("POST", "/reset-stats", "", body);
  if (status < 200 || status > 299) fail("POST /reset-stats: HTTP " + std::to_string(status) + ": " + body);
}

std::string FaultProxy::stats_json() {
  std::string body;
  int status = control("GET", "/stats", "", body);
  if (status < 200 || status > 299) fail("GET /stats: HTTP " + std::to_string(status) + ": " + body);
  return body;
}

int64_t FaultProxy::faults_injected() {
  int64_t v = detail::json_int_field(stats_json(), "faulted");
  if (v < 0) fail("GET /stats has no \"faulted\" count");
  return v;
}

int64_t FaultProxy::total_requests() {
  int64_t v = detail::json_int_field(stats_json(), "total");
  if (v < 0) fail("GET /stats has no \"total\" count");
  return v;
}

int64_t FaultProxy::requests(std::string_view operation) {
  return detail::json_object_int(stats_json(), "operations", operation);
}

}  // namespace dynarep::testing
