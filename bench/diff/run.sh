#!/usr/bin/env bash
# diff-tables end to end: two tables of N ~200-byte items on the local stack (dynalite) with 1%
# planted discrepancies (0.4% different, 0.3% missing, 0.3% extraneous), then one
# `dynarep diff-tables --json` under /usr/bin/time -v. Prints the figures docs/diff.md quotes.
#
#   bench/diff/run.sh [N] [-- extra diff-tables flags]     N defaults to 1000000
#
# Environment:
#   BUILD=DIR        a build directory whose src/app/dynarep to use (default: build/release,
#                    configured with `cmake --preset release` and built, dynarep only)
#   KEEP_STACK=DIR   use (and leave running) the stack in DIR, starting it if needed; tables
#                    an earlier run loaded there for the same N are reused
#   LOAD_PARALLEL=8  concurrent BatchWriteItem calls while loading
#   REPLICA_SERVER=own  put the replica on a second dynalite process (as in production, where
#                    the replica is in another region behind another endpoint); default: the
#                    stack's one dynalite holds both tables
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-1000000}
shift || true
[[ "${1:-}" == "--" ]] && shift
extra=("$@")

build=${BUILD:-$here/build/release}
if [[ -z "${BUILD:-}" ]]; then
  (cd "$here" && cmake --preset release >/dev/null)
  cmake --build "$build" --target dynarep -j2 >/dev/null
fi
dynarep=$build/src/app/dynarep
[[ -x $dynarep ]] || { echo "no dynarep at $dynarep" >&2; exit 1; }

work=$(mktemp -d /tmp/dynarep-bench-diff.XXXXXX)
d2=""
cleanup() {
  if [[ -n "$d2" ]]; then kill "$d2" 2>/dev/null || true; fi
  if [[ -z "${KEEP_STACK:-}" ]]; then "$here/scripts/local-stack.sh" stop "$stack"; fi
  rm -rf "$work"
}
trap cleanup EXIT
if [[ -n "${KEEP_STACK:-}" ]]; then
  stack=$KEEP_STACK
  [[ -f $stack/stack.env ]] || "$here/scripts/local-stack.sh" start "$stack" >/dev/null
else
  stack=$work/stack
  "$here/scripts/local-stack.sh" start "$stack" >/dev/null
fi
# shellcheck disable=SC1091
source "$stack/stack.env"
dynalite_pids=$(head -n1 "$stack/pids")

P=bench-diff-p-$N
R=bench-diff-r-$N
P_LOC=us-east-1/$P
R_LOC=us-east-1/$R
if [[ ${REPLICA_SERVER:-shared} == own ]]; then
  node "$here/tools/local-stack/serve.js" dynalite > "$work/dynalite2.out" 2> "$work/dynalite2.err" &
  d2=$!
  for _ in $(seq 1 300); do
    port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$work/dynalite2.out" | head -n1)
    [[ -n "$port" ]] && break
    sleep 0.1
  done
  [[ -n "${port:-}" ]] || { echo "second dynalite did not start" >&2; exit 1; }
  R_LOC=127.0.0.1:$port/$R
  dynalite_pids="$dynalite_pids $d2"
  rm -f "$stack/loaded-$R"  # a fresh server holds nothing
fi

load() {  # side table location
  local marker=$stack/loaded-$2
  if [[ -f $marker ]] && "$dynarep" table "$3" >/dev/null 2>&1; then
    echo "load: $2 already loaded ($(cat "$marker"))"
    return
  fi
  local t0=$SECONDS
  python3 "$here/bench/diff/gen.py" "$N" "$1" "$2" |
    "$dynarep" import "$3" --parallel "${LOAD_PARALLEL:-8}" --quiet
  echo "$1, $((SECONDS - t0)) s to load" > "$marker"
  echo "load: $2 ($1): $N items in $((SECONDS - t0)) s"
}
load primary "$P" "$P_LOC"
load replica "$R" "$R_LOC"
python3 "$here/bench/diff/gen.py" "$N" expected | sort > "$work/expected"

cpu_ticks() { local t=0 p; for p in $dynalite_pids; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }
hz=$(getconf CLK_TCK)
d0=$(cpu_ticks)
/usr/bin/time -v -o "$work/time" "$dynarep" diff-tables "$P_LOC" "$R_LOC" --json --quiet \
  "${extra[@]}" > "$work/out" 2> "$work/err" || rc=$?
rc=${rc:-0}
d1=$(cpu_ticks)

python3 - "$work" "$N" "$rc" "$(( d1 - d0 ))" "$hz" <<'PY'
import json, re, sys
work, n, rc, dticks, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
lines = open(f"{work}/out").read().splitlines()
summary = json.loads(lines[-1])
found = sorted(f'{json.loads(l)["kind"]} {json.dumps(json.loads(l)["key"], separators=(",", ":"))}' for l in lines[:-1])
expected = open(f"{work}/expected").read().splitlines()
t = open(f"{work}/time").read()
def field(name):
    return re.search(re.escape(name) + r":\s*(.*)", t).group(1).strip()
user, sys_ = float(field("User time (seconds)")), float(field("System time (seconds)"))
rss_mb = int(field("Maximum resident set size (kbytes)")) / 1024
el = summary["elapsed_seconds"]
scanned = summary["scanned_primary"] + summary["scanned_replica"]
print(f"N={n}: exit {rc}, {el:.1f} s elapsed")
print(f"  items compared/s  {scanned / el:,.0f}  (items of both tables, as the original counts)")
print(f"  keys compared/s   {summary['compared'] / el:,.0f}  ({summary['compared']:,} distinct keys)")
print(f"  time              scan {summary['scan_seconds']:.1f} s, compare {summary['compare_seconds']:.2f} s, "
      f"settle wait {summary['settle_seconds']:.1f} s, re-read {summary['reread_seconds']:.2f} s")
print(f"  dynarep CPU       {user + sys_:.1f} s (user {user:.1f}, sys {sys_:.1f})")
print(f"  dynalite CPU      {dticks / hz:.1f} s during the diff")
print(f"  peak RSS          {rss_mb:.0f} MB")
print(f"  read units        {summary['read_units']:,.1f}  ({summary['read_units'] / scanned:.4f} per item scanned)")
print(f"  re-read keys      {summary['suspects']:,} (settled {summary['settled']:,}), rounds {summary['rounds']}")
print(f"  discrepancies     {summary['discrepancies']:,} found (missing {summary['missing']:,}, different "
      f"{summary['different']:,}, extraneous {summary['extraneous']:,}); planted {len(expected):,}; "
      f"{'MATCH' if found == expected else 'MISMATCH'}")
if found != expected:
    sys.exit(1)
PY
