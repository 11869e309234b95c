#!/usr/bin/env bash
# `dynarep import` end to end against the local stack, and the raw BatchWriteItem ceiling of
# the same stack, measured by this same script. N ~200-byte items (gen.py) are loaded several
# times, each into a freshly started stack (so no run sees a fuller or warmer dynalite):
#   raw-native  raw_batch_write.cpp: every request body built before the clock starts, PARALLEL
#               threads with keep-alive libcurl handles, no parsing, no signing: the least work
#               any client can do, so what it reaches is the stand-in's ceiling on this machine;
#   raw-node    raw_batch_write.js: the same with aws-sdk v2 (dyno's SDK), requests pre-built;
#   dynarep     `dynarep import host:port/table FILE --parallel PARALLEL` under /usr/bin/time -v
#               (reading, parsing, validation, batching and the table's creation inside the clock).
# The ceiling is the best raw run. Reports items/s, dynarep's CPU seconds and share of the
# run's total CPU (dynarep + the stand-in servers), its peak RSS, and checks the item count.
# Targets: >= 90% of the ceiling, CPU share <= 15%, RSS <= 64 MB.
#
#   bench/import/run.sh [N]                 N defaults to 1000000
#
# Environment:
#   BUILD=DIR        a build directory whose src/app/dynarep to use (default: build/release,
#                    configured with `cmake --preset release`, target dynarep built)
#   PARALLEL=8       concurrent BatchWriteItem calls in every run (dynarep's default is 8)
#   ROUNDS=2         raw-native and dynarep runs, alternating (the host is shared and noisy)
#   RAW_NODE=1       also measure the aws-sdk v2 client (0 to skip)
#   WITH_STREAM=1    also run one dynarep load with --stream (records to kinesalite)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-1000000}
P=${PARALLEL:-8}
ROUNDS=${ROUNDS:-2}

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
g++ -O2 -std=c++20 "$here/bench/import/raw_batch_write.cpp" -lcurl -pthread -o "$work/raw_batch_write"

echo "generating $N items ..."
python3 "$here/bench/import/gen.py" "$N" > "$work/items.txt"
bytes=$(stat -c %s "$work/items.txt")
echo "input: $N items, $((bytes / 1024 / 1024)) MiB, $((bytes / (N + 1))) bytes a line; $P parallel calls; host: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

hz=$(getconf CLK_TCK)
servers_ticks() {  # utime + stime of the stand-ins (dynalite, kinesalite, s3rver), clock ticks
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
  hostport=${AWS_ENDPOINT_URL_DYNAMODB#http://}
}
count() { "$dynarep" scan "$hostport/$1" --quiet --segments 8 | wc -l; }

raw() {  # name, command...
  local name=$1; shift
  fresh_stack
  head -n 1 "$work/items.txt" | "$dynarep" import "$hostport/raw" --quiet  # the table only
  local s0 s1
  s0=$(servers_ticks)
  "$@" "$AWS_ENDPOINT_URL_DYNAMODB" raw "$work/items.txt" "$P" > "$work/$name.json"
  s1=$(servers_ticks)
  echo "{\"name\":\"$name\",\"server_cpu\":$(( (s1 - s0) * 100 / hz ))e-2,\"count\":$(count raw),\"run\":$(cat "$work/$name.json")}" \
    >> "$work/runs.jsonl"
  echo "$name: $(cat "$work/$name.json")"
}
ours() {  # name, extra flags...
  local name=$1; shift
  fresh_stack
  local extra=()
  if [[ "${1:-}" == "--stream" ]]; then
    "$dynarep" create-stream bench-changes --shards 4 2>/dev/null
    extra=(--stream bench-changes)
  fi
  local s0 s1
  s0=$(servers_ticks)
  /usr/bin/time -v -o "$work/$name.time" "$dynarep" import "$hostport/bench" "$work/items.txt" \
    --parallel "$P" "${extra[@]}" 2> "$work/$name.err"
  s1=$(servers_ticks)
  python3 - "$work/$name.time" "$name" "$(( (s1 - s0) * 100 / hz ))e-2" "$(count bench)" >> "$work/runs.jsonl" <<'PY'
import json, re, sys
t = open(sys.argv[1]).read()
f = lambda k: re.search(re.escape(k) + r":\s*(.*)", t).group(1).strip()
wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(f("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":"))))
print(json.dumps({"name": sys.argv[2], "server_cpu": float(sys.argv[3]), "count": int(sys.argv[4]),
                  "wall": wall, "cpu": float(f("User time (seconds)")) + float(f("System time (seconds)")),
                  "rss_mb": int(f("Maximum resident set size (kbytes)")) / 1024}))
PY
  echo "$name: $(tail -n 1 "$work/$name.err")"
}

[[ "${RAW_NODE:-1}" == 1 ]] && raw raw-node node --max-old-space-size=8192 "$here/bench/import/raw_batch_write.js"
for r in $(seq 1 "$ROUNDS"); do
  raw "raw-native-$r" "$work/raw_batch_write"
  ours "dynarep-$r"
done
[[ "${WITH_STREAM:-}" == 1 ]] && ours "dynarep-stream" --stream

python3 - "$work/runs.jsonl" "$N" <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[2])
raws = [r for r in runs if r["name"].startswith("raw")]
ours = [r for r in runs if r["name"].startswith("dynarep")]
ceiling = max(r["run"]["items_per_s"] for r in raws)
print()
print(f"{'run':<16}{'items/s':>10}{'seconds':>10}{'client CPU s':>14}{'servers CPU s':>15}{'client share':>14}{'peak RSS':>10}{'items':>10}")
for r in raws:
    x = r["run"]
    total = x["client_cpu_seconds"] + r["server_cpu"]
    print(f"{r['name']:<16}{x['items_per_s']:>10,.0f}{x['seconds']:>10.1f}{x['client_cpu_seconds']:>14.1f}{r['server_cpu']:>15.1f}"
          f"{100 * x['client_cpu_seconds'] / total:>13.1f}%{'':>10}{r['count']:>10,}")
for r in ours:
    total = r["cpu"] + r["server_cpu"]
    print(f"{r['name']:<16}{n / r['wall']:>10,.0f}{r['wall']:>10.1f}{r['cpu']:>14.1f}{r['server_cpu']:>15.1f}"
          f"{100 * r['cpu'] / total:>13.1f}%{r['rss_mb']:>8.1f}MB{r['count']:>10,}")
plain = [r for r in ours if r["name"] != "dynarep-stream"]
best = max(plain, key=lambda r: n / r["wall"])
total = best["cpu"] + best["server_cpu"]
print()
print(f"ceiling (best raw run)        {ceiling:,.0f} items/s")
print(f"dynarep import (best run)     {n / best['wall']:,.0f} items/s = {100 * n / best['wall'] / ceiling:.0f}% of the ceiling (target >= 90%)")
print(f"dynarep CPU                   {best['cpu']:.1f} s = {100 * best['cpu'] / total:.1f}% of the run's {total:.1f} CPU s (target <= 15%)")
print(f"dynarep peak RSS              {max(r['rss_mb'] for r in ours):.1f} MB, worst run (target <= 64 MB)")
bad = [r["name"] for r in runs if r["count"] != n]
print("item counts                   " + ("all runs wrote exactly %s items" % f"{n:,}" if not bad else "MISMATCH in " + ", ".join(bad)))
PY
