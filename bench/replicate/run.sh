#!/usr/bin/env bash
# Replication benchmarks on the local stack (dynalite, kinesalite), Release build.
#
#   bench/replicate/run.sh                # N=100000 preload, 4 rounds, 500 writes/s for 60 s
#   N=50000 ROUNDS=5 RATE=500 DURATION=60 SHARDS=2 bench/replicate/run.sh
#   N=200000 LAG=0 bench/replicate/run.sh                     # a longer backlog: catch-up only
#   WORKER_PARALLEL=8 LAG=0 bench/replicate/run.sh            # the worker's --parallel alone
#   WORKER_FLAGS="--max-records 1000" bench/replicate/run.sh   # extra flags for the worker
#   WORKER_FLAGS="--no-prefetch" LAG=0 bench/replicate/run.sh    # catch-up without read-ahead, no lag
#
# Each of ROUNDS rounds (a fresh stack, tables and stream each time):
# 0. warm-up: the raw pass below over N/5 keys into a table of its own, not measured. dynalite
#    is Node: its BatchGetItem code is JIT-compiled on first use, and without this the first
#    phase to call it (catch-up) paid for the warm-up and raw, run after it, did not
#    (WARMUP=0 skips it, to see that);
# 1. catch-up throughput: N items written to the primary and N KEYS_ONLY records put on the
#    stream first; then one `dynarep replicate` worker starts; records/s from its first
#    GetRecords to its last apply (from its metrics), also from the first page received (before
#    it nothing can be applied: kinesalite is producing the first pages); the CPU the worker and
#    the stack's servers used in that window (/proc/PID/stat), the worker's in microseconds per
#    record; the AWS calls it made;
# 2. raw: the BatchGetItem + BatchWriteItem rate of the same stack for the same N keys (no
#    Kinesis, no leases), with as many calls in flight as the worker may have (PARALLEL, default
#    4, per shard): DynamoDB alone, with the machine's second core free for dynalite's helper
#    threads;
# 3. raw-stream: the same N records read from the stream (GetRecords, Limit 2000, 5 calls/s a
#    shard, read ahead) and their keys read and written with as many segments in flight, and
#    nothing else (no leases, checkpoints, ordering, dead letters): the rate this machine allows
#    a replicator, since the stream server takes its share of the cores too. Catch-up /
#    raw-stream is what the worker's own machinery costs; catch-up / raw adds what serving the
#    stream on the same 2 cores costs dynalite.
# Each phase runs on a fresh stack with the same N items and records (see start_stack below).
# The ratios are taken within each round (the phases back to back, in one order in odd rounds
# and the reverse in even ones) and the median over the rounds is the result: on this 2-core
# machine dynalite's own rate moves by 20-30% from one minute to the next, so one round says
# little. They also depend on N: a short catch-up runs on a small, fast store and pays its first
# pages on fewer records; bench/RESULTS.md has N = 50,000 to 200,000.
# 4. end-to-end lag at a steady RATE writes/s for DURATION s: write confirmed on the primary ->
#    item visible on the replica (consistent BatchGetItem polls every ~20 ms);
# and the worker's peak RSS (VmHWM) in each run. Targets: lag p50 <= 300 ms, p99 <= 1 s;
# catch-up >= 90% of raw (with prefetch, the default); RSS <= 64 MB per worker. LAG=0 skips 4.
# Lag from a table's own DynamoDB stream on moto: bench/replicate/moto-lag.sh.
# PIN=1 gives dynalite a core of its own in every phase (taskset: dynalite on CPU 0; kinesalite,
# s3rver, the worker and the load generator on CPU 1). On a 2-core machine raw lends dynalite the
# second core while catch-up fills it with kinesalite and the worker; pinned, both phases give
# dynalite the same CPU, so the ratio compares what the worker asks of it, not how the machine
# shares its cores. Report both.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build/bench-replicate-release}
N=${N:-100000}
RATE=${RATE:-500}
DURATION=${DURATION:-60}
SHARDS=${SHARDS:-2}
PARALLEL=${PARALLEL:-4}  # the worker's --parallel (unless WORKER_PARALLEL is set); raw gets as many calls in flight per shard
JOBS=${JOBS:-2}

ROUNDS=${ROUNDS:-4}
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
bench_release_build "$root" "$build" dynarep replicate_loadgen
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

