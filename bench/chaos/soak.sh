#!/usr/bin/env bash
# Chaos soak: proves that nothing is lost while the network misbehaves and workers die.
#
#   - a writer puts and deletes items on the primary through the replicated-table client
#     (`dynarep put/delete --stream`), at a steady rate, retrying a batch the CLI reports failed;
#   - replicator workers (`dynarep replicate`) and incremental-backup workers share the stream's
#     shards through their lease tables;
#   - every one of them talks to DynamoDB, Kinesis and S3 through fault-proxy
#     (tools/fault-proxy), which throttles, fails, drops, resets and delays requests at random;
#   - all workers but one are killed at random (SIGKILL or SIGTERM) and restarted, or paused
#     (SIGSTOP) for longer than their lease and resumed (SIGCONT): replicators (3 s lease; 10 s on
#     moto) 4-8 s (11-15 s),
#     backup workers (10 s lease) 11-15 s; a paused worker is alive and is not restarted, a
#     worker that exits after its resume is restarted like a killed one (and counted);
#   - with SOAK_HOLD_PERCENT, the replicators' DynamoDB proxy also holds some replica
#     BatchWriteItem (on moto: TransactWriteItems) requests for 4-5 s (11-12 s), longer than the
#     lease, so a write can land after its
#     worker lost the shard (closed only by the transaction fence, which dynalite lacks);
#   - the stream is resharded while the writer runs: a split at 1/3 of the run, a merge of two
#     adjacent open shards at 2/3 (aws kinesis split-shard / merge-shards on the direct endpoint);
#   - a sampler scans the replica every ~1 s and remembers, per key, the highest `round` (the
#     writer's batch counter, strictly increasing over time) it saw; a present key with a lower
#     round than seen before is a regression (a deleted key is not, one back with a lower round is);
#   - the surviving replicator's RSS and open descriptors are sampled all along.
# At the end the faults stop, the writer stops, and:
#   - diff-tables (no repair) must report 0 discrepancies between primary and replica;
#   - the incremental backup, drained and folded by incremental-snapshot, restored into a new
#     table, must equal the primary (diff-tables: 0).
#   - the sampler must have observed no regression.
# Exits 0 only then. Prints the figures: writes, kills, pauses, reshards, faults injected,
# discrepancies, regressions, RSS, fds.
#
#   bench/chaos/soak.sh [SECONDS]     default 300; the CI test runs a short one (tests/chaos)
# Environment:
#   DYNAREP=path/to/dynarep        default build/release/src/app/dynarep, else build/debug/...
#   DYNAREP_STACK_ENV=FILE         use this running local stack (a stack.env) instead of starting one
#   SOAK_KEYS=N                    key space of the writer (default 2000; 150 on moto)
#   SOAK_BATCH=N                   items per writer batch (default 50; 25 on moto)
#   SOAK_PAUSE=S                   seconds between writer batches (default 0.2; 0.5 on moto)
#   SOAK_KILL_EVERY=S              seconds between kills (default 7)
#   SOAK_FAULT_SCALE=F             multiplies every fault probability (default 1)
#   SOAK_SEED=N                    seed for the proxies and the chaos (default: the pid)
#   SOAK_SHARDS=N                  stream shards (default 3)
#   SOAK_STOP_PERCENT=N            share of the chaos events that pause instead of kill (default 35;
#                                  the first event is always a pause)
#   SOAK_RESHARD=0                 no split/merge during the run
#   SOAK_PAUSE_BACKUP=1            also pause incremental-backup workers (default 0, 1 on moto: on
#                                  s3rver, which ignores conditional writes, an S3 PUT in flight
#                                  when paused lands after the next owner's)
#   SOAK_HOLD_PERCENT=N            % of replica writes held 4-5 s, past the lease (default 0: on
#                                  dynalite, without the transaction fence, a held write can land
#                                  late; see the comment at the rule)
#   SOAK_FENCE_STACK=moto          fences in force: the replica table, the replicators' lease table
#                                  and the backup bucket live on moto (moto_server, started here on a
#                                  free port, behind its own fault proxy), while the primary, the
#                                  stream and the backup's lease table stay on the npm stack. The
#                                  replicators then fence their writes with TransactWriteItems and
#                                  the backup its S3 writes with If-Match (their start-up lines say
#                                  so; the soak fails if they do not), so held replica writes and
#                                  paused backup workers are on by default (SOAK_HOLD_PERCENT=2,
#                                  SOAK_PAUSE_BACKUP=1) and must cause no regression. moto answers
#                                  2-5k items/s with `Connection: close`: keep the write rate modest.
#   SOAK_KEEP=1                    keep the work directory (logs, kills, pauses, regressions)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-300}
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }
keys=${SOAK_KEYS:-}
batch=${SOAK_BATCH:-}
pause=${SOAK_PAUSE:-}
kill_every=${SOAK_KILL_EVERY:-7}
scale=${SOAK_FAULT_SCALE:-1}
seed=${SOAK_SEED:-$$}
shards=${SOAK_SHARDS:-3}
stop_percent=${SOAK_STOP_PERCENT:-35}
reshard=${SOAK_RESHARD:-1}
fence_stack=${SOAK_FENCE_STACK:-}
[[ -z "$fence_stack" || "$fence_stack" == moto ]] || { echo "soak: SOAK_FENCE_STACK must be moto (or unset)" >&2; exit 2; }
# The replicators' lease (s) and batch size. On moto a fenced batch is TransactWriteItems of up to
# 99 writes, and moto's TransactWriteItems costs time in proportion to the table's size for each
# item (measured, moto 5.2.1: 99 puts take 0.45 s into an empty table, 4 s into one of 500
# items, 18 s into one of 2,000; BatchWriteItem takes 0.013 s for 25), and lease renewals queue
# behind them: there the key space is 150 keys, the writer writes 25 items about twice a second,
# and the replicators get a 10 s lease and batches of at most 300 records.
if [[ -n "$fence_stack" ]]; then
  hold_percent=${SOAK_HOLD_PERCENT:-2}
  pause_backup=${SOAK_PAUSE_BACKUP:-1}
  r_lease=10
  r_extra=(--max-records 300)
  pause=${pause:-0.5}
  keys=${keys:-150}
  batch=${batch:-25}
