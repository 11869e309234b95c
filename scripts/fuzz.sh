#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/, clang + ASan + UBSan) and runs each for a while.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   default 30; CI runs a short pass (10)
# Environment:
#   DYNAREP_FUZZ_TARGETS="item_codec s3_xml"  run only these (default: every built harness)
#   DYNAREP_FUZZ_BUILD=DIR                     build directory (default build/fuzz)
#   DYNAREP_FUZZ_CXXFLAGS="..."                extra compiler flags for the whole fuzz build
#   CC / CXX                                   compilers (default: the newest clang-NN with a
#                                              libFuzzer runtime, else clang; src/aws needs >= 16)
# Exits non-zero when a harness finds a crash, a broken property, a timeout or an OOM, after
# printing the input's path and the command that reproduces it. New corpus entries go to
# DIR/corpus/<target> (never into fuzz/corpus/, which holds the hand-written seeds).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
seconds=${1:-30}
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS_PER_TARGET]" >&2; exit 2; }
build=${DYNAREP_FUZZ_BUILD:-$here/build/fuzz}
export CCACHE_DIR=${CCACHE_DIR:-$here/.ccache}
jobs=${DYNAREP_JOBS:-2}
if [[ -z "${CXX:-}" ]]; then
  CC=clang CXX=clang++
  for v in 21 20 19 18 17 16; do
    if command -v "clang++-$v" > /dev/null && compgen -G "/usr/lib/llvm-$v/lib/clang/*/lib/*/libclang_rt.fuzzer*.a" > /dev/null; then
      CC=clang-$v CXX=clang++-$v
      break
    fi
  done
fi
cc=${CC:-clang}
cxx=$CXX
command -v "$cxx" > /dev/null || { echo "fuzz: $cxx not found (apt-get install clang libclang-rt-dev)" >&2; exit 2; }

echo "=== fuzz: configure + build ($build, $cxx)"
if [[ -f "$build/CMakeCache.txt" ]] && ! grep -q "CMAKE_CXX_COMPILER:[A-Z]*=$(command -v "$cxx")\$" "$build/CMakeCache.txt"; then
  rm -rf "$build"  # another compiler: CMake cannot switch in place
fi
mkdir -p "$build"
CC=$cc CXX=$cxx cmake -S "$here" -B "$build" -G Ninja -DDYNAREP_FUZZ=ON -DDYNAREP_TESTS=OFF \
  -DDYNAREP_WERROR=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" \
  "-DCMAKE_CXX_FLAGS=${DYNAREP_FUZZ_CXXFLAGS:-}" > "$build/configure.log" 2>&1 \
  || { cat "$build/configure.log" >&2; exit 3; }
grep -E 'fuzz: skipping' "$build/configure.log" || true
cmake --build "$build" --target fuzz_all -j "$jobs"

read -r -a built < <(tr ';' ' ' < "$build/fuzz_targets.txt")
skipped=$(tr ';' ' ' < "$build/fuzz_skipped.txt" | xargs)
if [[ ${#built[@]} -eq 0 ]]; then
  echo "fuzz: no harness could be built with $cxx (skipped: $skipped); see fuzz/README.md" >&2
  exit 2
fi
targets=(${DYNAREP_FUZZ_TARGETS:-${built[@]}})

dict_for() {
  case "$1" in
    item_codec|plain_json|change_record|lambda_event|gzip_lines|backup_reader) echo "$here/fuzz/dict/dynamodb_json.dict" ;;
    s3_xml) echo "$here/fuzz/dict/xml.dict" ;;
    location) echo "$here/fuzz/dict/location.dict" ;;
  esac
}

failed=0
summary=()
for t in "${targets[@]}"; do
  bin="$build/fuzz/fuzz_$t"
  if [[ ! -x "$bin" ]]; then
    echo "fuzz: no harness $t (built: ${built[*]})" >&2
    failed=1
    continue
  fi
  corpus="$build/corpus/$t"
  artifacts="$build/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  seeds=()
  [[ -d "$here/fuzz/corpus/$t" ]] && seeds+=("$here/fuzz/corpus/$t")
  [[ -d "$here/tests/fuzz_regressions/inputs/$t" ]] && seeds+=("$here/tests/fuzz_regressions/inputs/$t")
  flags=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1
         -artifact_prefix="$artifacts/")
  dict=$(dict_for "$t")
  [[ -n "$dict" ]] && flags+=(-dict="$dict")
  log="$build/fuzz-$t.log"
  echo "=== fuzz: $t for ${seconds}s"
  before=$(ls "$artifacts" | wc -l)
  set +e
  "$bin" "${flags[@]}" "$corpus" "${seeds[@]}" > "$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n1)
  summary+=("$(printf '%-14s %10s execs %7s/s  %s  corpus %s' "$t" "${execs:-?}" "${rate:-?}" "${cov:-cov: ?}" "$(ls "$corpus" | wc -l)")")
  after=$(ls "$artifacts" | wc -l)
  if [[ $rc -ne 0 || $after -gt $before ]]; then
    failed=1
    echo "fuzz: $t FAILED (exit $rc); last lines of $log:" >&2
    grep -E 'ERROR|dynarep fuzz|SUMMARY|runtime error|Test unit written' "$log" | tail -n 8 >&2 || tail -n 20 "$log" >&2
    for a in $(ls -t "$artifacts" | head -n 5); do
      echo "  input:     $artifacts/$a" >&2
      echo "  reproduce: $bin $artifacts/$a" >&2
    done
  fi
done

echo "=== fuzz: summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
[[ -n "$skipped" ]] && echo "NOT RUN (see the configure warnings above and fuzz/README.md): $skipped"
if [[ $failed -ne 0 ]]; then
  echo "fuzz: FAILED: turn each input above into a test in tests/fuzz_regressions/ (fuzz/README.md)" >&2
  exit 1
fi
echo "fuzz: no crashes"