# Starts a worker in the background; sets $worker_pid and $metrics_url (the metrics server may
# take a moment to listen: the loadgen retries).
start_worker() {  # primary replica stream log
  local port
  port=$(free_port)
  # shellcheck disable=SC2086  # WORKER_FLAGS: several flags
  "${other_core[@]}" "$dynarep" replicate --primary "us-east-1/$1" --replica "us-east-1/$2" --stream "$3" \
    --lease-table "leases-$3" --metrics-port "$port" --log-interval 5s --parallel "${WORKER_PARALLEL:-$PARALLEL}" ${WORKER_FLAGS:-} >"$4" 2>&1 &
  worker_pid=$!
  pids+=("$worker_pid")
  metrics_url="http://127.0.0.1:$port/metrics"
}
rss_mb() { awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
stop_worker() {
  kill -TERM "$1"
  wait "$1" || true
}

# A fresh stack for every phase (and for the lag phase): dynalite slows as it runs and its store
# grows, and deleting the tables written does not undo it (at N=200,000, with each phase's table
# dropped after it, the first phase on a stack paid 119-167 us of dynalite CPU per item and the
# third up to 204). So each phase gets a new stack with the same N items and records preloaded and
# the same warm-up, and the phases of a round run back to back, in one order in odd rounds and the
# reverse in even ones, so that the machine's drift from minute to minute falls on all of them.
other_core=()  # the command prefix for the worker and the load generator
lg_bin=$lg
start_stack() {
  "$root/scripts/local-stack.sh" stop "$work/stack" >/dev/null 2>&1 || true
  rm -rf "$work/stack"
  "$root/scripts/local-stack.sh" start "$work/stack" >/dev/null
  # shellcheck disable=SC1091
  source "$work/stack/stack.env"
  mapfile -t stack_pids < "$work/stack/pids"  # dynalite, kinesalite, s3rver (scripts/local-stack.sh)
  if [[ "${PIN:-0}" != 0 ]]; then
    command -v taskset >/dev/null || { echo "PIN=1 needs taskset (util-linux)" >&2; exit 2; }
    taskset -a -p -c 0 "${stack_pids[0]}" >/dev/null
    taskset -a -p -c 1 "${stack_pids[1]}" >/dev/null
    taskset -a -p -c 1 "${stack_pids[2]}" >/dev/null
    other_core=(taskset -c 1)
    lg="taskset -c 1 $lg_bin"
  fi
}
[[ "${PIN:-0}" == 0 ]] || echo "== PIN=1: dynalite on CPU 0; kinesalite, s3rver, the worker and the load generator on CPU 1"
# A new stack holding N items in the primary and N records in the stream, warmed up.
prepare() {
  start_stack
  $lg setup --primary "bench-p$round" --replica "bench-r$round" --scratch "bench-x$round" --stream "bench-s$round" \
    --shards "$SHARDS"
  $lg setup --scratch "bench-wx$round" >/dev/null  # the warm-up's table
  $lg preload --primary "bench-p$round" --stream "bench-s$round" --count "$N" >/dev/null
  if [[ "${WARMUP:-1}" != 0 ]]; then
    $lg raw --primary "bench-p$round" --scratch "bench-wx$round" --count $((N / 5)) --parallel $((SHARDS * PARALLEL)) >/dev/null
  fi
}
# The three measured phases of a round ($round), each on a stack of its own.
run_catchup() {
  prepare
  echo "-- 1. catch-up"
  start_worker "bench-p$round" "bench-r$round" "bench-s$round" "$work/catchup-$round.log"
  catchup=$($lg catchup --metrics "$metrics_url" --count "$N" \
    --cpu "worker=$worker_pid,dynalite=${stack_pids[0]},kinesalite=${stack_pids[1]}")
  echo "$catchup" | grep -v RESULT
  catchup_rates+=("$(echo "$catchup" | sed -n 's/RESULT catchup_records_per_s //p')")
  catchup_cpus+=("$(echo "$catchup" | sed -n 's/RESULT catchup_cpu_us_per_record //p')")
  sustained_rates+=("$(echo "$catchup" | sed -n 's/RESULT catchup_sustained_records_per_s //p')")
  first_pages+=("$(echo "$catchup" | sed -n 's/RESULT catchup_first_page_ms //p')")
  catchup_rsss+=("$(rss_mb "$worker_pid")")
  stop_worker "$worker_pid"
  echo "worker peak RSS: ${catchup_rsss[-1]} MB"
}
run_raw() {
  prepare
  echo "-- 2. raw BatchGetItem + BatchWriteItem for the same $N keys ($((SHARDS * PARALLEL)) calls in flight)"
  raw=$($lg raw --primary "bench-p$round" --scratch "bench-x$round" --count "$N" --parallel $((SHARDS * PARALLEL)) \
    --cpu "dynalite=${stack_pids[0]}")
  echo "$raw" | grep -v RESULT
  raw_rates+=("$(echo "$raw" | sed -n 's/RESULT raw_keys_per_s //p')")
}
run_raw_stream() {
  prepare
  echo "-- 3. raw-stream: the same $N records read from the stream, their keys read and written ($((SHARDS * PARALLEL)) segments in flight)"
  rs=$($lg raw-stream --primary "bench-p$round" --scratch "bench-x$round" --stream "bench-s$round" --count "$N" \
    --parallel $((SHARDS * PARALLEL)) --cpu "dynalite=${stack_pids[0]},kinesalite=${stack_pids[1]}")
  echo "$rs" | grep -v RESULT
  raw_stream_rates+=("$(echo "$rs" | sed -n 's/RESULT raw_stream_records_per_s //p')")
}
percent() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", 100 * a / b }'; }
ratios=() catchup_rates=() raw_rates=() catchup_cpus=() catchup_rsss=() sustained_rates=() first_pages=()
sustained_ratios=() raw_stream_rates=() stream_ratios=()
for ((round = 1; round <= ROUNDS; round++)); do
  echo "== round $round of $ROUNDS: $N records preloaded on $SHARDS shards, a fresh stack for each phase"
  if ((round % 2)); then run_catchup; run_raw; run_raw_stream; else run_raw_stream; run_raw; run_catchup; fi
  ratios+=("$(percent "${catchup_rates[-1]}" "${raw_rates[-1]}")")
  sustained_ratios+=("$(percent "${sustained_rates[-1]}" "${raw_rates[-1]}")")
  stream_ratios+=("$(percent "${catchup_rates[-1]}" "${raw_stream_rates[-1]}")")
  echo "round $round: catch-up / raw = ${ratios[-1]}% (from the first page received: ${sustained_ratios[-1]}%);" \
    "catch-up / raw-stream = ${stream_ratios[-1]}%"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio=$(median "${ratios[@]}")
catchup_rate=$(median "${catchup_rates[@]}")
raw_rate=$(median "${raw_rates[@]}")
catchup_cpu=$(median "${catchup_cpus[@]}")
catchup_rss=$(printf '%s\n' "${catchup_rsss[@]}" | sort -n | tail -1)

steady="" lag_rss="-"
if [[ "${LAG:-1}" != 0 ]]; then
  echo "== 4. lag at $RATE writes/s for $DURATION s"
  start_stack
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
echo
echo "== summary"
printf '%-44s %s  (rounds: %s)\n' "catch-up throughput (records/s, median)" "$catchup_rate" "${catchup_rates[*]}"
printf '%-44s %s  (rounds: %s)\n' "raw BatchGet+BatchWrite (keys/s, median)" "$raw_rate" "${raw_rates[*]}"
printf '%-44s %s%%  (rounds: %s; target >= 90%%)\n' "catch-up vs raw${WORKER_FLAGS:+ ($WORKER_FLAGS)}${PIN:+ (PIN=$PIN)}, median" "$ratio" \
  "$(printf '%s%% ' "${ratios[@]}")"
printf '%-44s %s%%  (rounds: %s; first page after %s ms)\n' "  the same from the first page received" \
  "$(median "${sustained_ratios[@]}")" "$(printf '%s%% ' "${sustained_ratios[@]}")" "$(median "${first_pages[@]}")"
printf '%-44s %s  (rounds: %s)\n' "raw-stream (records/s, median)" "$(median "${raw_stream_rates[@]}")" "${raw_stream_rates[*]}"
printf '%-44s %s%%  (rounds: %s; target >= 90%%)\n' "catch-up vs raw-stream, median" "$(median "${stream_ratios[@]}")" \
  "$(printf '%s%% ' "${stream_ratios[@]}")"
printf '%-44s %s\n' "worker CPU per record in catch-up (us, median)" "$catchup_cpu"
if [[ "${LAG:-1}" != 0 ]]; then
  printf '%-44s %s ms (target <= 300)\n' "lag p50 at $RATE writes/s" "$p50"
  printf '%-44s %s ms (target <= 1000)\n' "lag p99 at $RATE writes/s" "$p99"
fi
printf '%-44s %s MB / %s MB (target <= 64)\n' "worker peak RSS (catch-up / steady)" "$catchup_rss" "$lag_rss"