else
  hold_percent=${SOAK_HOLD_PERCENT:-0}
  pause_backup=${SOAK_PAUSE_BACKUP:-0}
  r_lease=3
  r_extra=()
  pause=${pause:-0.2}
  keys=${keys:-2000}
  batch=${batch:-50}
fi
RANDOM=$seed

D=${DYNAREP:-}
if [[ -z "$D" ]]; then
  for c in "$here/build/release/src/app/dynarep" "$here/build/debug/src/app/dynarep"; do
    [[ -x "$c" ]] && { D=$c; break; }
  done
fi
[[ -n "$D" && -x "$D" ]] || { echo "soak: no dynarep binary (build one, or set DYNAREP)" >&2; exit 2; }

work=$(mktemp -d -t dynarep-soak-XXXXXX)
pids_to_stop=()
own_stack=0
cleanup() {
  local rc=$?
  for p in "${pids_to_stop[@]}"; do kill -9 "$p" 2> /dev/null || true; done
  # the worker slots' current processes
  for f in "$work"/slot-*.pid; do [[ -f "$f" ]] && kill -9 "$(cat "$f")" 2> /dev/null || true; done
  wait 2> /dev/null || true
  if [[ $own_stack == 1 ]]; then "$here/scripts/local-stack.sh" stop "$work/stack" > /dev/null 2>&1 || true; fi
  if [[ $rc != 0 && -z "${SOAK_KEEP:-}" ]]; then
    echo "soak: failed (exit $rc); logs kept in $work" >&2
  elif [[ -z "${SOAK_KEEP:-}" ]]; then
    rm -rf "$work"
  fi
}
trap cleanup EXIT
log() { printf '[soak %s] %s\n' "$(date +%T)" "$*"; }

if [[ -n "${DYNAREP_STACK_ENV:-}" ]]; then
  # shellcheck disable=SC1090
  source "$DYNAREP_STACK_ENV"
else
  "$here/scripts/local-stack.sh" start "$work/stack" > /dev/null
  own_stack=1
  # shellcheck disable=SC1091
  source "$work/stack/stack.env"
fi
direct_ddb=$AWS_ENDPOINT_URL_DYNAMODB
direct_kin=$AWS_ENDPOINT_URL_KINESIS
direct_s3=$AWS_ENDPOINT_URL_S3

# ---- moto (SOAK_FENCE_STACK=moto) -------------------------------------------------------------
if [[ -n "$fence_stack" ]]; then
  command -v moto_server > /dev/null || { echo "soak: SOAK_FENCE_STACK=moto needs moto_server (scripts/setup.sh)" >&2; exit 2; }
  moto_direct_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  moto_server -H 127.0.0.1 -p "$moto_direct_port" > "$work/moto.log" 2>&1 &
  pids_to_stop+=($!)
  disown $!
  for _ in $(seq 1 300); do
    curl -s -o /dev/null "http://127.0.0.1:$moto_direct_port/" && break
    sleep 0.1
  done
  curl -s -o /dev/null "http://127.0.0.1:$moto_direct_port/" || { echo "soak: moto_server did not start; see $work/moto.log" >&2; exit 3; }
  direct_moto=http://127.0.0.1:$moto_direct_port
fi

