#!/usr/bin/env bash
# `dynarep import` end to end against the local stack, and the raw BatchWriteItem ceiling of
# the same stack measured the same way. N ~200-byte items (bench/import/gen.py) are loaded
# twice, each time into a freshly started dynalite so neither run sees a fuller store:
#   1. raw:     raw_batch_write.js (aws-sdk v2, requests pre-built before the clock starts,
#               PARALLEL concurrent BatchWriteItem calls, UnprocessedItems re-sent);
#   2. dynarep: `dynarep import host:port/table FILE --parallel PARALLEL` under /usr/bin/time -v
#               (parsing, validation, batching and the table's creation all inside the clock).
# Reports items/s of both, dynarep's CPU seconds and its share of the run's total CPU (dynarep
# + the stand-in servers), and dynarep's peak RSS. Targets: >= 90% of the raw ceiling, CPU
# share <= 15%, RSS <= 64 MB.
#
#   bench/import/run.sh [N]                 N defaults to 1000000
#
# Environment:
#   BUILD=DIR          a build directory whose src/app/dynarep to use (default: build/release,
#                      configured with `cmake --preset release`, target dynarep built)
#   PARALLEL=8         concurrent BatchWriteItem calls, both runs (dynarep's default is 8)
#   WITH_STREAM=1      also run a third load with --stream (records to kinesalite)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-1000000}
P=${PARALLEL:-8}

build=${BUILD:-$here/build/release}
if [[ -z "${BUILD:-}" ]]; then
  (cd "$here" && cmake --preset release >/dev/null)
  cmake --build "$build" --target dynarep -j2 >/dev/null
fi
dynarep=$build/src/app/dynarep
[[ -x $dynarep ]] || { echo "no dynarep at $dynarep" >&2; exit 1; }

work=$(mktemp -d /tmp/dynarep-bench-import.XXXXXX)
stack=$work/stack
trap '"$here/scripts/local-stack.sh" stop "$stack" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

echo "generating $N items ..."
python3 "$here/bench/import/gen.py" "$N" > "$work/items.txt"
bytes=$(stat -c %s "$work/items.txt")
echo "input: $N items, $((bytes / 1024 / 1024)) MiB, $((bytes / (N + 1))) bytes a line"

hz=$(getconf CLK_TCK)
# utime + stime of every stand-in server (dynalite, kinesalite, s3rver), in clock ticks.
servers_ticks() {
  local t=0 pid
  while read -r pid; do
    [[ -r /proc/$pid/stat ]] && t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done < "$stack/pids"
  echo "$t"
}
fresh_stack() {
  "$here/scripts/local-stack.sh" stop "$stack" >/dev/null 2>&1 || true
  "$here/scripts/local-stack.sh" start "$stack" >/dev/null
  # shellcheck disable=SC1091
  source "$stack/stack.env"
  ddb_hostport=${AWS_ENDPOINT_URL_DYNAMODB#http://}
}

# --- 1. raw ceiling --------------------------------------------------------------------------
fresh_stack
head -n 1 "$work/items.txt" | "$dynarep" import "$ddb_hostport/raw" --quiet  # just the table
s0=$(servers_ticks)
node --max-old-space-size=8192 "$here/bench/import/raw_batch_write.js" "$AWS_ENDPOINT_URL_DYNAMODB" raw \
  "$work/items.txt" "$P" > "$work/raw.json"
s1=$(servers_ticks)
echo "raw:     $(cat "$work/raw.json")"
raw_server_ticks=$((s1 - s0))

# --- 2. dynarep import -----------------------------------------------------------------------
run_dynarep() {  # name, extra flags...
  local name=$1; shift
  fresh_stack
  local extra=()
  if [[ "${1:-}" == "--stream" ]]; then
    "$dynarep" create-stream bench-changes --shards 4 2>/dev/null
    extra=(--stream bench-changes)
  fi
  local t0 t1
  t0=$(servers_ticks)
  /usr/bin/time -v -o "$work/$name.time" "$dynarep" import "$ddb_hostport/bench" "$work/items.txt" \
    --parallel "$P" "${extra[@]}" 2> "$work/$name.err"
  t1=$(servers_ticks)
  echo "$((t1 - t0))" > "$work/$name.server_ticks"
  tail -n 1 "$work/$name.err"
  # Everything arrived: the table's item count (dynalite counts exactly).
  "$dynarep" table "$ddb_hostport/bench" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Table"]["ItemCount"])' \
    > "$work/$name.count"
}
run_dynarep dynarep
[[ "${WITH_STREAM:-}" == 1 ]] && run_dynarep stream --stream

python3 - "$work" "$N" "$hz" "$raw_server_ticks" "${WITH_STREAM:-0}" <<'PY'
import json, re, sys
work, n, hz, raw_server_ticks, with_stream = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"
raw = json.load(open(f"{work}/raw.json"))
def parse_time(name):
    t = open(f"{work}/{name}.time").read()
    field = lambda k: re.search(re.escape(k) + r":\s*(.*)", t).group(1).strip()
    wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")
    secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
    return {"wall": secs, "cpu": float(field("User time (seconds)")) + float(field("System time (seconds)")),
            "rss_mb": int(field("Maximum resident set size (kbytes)")) / 1024,
            "server_cpu": int(open(f"{work}/{name}.server_ticks").read()) / hz,
            "count": int(open(f"{work}/{name}.count").read())}
runs = [("dynarep import", parse_time("dynarep"))]
if with_stream:
    runs.append(("dynarep import --stream", parse_time("stream")))
print()
print(f"items                         {n:,}")
print(f"raw BatchWriteItem ceiling    {raw['items_per_s']:,.0f} items/s ({raw['seconds']:.1f} s; client CPU "
      f"{raw['client_cpu_seconds']:.1f} s, servers CPU {raw_server_ticks / hz:.1f} s)")
for name, r in runs:
    total = r["cpu"] + r["server_cpu"]
    rate = n / r["wall"]
    print(f"{name:<29} {rate:,.0f} items/s ({r['wall']:.1f} s) = {100 * rate / raw['items_per_s']:.0f}% of the raw "
          f"ceiling (target >= 90%)")
    print(f"  dynarep CPU                 {r['cpu']:.1f} s = {100 * r['cpu'] / total:.1f}% of the run's {total:.1f} CPU s "
          f"(servers {r['server_cpu']:.1f} s) (target <= 15%)")
    print(f"  dynarep peak RSS            {r['rss_mb']:.1f} MB (target <= 64 MB)")
    print(f"  items in the table after    {r['count']:,}" + ("" if r["count"] == n else "  <-- MISMATCH"))
PY
