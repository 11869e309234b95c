#!/usr/bin/env bash
# backup-table and restore end to end on the local stack (dynalite + s3rver), against the
# stack's raw rates measured with the AWS SDK for JavaScript v2 (bench/backup/raw.js):
#   1. load N/4 ~200-byte items, back up (peak RSS at N/4), load the rest
#   2. raw 4-segment parallel Scan of the N items
#   3. dynarep backup-table --parallel 4 (one gzip object + manifest) under /usr/bin/time -v
#   4. raw BatchWriteItem of N items into a fresh table
#   5. dynarep restore of that backup into a new table under /usr/bin/time -v
# Prints the figures docs/backup.md quotes.
#
#   bench/backup/run.sh [N]          N defaults to 1000000
#
# Environment:
#   BUILD=DIR            a build directory whose src/app/dynarep to use (default: build/release,
#                        configured with `cmake --preset release`, dynarep built)
#   KEEP_STACK=DIR       use (and leave running) the stack in DIR, starting it if needed
#   LOAD_PARALLEL=16     BatchWriteItem calls in flight while loading (dynarep put)
#   BACKUP_PARALLEL=4    backup-table --parallel
#   RESTORE_PARALLEL=16  restore --parallel, and the raw writer's calls in flight
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-1000000}
build=${BUILD:-$here/build/release}
if [[ -z "${BUILD:-}" ]]; then
  (cd "$here" && cmake --preset release >/dev/null)
  cmake --build "$build" --target dynarep -j2 >/dev/null
fi
dynarep=$build/src/app/dynarep
[[ -x $dynarep ]] || { echo "no dynarep at $dynarep" >&2; exit 1; }
LP=${LOAD_PARALLEL:-16}
BP=${BACKUP_PARALLEL:-4}
RP=${RESTORE_PARALLEL:-16}

work=$(mktemp -d /tmp/dynarep-bench-backup.XXXXXX)
if [[ -n "${KEEP_STACK:-}" ]]; then
  stack=$KEEP_STACK
  [[ -f $stack/stack.env ]] || "$here/scripts/local-stack.sh" start "$stack" >/dev/null
  trap 'rm -rf "$work"' EXIT
else
  stack=$work/stack
  "$here/scripts/local-stack.sh" start "$stack" >/dev/null
  trap '"$here/scripts/local-stack.sh" stop "$stack"; rm -rf "$work"' EXIT
fi
# shellcheck disable=SC1091
source "$stack/stack.env"
dynalite_pid=$(head -n1 "$stack/pids")
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
raw() { node "$here/bench/backup/raw.js" "$@"; }

tag=$(date +%s)-$$
T=bench-backup-$tag
R=bench-backup-raw-$tag
D=bench-backup-dst-$tag
bucket=dynarep-local
raw create "$T"

load() {  # count start
  local t0=$SECONDS
  python3 "$here/bench/backup/gen.py" "$1" "$2" | "$dynarep" put "us-east-1/$T" --parallel "$LP" --quiet
  echo "load: $1 items in $((SECONDS - t0)) s" >&2
}
timed() {  # name cmd... : /usr/bin/time -v into $work/name.time, stdout into $work/name.out
  local name=$1; shift
  local d0; d0=$(cpu_ticks "$dynalite_pid")
  /usr/bin/time -v -o "$work/$name.time" "$@" > "$work/$name.out" 2> "$work/$name.err"
  echo $(( $(cpu_ticks "$dynalite_pid") - d0 )) > "$work/$name.dyn"
}

quarter=$(( N / 4 ))
load "$quarter" 0
timed backup_quarter "$dynarep" backup-table "us-east-1/$T" "s3://$bucket/bench-$tag/q" --parallel "$BP" --json --quiet
load $(( N - quarter )) "$quarter"

raw scan "$T" 4 > "$work/raw_scan.out"
timed backup "$dynarep" backup-table "us-east-1/$T" "s3://$bucket/bench-$tag/full" --parallel "$BP" --json --quiet
job=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["jobid"])' "$work/backup.out")

raw create "$R"
raw write "$R" "$N" "$RP" > "$work/raw_write.out"
raw delete "$R"  # dynalite keeps tables in memory
timed restore "$dynarep" restore "s3://$bucket/bench-$tag/full/$job" "us-east-1/$D" --parallel "$RP" --json --quiet

python3 - "$work" "$N" "$hz" <<'PY'
import json, re, sys
work, n, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def timev(name):
    t = open(f"{work}/{name}.time").read()
    f = lambda k: re.search(re.escape(k) + r":\s*(.*)", t).group(1).strip()
    return float(f("User time (seconds)")) + float(f("System time (seconds)")), int(f("Maximum resident set size (kbytes)")) / 1024
def dyn(name):
    return int(open(f"{work}/{name}.dyn").read()) / hz
rs = json.loads(open(f"{work}/raw_scan.out").read())
rw = json.loads(open(f"{work}/raw_write.out").read())
b = json.loads(open(f"{work}/backup.out").read())
bq = json.loads(open(f"{work}/backup_quarter.out").read())
r = json.loads(open(f"{work}/restore.out").read())
m = b["manifest"]
bs = b["seconds_ms"] / 1000
rsec = r["seconds_ms"] / 1000
bcpu, brss = timev("backup")
_, qrss = timev("backup_quarter")
rcpu, rrss = timev("restore")
raw_mb = m["bytes"] / 1e6
print(f"N={n} items of ~{m['bytes'] / max(1, m['items']):.0f} bytes (line format)")
print(f"raw 4-segment Scan (aws-sdk v2)   {rs['items_per_s']:>10,.0f} items/s")
print(f"backup-table --parallel 4          {m['items'] / bs:>10,.0f} items/s  {raw_mb / bs:6.1f} MB/s  "
      f"{100 * m['items'] / bs / rs['items_per_s']:.0f}% of raw scan, {m['items'] / bs / 14600:.1f}x the original's 14,600/s")
print(f"  dynarep CPU {bcpu:.1f} s ({m['items'] / bcpu:,.0f} items per CPU second), peak RSS {brss:.0f} MB "
      f"(at N/4: {qrss:.0f} MB), dynalite CPU {dyn('backup'):.1f} s")
print(f"  gzip {m['gzip_bytes'] / 1e6:.1f} MB of {raw_mb:.1f} MB: ratio {m['bytes'] / max(1, m['gzip_bytes']):.2f}x, {bq['items']:,} items at N/4")
print(f"raw BatchWriteItem (aws-sdk v2)    {rw['items_per_s']:>10,.0f} items/s")
print(f"restore --parallel 16              {r['items_written'] / rsec:>10,.0f} items/s  {raw_mb / rsec:6.1f} MB/s  "
      f"{100 * r['items_written'] / rsec / rw['items_per_s']:.0f}% of raw BatchWriteItem, {r['items_written'] / rsec / 14600:.1f}x 14,600/s")
print(f"  dynarep CPU {rcpu:.1f} s ({r['items_written'] / rcpu:,.0f} items per CPU second), peak RSS {rrss:.0f} MB, "
      f"dynalite CPU {dyn('restore'):.1f} s, {r['items_written']:,} items written")
PY