# ---- fault proxies ----------------------------------------------------------------------------
start_proxy() {  # name target -> sets ${name}_port ${name}_control
  local name=$1 target=$2
  node "$here/tools/fault-proxy/proxy.js" --target "$target" --seed "$seed" > "$work/proxy-$name.out" \
    2> "$work/proxy-$name.err" &
  pids_to_stop+=($!)
  disown $!  # stopped by pid in cleanup; no job-control chatter
  for _ in $(seq 1 100); do
    [[ -s "$work/proxy-$name.out" ]] && break
    sleep 0.1
  done
  local line
  line=$(head -n 1 "$work/proxy-$name.out")
  [[ "$line" =~ \"port\":([0-9]+).*\"control_port\":([0-9]+) ]] || { echo "soak: proxy $name did not start" >&2; exit 3; }
  printf -v "${name}_port" '%s' "${BASH_REMATCH[1]}"
  printf -v "${name}_control" '%s' "http://127.0.0.1:${BASH_REMATCH[2]}"
}
start_proxy ddb "$direct_ddb"
start_proxy ddbr "$direct_ddb"   # the replicators' own, with the replica writes held past a lease
start_proxy kin "$direct_kin"
if [[ -n "$fence_stack" ]]; then
  start_proxy s3 "$direct_moto"   # the backup bucket is on moto
  start_proxy moto "$direct_moto"  # the replicators' replica and lease table, with held writes: $moto_port
else
  start_proxy s3 "$direct_s3"
fi

p() { awk -v a="$1" -v s="$scale" 'BEGIN { v = a * s; if (v > 1) v = 1; printf "%.4f", v }'; }
ddb_rules='{"rules":[
 {"name":"throttle-batch","match":{"target":["DynamoDB_20120810.BatchWriteItem","DynamoDB_20120810.BatchGetItem"]},"fault":"throttle","probability":'$(p 0.05)'},
 {"name":"reset-reads","match":{"target":["DynamoDB_20120810.BatchGetItem","DynamoDB_20120810.GetItem","DynamoDB_20120810.Scan"]},"fault":"reset_mid_body","probability":'$(p 0.01)'},
 {"name":"lost-reply","fault":"drop","forward":true,"probability":'$(p 0.01)'},
 {"name":"lost-request","fault":"drop","probability":'$(p 0.01)'},
 {"name":"500","fault":"status","status":500,"probability":'$(p 0.02)'},
 {"name":"crc","fault":"corrupt_crc32","probability":'$(p 0.01)'},
 {"name":"slow","fault":"delay","ms":300,"probability":'$(p 0.02)'}]}'
# The replicators' DynamoDB calls: their only BatchWriteItem is the replica write (the primary
# is read with BatchGetItem, the leases are UpdateItem). With SOAK_HOLD_PERCENT > 0 some are held
# 4-5 s before they are forwarded, longer than the 3 s lease: a write already sent can reach the
# replica after the shard moved. dynalite has no TransactWriteItems, so the replicators here run
# with the write deadline alone (docs/replication.md, "Lease handover"), which cannot stop a
# request already in flight: expect the sampler to report such a regression now and then. The
# fence that closes this window needs transactions (AWS, moto: tests/replicate/fence_moto_test).
delay_ms=$(((r_lease + 1) * 1000 + RANDOM % 1001))
hold_p=$(awk -v h="$hold_percent" 'BEGIN { printf "%.4f", h / 100 }')
ddbr_rules='{"rules":[
 {"name":"replica-write-past-lease","match":{"target":["DynamoDB_20120810.BatchWriteItem","DynamoDB_20120810.TransactWriteItems"]},"fault":"delay","ms":'$delay_ms',"probability":'$(p "$hold_p")'},'${ddb_rules#'{"rules":['}
kin_rules='{"rules":[
 {"name":"throttle-get","match":{"target":"Kinesis_20131202.GetRecords"},"fault":"throttle","probability":'$(p 0.05)'},
 {"name":"throttle-put","match":{"target":"Kinesis_20131202.PutRecords"},"fault":"throttle","probability":'$(p 0.05)'},
 {"name":"lost-reply","fault":"drop","forward":true,"probability":'$(p 0.01)'},
 {"name":"lost-request","fault":"drop","probability":'$(p 0.01)'},
 {"name":"503","fault":"status","status":503,"probability":'$(p 0.02)'},
 {"name":"slow","fault":"delay","ms":300,"probability":'$(p 0.02)'}]}'
s3_rules='{"rules":[
 {"name":"slowdown","fault":"throttle","probability":'$(p 0.05)'},
 {"name":"500","fault":"status","status":500,"probability":'$(p 0.02)'},
 {"name":"lost-reply","fault":"drop","forward":true,"probability":'$(p 0.01)'},
 {"name":"reset","match":{"method":"GET"},"fault":"reset_mid_body","probability":'$(p 0.01)'}]}'
set_rules() { curl -sf -X POST "$1/rules" -d "$2" > /dev/null || { echo "soak: proxy refused rules: $2" >&2; exit 3; }; }

faulty_env=(AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$ddb_port" AWS_ENDPOINT_URL_KINESIS="http://127.0.0.1:$kin_port"
  AWS_ENDPOINT_URL_S3="http://127.0.0.1:$s3_port")
