#include "lease/sync_point.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace dynarep::lease::sync {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, Handler, std::less<>> handlers;
  std::atomic<bool> any{false};
};

Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: hits may come from threads at exit
  return *r;
}

#if DYNAREP_TEST_HOOKS
bool parse_int(std::string_view s, long& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}
#endif

}  // namespace

#if DYNAREP_TEST_HOOKS
void hit(std::string_view point, std::string_view shard) {
  Registry& r = registry();
  if (!r.any.load(std::memory_order_relaxed)) return;
  Handler h;
  {
    std::lock_guard lock(r.mu);
    auto it = r.handlers.find(point);
    if (it == r.handlers.end()) return;
    h = it->second;
  }
  h(shard);
}
#endif

void set(std::string_view point, Handler handler) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  r.handlers[std::string(point)] = std::move(handler);
  r.any.store(true);
}

void clear(std::string_view point) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  auto it = r.handlers.find(point);
  if (it != r.handlers.end()) r.handlers.erase(it);
  r.any.store(!r.handlers.empty());
}

void clear_all() {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  r.handlers.clear();
  r.any.store(false);
}

Status install(std::string_view spec) {
#if !DYNAREP_TEST_HOOKS
  // No kill or abort path at all in a build without hooks: refuse, naming the option.
  return invalid_input(
      fmt::format("sync point spec \"{}\": this build has no test hooks (configure with -DDYNAREP_TEST_HOOKS=ON)", spec));
#else
  size_t pos = 0;
  while (pos < spec.size()) {
    size_t comma = spec.find(',', pos);
    std::string_view item = spec.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    pos = comma == std::string_view::npos ? spec.size() : comma + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return invalid_input(fmt::format("sync point spec \"{}\": expected point=action[@N]", item));
    }
    std::string point(item.substr(0, eq));
    std::string_view action = item.substr(eq + 1);
    long nth = 0;
    if (size_t at = action.find('@'); at != std::string_view::npos) {
      if (!parse_int(action.substr(at + 1), nth) || nth < 1) {
        return invalid_input(fmt::format("sync point spec \"{}\": @N needs a positive integer", item));
      }
      action = action.substr(0, at);
    }
    long sleep_ms = 0;
    enum class Kind { kKill, kStop, kAbort, kSleep, kLog } kind;
    if (action == "kill") {
      kind = Kind::kKill;
    } else if (action == "stop") {
      kind = Kind::kStop;
    } else if (action == "abort") {
      kind = Kind::kAbort;
    } else if (action == "log") {
      kind = Kind::kLog;
    } else if (action.rfind("sleep:", 0) == 0 && parse_int(action.substr(6), sleep_ms) && sleep_ms >= 0) {
      kind = Kind::kSleep;
    } else {
      return invalid_input(fmt::format("sync point spec \"{}\": unknown action \"{}\"", item, action));
    }
    bool once = kind == Kind::kKill || kind == Kind::kStop || kind == Kind::kAbort;
    if (once && nth == 0) nth = 1;
    auto hits = std::make_shared<std::atomic<long>>(0);
    set(point, [=](std::string_view shard) {
      long n = ++*hits;
      if (nth != 0 && n != nth) return;
      std::string line = fmt::format("sync point {} (shard {}, hit {}): {}\n", point, shard, n, action);
      switch (kind) {
        case Kind::kKill:
          (void)!::write(STDERR_FILENO, line.data(), line.size());
          ::kill(::getpid(), SIGKILL);
          break;
        case Kind::kStop:
          (void)!::write(STDERR_FILENO, line.data(), line.size());
          ::kill(::getpid(), SIGSTOP);
          break;
        case Kind::kAbort:
          std::abort();
        case Kind::kSleep:
          std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
          break;
        case Kind::kLog:
          (void)!::write(STDERR_FILENO, line.data(), line.size());
          break;
      }
    });
  }
  return {};
#endif
}

Status install_from_env(const char* variable) {
  const char* v = std::getenv(variable);
  if (v == nullptr || *v == '\0') return {};
  return install(v);
}

}  // namespace dynarep::lease::sync
