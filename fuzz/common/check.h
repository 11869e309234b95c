// Property checks shared by the fuzz harnesses (fuzz/targets/*.cpp) and the tests that replay
// their inputs (tests/fuzz_regressions/).
//
// A harness feeds one input to a parser and checks what must hold whatever the input: no
// crash or UB (the sanitizers watch), errors are clean (kInvalidInput with a message), and
// what parses survives a round trip. A broken property calls fail(): under libFuzzer that
// prints the property and aborts, so the input is saved as a crash; a test installs a
// handler that throws instead, so a replayed input fails one test, not the test binary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dynarep::fuzz {

// Called with a description of the broken property. Must not return (throw or abort).
using FailureHandler = void (*)(const std::string& what);

// nullptr restores the default: print to stderr and abort().
void set_failure_handler(FailureHandler handler);

[[noreturn]] void fail(const char* file, int line, const std::string& what);

// For messages: at most `max` bytes of `s`, non-printable bytes as \xNN.
std::string printable(std::string_view s, std::size_t max = 160);

// Reads a harness's own parameters from the front of an input; past the end it yields zeros.
class Bytes {
 public:
  explicit Bytes(std::string_view data) : data_(data) {}
  std::uint8_t u8() {
    if (data_.empty()) return 0;
    const auto v = static_cast<std::uint8_t>(data_.front());
    data_.remove_prefix(1);
    return v;
  }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() | (u8() << 8)); }
  std::string_view rest() const { return data_; }

 private:
  std::string_view data_;
};

// Cuts `data` into pieces whose sizes follow a small generator seeded by `seed`, so one input
// is also fed in many different splits (streaming parsers must not care where chunks end).
template <class Fn>
void for_each_chunk(std::string_view data, std::uint32_t seed, Fn&& fn) {
  std::uint32_t x = seed * 2654435761u + 1;
  while (!data.empty()) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    // Mostly tiny pieces (1..16 bytes) with the odd large one, as a network read would give.
    const std::size_t want = (x & 7u) == 0 ? 1 + (x >> 8) % 4096 : 1 + (x >> 8) % 16;
    const std::size_t n = want < data.size() ? want : data.size();
    fn(data.substr(0, n));
    data.remove_prefix(n);
  }
}

}  // namespace dynarep::fuzz

// FUZZ_CHECK(condition, message): fail() with the condition's text and the message.
#define FUZZ_CHECK(cond, msg)                                                        \
  do {                                                                               \
    if (!(cond)) ::dynarep::fuzz::fail(__FILE__, __LINE__, std::string(#cond) + ": " + (msg)); \
  } while (0)