faulty() { env "${faulty_env[@]}" "$@"; }
replicator_env=(AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$ddbr_port" AWS_ENDPOINT_URL_KINESIS="http://127.0.0.1:$kin_port"
  AWS_ENDPOINT_URL_S3="http://127.0.0.1:$s3_port")

# ---- tables, stream ---------------------------------------------------------------------------
tag=soak-$(date +%s)-$$
primary=us-east-1/$tag-primary
replica=us-east-1/$tag-replica
replica_direct=$replica   # the sampler's and the final diff's view (no proxy)
replica_leases=$tag-leases
restored=us-east-1/$tag-restored
stream=$tag
bucket_prefix=s3://dynarep-local/$tag
# The backup bucket's endpoint for the drain, snapshot and cleanup (no proxy).
backup_s3=$direct_s3
if [[ -n "$fence_stack" ]]; then
  # The replicators reach moto through their proxy (held writes, faults); the lease table sits
  # beside the replica (same endpoint), so their writes are fenced with TransactWriteItems.
  replica=127.0.0.1:$moto_port/$tag-replica
  replica_direct=127.0.0.1:$moto_direct_port/$tag-replica
  replica_leases=127.0.0.1:$moto_port/$tag-leases
  backup_s3=$direct_moto
  AWS_ENDPOINT_URL_S3=$direct_moto aws --endpoint-url "$direct_moto" --region us-east-1 s3 mb s3://dynarep-local > /dev/null
fi
describe() {
  printf '{"TableName":"%s","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],' "$1"
  printf '"KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingModeSummary":{"BillingMode":"PAY_PER_REQUEST"}}\n'
}
for t in "$tag-primary" "$tag-restored"; do describe "$t" | "$D" import "us-east-1/$t" --quiet; done
describe "$tag-replica" | "$D" import "$replica_direct" --quiet
"$D" create-stream "$stream" --shards "$shards" > /dev/null
log "tables $tag-{primary,replica,restored}, stream $stream ($shards shards), dynarep $D, seed $seed${fence_stack:+; replica, its lease table and the backup bucket on moto ($direct_moto)}"

set_rules "$ddb_control" "$ddb_rules"
set_rules "$ddbr_control" "$ddbr_rules"
set_rules "$kin_control" "$kin_rules"
set_rules "$s3_control" "$s3_rules"
[[ -n "$fence_stack" ]] && set_rules "$moto_control" "$ddbr_rules"

# ---- workers ----------------------------------------------------------------------------------
# A slot is one worker role; its current pid is in slot-NAME.pid. Restarting a slot starts the
# same command again with the same worker id, as a supervisor (systemd, ECS) would.
start_slot() {
  local name=$1
  shift
  local envs=("${faulty_env[@]}")
  [[ $name == r* ]] && envs=("${replicator_env[@]}")
  # env execs the worker, so $! is the worker itself (a backgrounded function would be a
  # subshell, and a kill would orphan the worker instead of stopping it).
  env "${envs[@]}" "$@" >> "$work/$name.log" 2>&1 &
  echo $! > "$work/slot-$name.pid"
}
replicator_cmd() {
  echo "$D" replicate --primary "$primary" --replica "$replica" --stream "$stream" \
    --lease-table "$replica_leases" --worker-id "$1" --lease-duration "${r_lease}s" --shard-sync-interval 5s "${r_extra[@]}" \
    --idle-poll 100ms --dead-letter "$work/dead-letters" --log-interval 30s
}
backup_cmd() {
  echo "$D" incremental-backup "$bucket_prefix" --primary "$primary" --stream "$stream" \
    --lease-table "$tag-backup-leases" --worker-id "$1"
}
# shellcheck disable=SC2046
start_slot r1 $(replicator_cmd r1)   # never killed: its RSS and fds are the resource figures
# shellcheck disable=SC2046
start_slot r2 $(replicator_cmd r2)
# shellcheck disable=SC2046
start_slot r3 $(replicator_cmd r3)
# shellcheck disable=SC2046
start_slot b1 $(backup_cmd b1)
# shellcheck disable=SC2046
start_slot b2 $(backup_cmd b2)
victims=(r2 r3 b2 b1)

# ---- writer -----------------------------------------------------------------------------------
writer() {
  local round=0 writes=0 deletes=0 retries=0 end=$((SECONDS + seconds))
  while ((SECONDS < end)); do
    round=$((round + 1))
    awk -v n="$batch" -v k="$keys" -v r="$round" -v s="$((seed + round))" 'BEGIN {
      srand(s);
      for (i = 0; i < n; i++) {
        id = int(rand() * k);
        printf "{\"id\":{\"S\":\"k%06d\"},\"round\":{\"N\":\"%d\"},\"n\":{\"N\":\"%d.%d\"},\"tags\":{\"SS\":[\"r%d\",\"x\"]},\"b\":{\"B\":\"AAEC\"}}\n", id, r, id, r, r % 5
      }}' > "$work/batch.jsonl"
    until faulty "$D" put "$primary" "$work/batch.jsonl" --stream "$stream" --quiet 2>> "$work/writer.log"; do
      retries=$((retries + 1))
      sleep 0.2
    done
    writes=$((writes + batch))
    if ((round % 4 == 0)); then
      local victim
      victim=$(printf '{"id":"k%06d"}' $((RANDOM % keys)))
      until faulty "$D" delete "$primary" "$victim" --stream "$stream" 2>> "$work/writer.log" > /dev/null; do
        retries=$((retries + 1))
        sleep 0.2
      done
      deletes=$((deletes + 1))
    fi
    echo "$writes $deletes $retries" > "$work/writer.counts"
    sleep "$pause"
  done
}
writer &
writer_pid=$!
pids_to_stop+=("$writer_pid")

