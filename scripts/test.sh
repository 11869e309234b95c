#!/usr/bin/env bash
# Builds dynarep and runs the whole test suite: unit tests, integration tests against the
# local AWS stack (started and stopped by CTest), then the same suite under ASan + UBSan, then the
# checks of the deployment artifacts in deploy/.
#   scripts/test.sh            both builds, then a short fuzzing pass (10 s per harness)
#   scripts/test.sh debug      only the debug build's tests
#   scripts/test.sh asan       only the sanitizer build's tests
#   scripts/test.sh fuzz       only the short fuzzing pass (scripts/fuzz.sh for longer runs)
#   scripts/test.sh deploy     only the checks of deploy/ (scripts/check-deploy.sh; offline)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
which=${1:-all}
export DYNAREP_WERROR=${DYNAREP_WERROR:-ON}
export CCACHE_DIR=${CCACHE_DIR:-$here/.ccache}
jobs=${DYNAREP_JOBS:-2}

run() {
  local preset=$1
  echo "=== $preset: configure + build"
  cmake --preset "$preset" > /dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "=== $preset: tests"
  ctest --preset "$preset"
}
case "$which" in
  all) run debug; run asan; "$here/scripts/fuzz.sh" "${DYNAREP_FUZZ_SECONDS:-10}"; "$here/scripts/check-deploy.sh" ;;
  debug|asan) run "$which" ;;
  fuzz) "$here/scripts/fuzz.sh" "${DYNAREP_FUZZ_SECONDS:-10}" ;;
  deploy) "$here/scripts/check-deploy.sh" ;;
  *) echo "usage: $0 [all|debug|asan|fuzz|deploy]" >&2; exit 2 ;;
esac
