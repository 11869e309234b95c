#!/usr/bin/env bash
# Replication benchmarks on the local stack (dynalite, kinesalite), Release build.
#
#   bench/replicate/run.sh                # N=20000 preload, 500 writes/s for 60 s
#   N=50000 RATE=500 DURATION=60 SHARDS=2 bench/replicate/run.sh
#   WORKER_FLAGS="--max-records 1000" bench/replicate/run.sh   # extra flags for the worker
#   WORKER_FLAGS="--no-prefetch" LAG=0 bench/replicate/run.sh    # catch-up without read-ahead, no lag
#
# 1. catch-up throughput: N items written to the primary and N KEYS_ONLY records put on the
#    stream first; then one `dynarep replicate` worker starts; records/s from its first to its
#    last apply (from its metrics), and the CPU the worker and the stack's servers used in that
#    window (/proc/PID/stat): the worker's in microseconds per record;
# 2. the raw BatchGetItem + BatchWriteItem rate of the same stack for the same N keys (no
#    Kinesis, no leases), with as many calls in flight as the worker may have (4 per shard);
# 3. end-to-end lag at a steady RATE writes/s for DURATION s: write confirmed on the primary ->
#    item visible on the replica (consistent BatchGetItem polls every ~20 ms);
# and the worker's peak RSS (VmHWM) in each run. Targets: lag p50 <= 300 ms, p99 <= 1 s;
# catch-up >= 90% of raw (with prefetch, the default); RSS <= 64 MB per worker. LAG=0 skips 3.
# Lag from a table's own DynamoDB stream on moto: bench/replicate/moto-lag.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build/bench-replicate-release}
N=${N:-20000}
RATE=${RATE:-500}
DURATION=${DURATION:-60}
SHARDS=${SHARDS:-2}
JOBS=${JOBS:-2}

echo "== building (Release) in $build"
# Warnings are not errors here: GCC 12 at -O3 reports a false -Wrestrict in std::string code
# (src/aws/client.cpp); the Debug builds keep -Werror.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDYNAREP_WERROR=OFF >/dev/null
if ! ninja -C "$build" -j"$JOBS" dynarep replicate_loadgen >"$build/bench-build.log" 2>&1; then
  grep -E "error|FAILED" -A5 "$build/bench-build.log" | head -40
  exit 1
fi
dynarep=$build/src/app/dynarep
lg=$build/tests/replicate/replicate_loadgen

work=$(mktemp -d /tmp/dynarep-bench-repl-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  "$root/scripts/local-stack.sh" stop "$work/stack" >/dev/null 2>&1 || true
  [[ -n "${KEEP:-}" ]] || rm -rf "$work"
}
trap cleanup EXIT
"$root/scripts/local-stack.sh" start "$work/stack" >/dev/null
# shellcheck disable=SC1091
source "$work/stack/stack.env"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Starts a worker in the background; sets $worker_pid and $metrics_url (the metrics server may
# take a moment to listen: the loadgen retries).
start_worker() {  # primary replica stream log
  local port
  port=$(free_port)
  # shellcheck disable=SC2086  # WORKER_FLAGS: several flags
  "$dynarep" replicate --primary "us-east-1/$1" --replica "us-east-1/$2" --stream "$3" \
    --lease-table "leases-$3" --metrics-port "$port" --log-interval 5s ${WORKER_FLAGS:-} >"$4" 2>&1 &
  worker_pid=$!
  pids+=("$worker_pid")
  metrics_url="http://127.0.0.1:$port/metrics"
}
rss_mb() { awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
stop_worker() {
  kill -TERM "$1"
  wait "$1" || true
}

echo "== 1. catch-up: $N records preloaded on $SHARDS shards"
$lg setup --primary bench-p --replica bench-r --scratch bench-x --stream bench-s --shards "$SHARDS"
$lg preload --primary bench-p --stream bench-s --count "$N"
start_worker bench-p bench-r bench-s "$work/catchup.log"
mapfile -t stack_pids < "$work/stack/pids"  # dynalite, kinesalite, s3rver (scripts/local-stack.sh)
catchup=$($lg catchup --metrics "$metrics_url" --count "$N" \
  --cpu "worker=$worker_pid,dynalite=${stack_pids[0]},kinesalite=${stack_pids[1]}")
echo "$catchup" | grep -v RESULT
catchup_rate=$(echo "$catchup" | sed -n 's/RESULT catchup_records_per_s //p')
catchup_cpu=$(echo "$catchup" | sed -n 's/RESULT catchup_cpu_us_per_record //p')
catchup_rss=$(rss_mb "$worker_pid")
stop_worker "$worker_pid"
echo "worker peak RSS: $catchup_rss MB"

echo "== 2. raw BatchGetItem + BatchWriteItem for the same $N keys ($((SHARDS * 4)) calls in flight)"
raw=$($lg raw --primary bench-p --scratch bench-x --count "$N" --parallel $((SHARDS * 4)) \
  --cpu "dynalite=${stack_pids[0]}")
echo "$raw" | grep -v RESULT
raw_rate=$(echo "$raw" | sed -n 's/RESULT raw_keys_per_s //p')

steady="" lag_rss="-"
if [[ "${LAG:-1}" != 0 ]]; then
  echo "== 3. lag at $RATE writes/s for $DURATION s"
  $lg setup --primary lag-p --replica lag-r --stream lag-s --shards "$SHARDS"
  start_worker lag-p lag-r lag-s "$work/lag.log"
  sleep 2  # leases taken, iterators at the tip
  steady=$($lg steady --primary lag-p --replica lag-r --stream lag-s --rate "$RATE" --seconds "$DURATION" || true)
  echo "$steady" | grep -v RESULT
  lag_rss=$(rss_mb "$worker_pid")
  stop_worker "$worker_pid"
  echo "worker peak RSS: $lag_rss MB"
fi

p50=$(echo "$steady" | sed -n 's/RESULT lag_p50_ms //p')
p99=$(echo "$steady" | sed -n 's/RESULT lag_p99_ms //p')
ratio=$(awk -v a="$catchup_rate" -v b="$raw_rate" 'BEGIN { printf "%.0f", 100 * a / b }')
echo
echo "== summary"
printf '%-44s %s\n' "catch-up throughput (records/s)" "$catchup_rate"
printf '%-44s %s\n' "raw BatchGet+BatchWrite (keys/s)" "$raw_rate"
printf '%-44s %s%%  (target >= 90%%)\n' "catch-up vs raw${WORKER_FLAGS:+ ($WORKER_FLAGS)}" "$ratio"
printf '%-44s %s\n' "worker CPU per record in catch-up (us)" "$catchup_cpu"
if [[ "${LAG:-1}" != 0 ]]; then
  printf '%-44s %s ms (target <= 300)\n' "lag p50 at $RATE writes/s" "$p50"
  printf '%-44s %s ms (target <= 1000)\n' "lag p99 at $RATE writes/s" "$p99"
fi
printf '%-44s %s MB / %s MB (target <= 64)\n' "worker peak RSS (catch-up / steady)" "$catchup_rss" "$lag_rss"