# ---- regression sampler -----------------------------------------------------------------------
# Every ~1 s: a consistent scan of the replica (direct endpoint, no faults), and per key the
# highest `round` seen so far (sampler.max: "key round"). A present key whose round is lower than
# one seen before is a regression (sampler.regressions: "time key seen_round now_round").
sampler() {
  : > "$work/sampler.max"
  local samples=0 end=$((SECONDS + seconds + 400))
  while [[ ! -e "$work/sampler.stop" ]] && ((SECONDS < end)); do
    if "$D" scan "$replica_direct" --consistent --quiet > "$work/sampler.scan" 2>> "$work/sampler.err" &&
      awk -v now="$(date +%T)" -v regs="$work/sampler.regressions" -v out="$work/sampler.max.next" '
        FILENAME == ARGV[1] { max[$1] = $2; next }
        match($0, /"id":\{"S":"[^"]*"\}/) {
          id = substr($0, RSTART + 11, RLENGTH - 13)
          if (!match($0, /"round":\{"N":"[0-9]+"\}/)) next
          r = substr($0, RSTART + 14, RLENGTH - 16) + 0
          if (id in max && r < max[id]) { printf "%s %s seen %d now %d\n", now, id, max[id], r >> regs; next }
          if (!(id in max) || r > max[id]) max[id] = r
        }
        END { printf "" > out; for (k in max) print k, max[k] > out }' "$work/sampler.max" "$work/sampler.scan" 2>> "$work/sampler.err"; then
      mv "$work/sampler.max.next" "$work/sampler.max"
      samples=$((samples + 1))
      echo "$samples" > "$work/sampler.count"
    fi
    sleep 1
  done
}
touch "$work/sampler.regressions"
sampler &
sampler_pid=$!
pids_to_stop+=("$sampler_pid")

# ---- resharding (direct Kinesis endpoint, not through the proxy) -------------------------------
kinesis() { aws --endpoint-url "$direct_kin" --region us-east-1 --output json kinesis "$@"; }
wait_stream_active() {
  for _ in $(seq 1 60); do
    [[ $(kinesis describe-stream --stream-name "$stream" --query StreamDescription.StreamStatus --output text 2> /dev/null) == ACTIVE ]] && return 0
    sleep 0.5
  done
  echo "soak: stream $stream not ACTIVE after 30 s" >&2
  return 1
}
# split: the open shard with the widest hash range, at its middle; merge: the first two adjacent
# open shards. Prints the aws arguments.
reshard_args() {
  kinesis describe-stream --stream-name "$stream" | node -e '
    let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
      const open = JSON.parse(s).StreamDescription.Shards
        .filter(x => !x.SequenceNumberRange.EndingSequenceNumber)
        .map(x => ({id: x.ShardId, lo: BigInt(x.HashKeyRange.StartingHashKey), hi: BigInt(x.HashKeyRange.EndingHashKey)}))
        .sort((a, b) => (a.lo < b.lo ? -1 : 1));
      if (process.argv[1] === "split") {
        const w = open.reduce((a, b) => (b.hi - b.lo > a.hi - a.lo ? b : a));
        console.log(`split-shard --shard-to-split ${w.id} --new-starting-hash-key ${(w.lo + w.hi + 1n) / 2n}`);
      } else {
        for (let i = 0; i + 1 < open.length; i++)
          if (open[i].hi + 1n === open[i + 1].lo) {
            console.log(`merge-shards --shard-to-merge ${open[i].id} --adjacent-shard-to-merge ${open[i + 1].id}`);
            return;
          }
        process.exit(1);
      }
    })' "$1"
}
reshards=0
do_reshard() {
  local args
  wait_stream_active || return 0
  args=$(reshard_args "$1") || { log "reshard $1: no candidate shards"; return 0; }
  # shellcheck disable=SC2086
  if kinesis $args --stream-name "$stream" >> "$work/reshard.log" 2>&1; then
    reshards=$((reshards + 1))
    echo "$SECONDS $1 $args" >> "$work/reshards"
    log "reshard: $args"
  else
    log "reshard $1 failed (see reshard.log)"
    echo "$SECONDS $1 FAILED $args" >> "$work/reshards"
  fi
}

