#include "support/moto.h"
#include "support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

namespace dynarep::testing {
namespace {

// A port the kernel says is free now (moto binds it a moment later; a clash fails loudly).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    throw std::runtime_error("moto: no free port");
  }
  int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

bool accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

MotoServer::MotoServer(const std::map<std::string, std::string>& extra_env) {
  const std::string exe = find_program("moto_server");
  if (exe.empty()) return;
  const int port = free_port();
  const std::string log = "/tmp/dynarep-moto-" + std::to_string(::getpid()) + "-" + std::to_string(port) + ".log";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  int rc = spawn_process(pid_, {exe, "-H", "127.0.0.1", "-p", std::to_string(port)}, fa, extra_env);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    pid_ = 0;
    throw std::runtime_error("moto: cannot start " + exe);
  }
  for (int i = 0; i < 300; ++i) {  // up to 30 s: the first start imports a lot of Python
    if (accepts(port)) {
      url_ = "http://127.0.0.1:" + std::to_string(port);
      return;
    }
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = 0;
      throw std::runtime_error("moto_server exited at start; see " + log);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("moto_server did not listen on port " + std::to_string(port) + " within 30 s; see " + log);
}

MotoServer::~MotoServer() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 50; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

const std::string& moto_endpoint() {
  // Destroyed (stopped) at exit, after the tests.
  static MotoServer shared;
  return shared.url();
}

}  // namespace dynarep::testing
