// The libFuzzer entry point of one harness: fuzz/CMakeLists.txt compiles this file once per
// target with DYNAREP_FUZZ_TARGET set to that target's function name.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "targets/targets.h"

#ifndef DYNAREP_FUZZ_TARGET
#error "DYNAREP_FUZZ_TARGET must name a function of fuzz/targets/targets.h"
#endif

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  dynarep::fuzz::setup_environment();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dynarep::fuzz::DYNAREP_FUZZ_TARGET(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