# ---- chaos and sampling -----------------------------------------------------------------------
sample() {
  local pid
  pid=$(cat "$work/slot-r1.pid")
  local rss fds
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2> /dev/null || echo 0)
  fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2> /dev/null | wc -l)
  echo "$SECONDS $rss $fds" >> "$work/r1.samples"
}
restart_slot() {
  case $1 in
    r*) # shellcheck disable=SC2046
      start_slot "$1" $(replicator_cmd "$1") ;;
    b*) # shellcheck disable=SC2046
      start_slot "$1" $(backup_cmd "$1") ;;
  esac
}
# alive: the process exists and is not a zombie (a stopped one, state T, is alive).
slot_alive() {
  local st
  st=$(awk '{print $3}' "/proc/$(cat "$work/slot-$1.pid")/stat" 2> /dev/null) || return 1
  [[ -n "$st" && "$st" != Z ]]
}
declare -A paused_until=()
kills=0
pauses=0
exits=0
next_kill=$((SECONDS + kill_every))
split_at=$((SECONDS + seconds / 3))
merge_at=$((SECONDS + 2 * seconds / 3))
first_event=1
while kill -0 "$writer_pid" 2> /dev/null; do
  sample
  kill -0 "$(cat "$work/slot-r1.pid")" 2> /dev/null || { echo "soak: the replicator r1 died; its log:" >&2; tail -n 30 "$work/r1.log" >&2; exit 1; }
  # resume the paused workers whose time is up
  for v in "${!paused_until[@]}"; do
    if ((SECONDS >= paused_until[$v])); then
      kill -s CONT "$(cat "$work/slot-$v.pid")" 2> /dev/null || true
      echo "$SECONDS $v CONT" >> "$work/pauses"
      unset "paused_until[$v]"
    fi
  done
  # the supervisor: a worker that exited by itself (after a resume: WorkerIdInUse, lost leases)
  # is restarted like a killed one
  for v in "${victims[@]}"; do
    [[ -n "${paused_until[$v]:-}" ]] && continue
    if ! slot_alive "$v"; then
      vpid=$(cat "$work/slot-$v.pid")
      wait "$vpid" 2> /dev/null && rc=0 || rc=$?
      exits=$((exits + 1))
      echo "$SECONDS $v exit $rc" >> "$work/exits"
      log "worker $v (pid $vpid) exited by itself ($rc); restarting it"
      restart_slot "$v"
    fi
  done
  if [[ $reshard == 1 ]] && ((split_at > 0 && SECONDS >= split_at)); then
    split_at=0
    do_reshard split
  fi
  if [[ $reshard == 1 ]] && ((merge_at > 0 && SECONDS >= merge_at)); then
    merge_at=0
    do_reshard merge
  fi
  if ((SECONDS >= next_kill)); then
    candidates=()
    for v in "${victims[@]}"; do [[ -z "${paused_until[$v]:-}" ]] && candidates+=("$v"); done
    if ((${#candidates[@]} > 0)); then
      victim=${candidates[$((RANDOM % ${#candidates[@]}))]}
      vpid=$(cat "$work/slot-$victim.pid")
      pausable=1
      # A backup worker paused in the middle of an S3 PUT sends it after its lease moved on: on
      # s3rver, which ignores conditional writes, only the write deadline protects (docs/backup.md,
      # "Fence"), so such pauses are opt-in there (SOAK_PAUSE_BACKUP=1); on by default on moto.
      [[ $victim == b* && $pause_backup != 1 ]] && pausable=0
      if ((first_event)) || { ((pausable)) && ((RANDOM % 100 < stop_percent)); }; then
        if ((first_event)); then victim=${candidates[$((RANDOM % 2))]}; vpid=$(cat "$work/slot-$victim.pid"); fi
        # longer than the lease: replicators 3 s -> 4-8 s (10 s -> 11-15 s on moto), backup workers 10 s -> 11-15 s
        case $victim in
          r*) hold=$((r_lease + 1 + RANDOM % 5)) ;;
          *) hold=$((11 + RANDOM % 5)) ;;
        esac
        kill -s STOP "$vpid" 2> /dev/null || true
        paused_until[$victim]=$((SECONDS + hold))
        pauses=$((pauses + 1))
        echo "$SECONDS $victim STOP ${hold}s" >> "$work/pauses"
      else
        if ((RANDOM % 2)); then sig=KILL; else sig=TERM; fi
        kill -s "$sig" "$vpid" 2> /dev/null || true
        wait "$vpid" 2> /dev/null || true
        kills=$((kills + 1))
        echo "$SECONDS $victim $sig" >> "$work/kills"
        sleep 1
        restart_slot "$victim"
      fi
      first_event=0
    fi
    next_kill=$((SECONDS + kill_every / 2 + RANDOM % (kill_every + 1)))
  fi
  sleep 1
done
wait "$writer_pid"
# resume whoever is still paused: the end of the run needs every worker able to stop
for v in "${!paused_until[@]}"; do
  kill -s CONT "$(cat "$work/slot-$v.pid")" 2> /dev/null || true
  echo "$SECONDS $v CONT (end)" >> "$work/pauses"
done
paused_until=()
read -r writes deletes retries < "$work/writer.counts"

faults_of() { curl -sf "$1/stats" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(j.faulted+" "+j.total+" "+Object.entries(j.faults).filter(e=>e[1]).map(e=>e[0]+"="+e[1]).join(","))})'; }
read -r ddb_faults ddb_total ddb_kinds < <(faults_of "$ddb_control")
read -r ddbr_faults ddbr_total ddbr_kinds < <(faults_of "$ddbr_control")
held=$(curl -sf "$ddbr_control/stats" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s).rules.find(x=>x.name==="replica-write-past-lease");console.log(r?r.hits+" of "+r.matched:"?")})')
read -r kin_faults kin_total kin_kinds < <(faults_of "$kin_control")
read -r s3_faults s3_total s3_kinds < <(faults_of "$s3_control")
controls=("$ddb_control" "$ddbr_control" "$kin_control" "$s3_control")
moto_line=""
if [[ -n "$fence_stack" ]]; then
  read -r moto_faults moto_total moto_kinds < <(faults_of "$moto_control")
  held=$(curl -sf "$moto_control/stats" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s).rules.find(x=>x.name==="replica-write-past-lease");console.log(r?r.hits+" of "+r.matched:"?")})')
  moto_line="moto (replica, leases) $moto_faults of $moto_total requests ($moto_kinds)"
  controls+=("$moto_control")
fi
for c in "${controls[@]}"; do curl -sf -X DELETE "$c/rules" > /dev/null; done
log "writer done: $writes puts, $deletes deletes, $retries batches retried; $kills kills, $pauses pauses, $exits exits after a resume, $reshards reshards; faults stopped"

# The value of FIELD in the summary line of a `diff-tables --json` output ("?" without one).
summary_field() {
  node -e 'const fs=require("fs");let v="?";for(const l of fs.readFileSync(process.argv[1],"utf8").split("\n")){
    try{const j=JSON.parse(l);if(j.kind==="summary")v=j[process.argv[2]];}catch(e){}}console.log(v)' "$1" "$2" 2> /dev/null || echo "?"
}

