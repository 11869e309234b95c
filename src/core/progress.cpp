#include "core/progress.h"

#include <fmt/format.h>

#include <algorithm>

namespace dynarep {

Progress::Progress(std::ostream& out, Options options)
    : out_(out), opt_(std::move(options)), start_(std::chrono::steady_clock::now()) {
  thread_ = std::thread([this] { loop(); });
}

Progress::~Progress() { stop(); }

void Progress::set_secondary_label(std::string label) {
  std::lock_guard lock(mu_);
  secondary_label_ = std::move(label);
}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (opt_.tty) {
    out_ << "\r\033[K" << std::flush;
  }
}

std::string Progress::group_digits(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  int count = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (count > 0 && count % 3 == 0) out.push_back(',');
    out.push_back(*it);
    ++count;
  }
  if (n < 0) out.push_back('-');
  std::reverse(out.begin(), out.end());
  return out;
}

namespace {
std::string format_duration(double seconds) {
  auto s = static_cast<int64_t>(seconds);
  if (s >= 3600) return fmt::format("{}h{:02}m{:02}s", s / 3600, (s / 60) % 60, s % 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{:.1f}s", seconds);
}
}  // namespace

std::string Progress::line() const {
  double elapsed = elapsed_seconds();
  int64_t done = done_.load(std::memory_order_relaxed);
  double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  std::string s = fmt::format("{}: {} {}", opt_.label, group_digits(done), opt_.unit);
  if (opt_.total > 0) {
    s += fmt::format(" of ~{} ({:.0f}%)", group_digits(opt_.total),
                     std::min(100.0, 100.0 * static_cast<double>(done) / static_cast<double>(opt_.total)));
  }
  if (!secondary_label_.empty()) {
    s += fmt::format(", {} {}", group_digits(secondary_.load(std::memory_order_relaxed)), secondary_label_);
  }
  s += fmt::format(", {:.0f} {}/s, {} elapsed", rate, opt_.unit, format_duration(elapsed));
  if (opt_.total > 0 && rate > 0 && done < opt_.total) {
    s += fmt::format(", ETA {}", format_duration(static_cast<double>(opt_.total - done) / rate));
  }
  return s;
}

void Progress::loop() {
  auto interval = opt_.tty ? opt_.tty_interval : opt_.log_interval;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (cv_.wait_for(lock, interval, [this] { return stopping_; })) break;
    if (opt_.tty) {
      out_ << "\r\033[K" << line() << std::flush;
    } else {
      out_ << line() << "\n" << std::flush;
    }
  }
}

RateLimiter::RateLimiter(double per_second)
    : rate_(per_second), tokens_(per_second), last_(std::chrono::steady_clock::now()) {}

void RateLimiter::acquire(int64_t n) {
  if (rate_ <= 0) return;
  std::unique_lock lock(mu_);
  while (true) {
    auto now = std::chrono::steady_clock::now();
    tokens_ = std::min(rate_, tokens_ + rate_ * std::chrono::duration<double>(now - last_).count());
    last_ = now;
    // A request larger than a second's worth still goes once the bucket is full.
    double need = std::min(static_cast<double>(n), rate_);
    if (tokens_ >= need) {
      tokens_ -= static_cast<double>(n);
      return;
    }
    auto wait = std::chrono::duration<double>((need - tokens_) / rate_);
    lock.unlock();
    std::this_thread::sleep_for(wait);
    lock.lock();
  }
}

}  // namespace dynarep
