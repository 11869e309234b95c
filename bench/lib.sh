# shellcheck shell=bash
# Helpers the bench/ scripts source; not run on its own.
#   source "$root/bench/lib.sh"

# Builds TARGETS of the source tree at ROOT in a Release tree at DIR with $JOBS jobs (default
# 2), printing the errors on failure. Warnings are not errors here: GCC 12 at -O3 reports a false -Wrestrict in std::string
# code (src/aws/client.cpp); the Debug builds keep -Werror.
bench_release_build() {  # root dir target...
  local src=$1 dir=$2
  shift 2
  echo "== building (Release) in $dir"
  cmake -S "$src" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDYNAREP_WERROR=OFF > /dev/null
  if ! ninja -C "$dir" -j"${JOBS:-2}" "$@" > "$dir/bench-build.log" 2>&1; then
    grep -E "error|FAILED" -A5 "$dir/bench-build.log" | head -40
    return 1
  fi
}

# A free TCP port on the loopback interface.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