# ---- the replica must converge, by itself ----------------------------------------------------
converged=0
for _ in $(seq 1 90); do
  if "$D" diff-tables "$primary" "$replica_direct" --json > "$work/diff-replica.json" 2> "$work/diff-replica.err"; then
    converged=1
    break
  fi
  sleep 2
done
replica_discrepancies=$(summary_field "$work/diff-replica.json" discrepancies)
# the sampler: one more scan of the converged replica, then stop (bounded wait)
sleep 2
touch "$work/sampler.stop"
for _ in $(seq 1 60); do kill -0 "$sampler_pid" 2> /dev/null || break; sleep 0.5; done
kill "$sampler_pid" 2> /dev/null || true
regressions=$(wc -l < "$work/sampler.regressions")
samples=$(cat "$work/sampler.count" 2> /dev/null || echo 0)
sample
r1_pid=$(cat "$work/slot-r1.pid")
for s in r1 r2 r3; do kill -TERM "$(cat "$work/slot-$s.pid")" 2> /dev/null || true; done
wait "$r1_pid" 2> /dev/null && r1_exit=0 || r1_exit=$?

# ---- the incremental backup: drain, fold, restore, compare ---------------------------------
for s in b1 b2; do kill -TERM "$(cat "$work/slot-$s.pid")" 2> /dev/null || true; done
sleep 1
AWS_ENDPOINT_URL_S3=$backup_s3 "$D" incremental-backup "$bucket_prefix" --primary "$primary" --stream "$stream" \
  --lease-table "$tag-backup-leases" --worker-id drain --until-idle 5 >> "$work/drain.log" 2>&1
AWS_ENDPOINT_URL_S3=$backup_s3 "$D" incremental-snapshot "$bucket_prefix/$tag-primary" "$work/snapshot.gz" --quiet
"$D" restore "$work/snapshot.gz" "$restored" >> "$work/restore.log" 2>&1
backup_exit=0
"$D" diff-tables "$primary" "$restored" --json > "$work/diff-backup.json" 2> "$work/diff-backup.err" || backup_exit=$?
backup_discrepancies=$(summary_field "$work/diff-backup.json" discrepancies)
items=$(summary_field "$work/diff-backup.json" scanned_primary)

dead=0
if compgen -G "$work/dead-letters/*" > /dev/null; then dead=$(cat "$work"/dead-letters/* | wc -l); fi
read -r rss0 fds0 < <(awk 'NR == 3 {print $2, $3}' "$work/r1.samples")
read -r rss1 fds1 < <(tail -n 1 "$work/r1.samples" | awk '{print $2, $3}')
read -r rssmax fdsmax < <(awk 'NR >= 3 { if ($2 > r) r = $2; if ($3 > f) f = $3 } END {print r, f}' "$work/r1.samples")

# The protection each kind of worker logged at start-up (the distinct ones), and the refusals.
fence_of() {
  cat "$work"/"$1"*.log 2> /dev/null | sed -n 's/.*lease fence: //p' | sed 's/; dead letters.*//; s/)$//' | sort -u | paste -sd '|' -
}
refused_of() {
  if [[ $1 == r ]]; then
    cat "$work"/r*.log 2> /dev/null | grep -c "its writes are refused" || true
  else
    # each process logs a running total every 10 s; a restarted one starts again from 0
    for f in "$work"/b*.log "$work/drain.log"; do
      [[ -f "$f" ]] && sed -n 's/.* \([0-9]*\) fenced writes refused.*/\1/p' "$f" |
        awk '$1 < last { s += last } { last = $1 } END { print s + last }'
    done | awk '{ s += $1 } END { print s + 0 }'
  fi
}

cat << EOF

== chaos soak: ${seconds}s, seed $seed, fault scale $scale
writes             $writes puts + $deletes deletes in batches of $batch over $keys keys ($retries batches retried after a reported failure)
kills              $kills ($(awk '{print $2 "/" $3}' "$work/kills" 2> /dev/null | sort | uniq -c | awk '{printf "%s %s, ", $1, $2}' | sed 's/, $//'))
pauses             $pauses ($(awk '$3 == "STOP" {print $2 "/" $4}' "$work/pauses" 2> /dev/null | sort | uniq -c | awk '{printf "%s %s, ", $1, $2}' | sed 's/, $//')); $exits exits after a resume, restarted
reshards           $reshards ($(awk '{ if ($3 == "FAILED") printf "%s FAILED; ", $2; else if ($2 == "split") printf "split %s; ", $5; else printf "merge %s + %s; ", $5, $7 }' "$work/reshards" 2> /dev/null | sed 's/; $//'))
faults injected    DynamoDB $ddb_faults of $ddb_total requests ($ddb_kinds)
                   DynamoDB (replicators) $ddbr_faults of $ddbr_total requests ($ddbr_kinds); replica writes held ${delay_ms} ms: $held ${fence_stack:+TransactWriteItems on moto}${fence_stack:-BatchWriteItem}
                   Kinesis  $kin_faults of $kin_total requests ($kin_kinds)
                   S3       $s3_faults of $s3_total requests ($s3_kinds)${moto_line:+
                   $moto_line}
dead letters       $dead
replica            discrepancies: $replica_discrepancies (converged: $([[ $converged == 1 ]] && echo yes || echo no))
incremental backup discrepancies after snapshot + restore: $backup_discrepancies ($items items)
fences             replicators: $(fence_of r); backup: $(fence_of b)
fenced refusals    replicators: $(refused_of r) log lines "its writes are refused"; backup: $(refused_of b) conditional S3 writes refused (412/409)
regressions observed $regressions (in $samples scans of the replica)
replicator r1      RSS ${rss0:-?} -> ${rss1:-?} kB (max ${rssmax:-?}), open fds ${fds0:-?} -> ${fds1:-?} (max ${fdsmax:-?}); exit on SIGTERM: $r1_exit
EOF
if [[ $converged != 1 || "$replica_discrepancies" != 0 ]]; then
  echo "FAIL: the replica did not converge; last diff:" >&2
  head -c 2000 "$work/diff-replica.json" >&2
  tail -n 20 "$work/diff-replica.err" >&2
  exit 1
fi
if [[ $backup_exit != 0 || "$backup_discrepancies" != 0 ]]; then
  echo "FAIL: the incremental backup differs from the primary" >&2
  head -c 2000 "$work/diff-backup.json" >&2
  tail -n 20 "$work/diff-backup.err" >&2
  exit 1
fi
if ((samples < 3)); then
  echo "FAIL: the regression sampler completed only $samples scans of the replica; its errors:" >&2
  tail -n 5 "$work/sampler.err" >&2
  exit 1
fi
if [[ "$regressions" != 0 ]]; then
  echo "FAIL: the sampler saw $regressions keys go back to an older round on the replica:" >&2
  head -n 20 "$work/sampler.regressions" >&2
  exit 1
fi
[[ $r1_exit == 0 ]] || { echo "FAIL: replicator r1 exited $r1_exit on SIGTERM" >&2; tail -n 20 "$work/r1.log" >&2; exit 1; }
if [[ -n "$fence_stack" ]]; then
  # Fences in force or the run proves nothing about them.
  if [[ "$(fence_of r)" != TransactWriteItems* || "$(fence_of b)" != conditional* ]]; then
    echo "FAIL: SOAK_FENCE_STACK=moto but the fences were not in force: replicators '$(fence_of r)', backup '$(fence_of b)'" >&2
    exit 1
  fi
fi
echo "PASS"
