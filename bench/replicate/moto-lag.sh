#!/usr/bin/env bash
# Replication lag from a table's own DynamoDB stream, on moto (the second local AWS
# implementation; tests/support/moto.h). No target: moto serves a few thousand items a second,
# answers every request with `Connection: close`, and its stream has one shard, so this shows
# that the path works end to end at a modest rate, not how fast it can go.
#
#   bench/replicate/moto-lag.sh                    # 50 writes/s for 30 s
#   RATE=20 DURATION=60 bench/replicate/moto-lag.sh
#   WORKER_FLAGS="--no-prefetch" bench/replicate/moto-lag.sh
#   BUILD_DIR=build/debug bench/replicate/moto-lag.sh   # another build's dynarep (default: the
#                                                      # Release build of bench/replicate/run.sh)
#
# 1. starts moto_server on a free loopback port (stopped by its PID at exit);
# 2. creates the primary with a NEW_AND_OLD_IMAGES stream and the replica (aws CLI);
# 3. starts `dynarep replicate --table-stream` on them (lease table on moto too) and waits for
#    its first GetRecords;
# 4. writes RATE items a second for DURATION s with boto3 (PutItem, as any application would),
#    (4 threads sharing the schedule) and polls the replica with consistent BatchGetItem every ~20 ms: lag = write confirmed on
#    the primary -> item visible on the replica. Prints p50/p90/p99/max and the worker's RSS.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build/bench-replicate-release}
RATE=${RATE:-50}
DURATION=${DURATION:-30}
JOBS=${JOBS:-2}

command -v moto_server > /dev/null || { echo "moto-lag: needs moto_server (scripts/setup.sh installs it)" >&2; exit 2; }
command -v aws > /dev/null || { echo "moto-lag: needs the aws CLI (scripts/setup.sh installs it)" >&2; exit 2; }
python3 -c 'import boto3' 2> /dev/null || { echo "moto-lag: needs boto3 (scripts/setup.sh installs it)" >&2; exit 2; }

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
if [[ -z "${BUILD_DIR:-}" ]]; then
  bench_release_build "$root" "$build" dynarep
fi
dynarep=$build/src/app/dynarep
[[ -x "$dynarep" ]] || { echo "moto-lag: no $dynarep" >&2; exit 2; }

# moto takes any credentials; nothing from the caller's AWS settings may leak in.
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_DYNAMODB AWS_ENDPOINT_URL_DYNAMODB_STREAMS AWS_SESSION_TOKEN
export AWS_ACCESS_KEY_ID=moto AWS_SECRET_ACCESS_KEY=moto AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1

work=$(mktemp -d /tmp/dynarep-moto-lag-XXXXXX)
pids=()
cleanup() {  # the worker first (it releases its lease on moto), then moto
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2> /dev/null || true
    wait "${pids[i]}" 2> /dev/null || true
  done
  [[ -n "${KEEP:-}" ]] || rm -rf "$work"
}
trap cleanup EXIT

port=$(free_port)
moto_server -H 127.0.0.1 -p "$port" > "$work/moto.log" 2>&1 &
pids+=($!)
url=http://127.0.0.1:$port
for _ in $(seq 300); do  # the first start imports a lot of Python
  curl -s -o /dev/null "$url/" && break
  sleep 0.1
done
curl -s -o /dev/null "$url/" || { echo "moto-lag: moto_server did not start; see $work/moto.log" >&2; KEEP=1; exit 3; }
echo "== moto_server on $url (pid ${pids[0]})"

aws dynamodb create-table --endpoint-url "$url" --table-name lag-p --billing-mode PAY_PER_REQUEST \
  --attribute-definitions AttributeName=id,AttributeType=S --key-schema AttributeName=id,KeyType=HASH \
  --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES > /dev/null
aws dynamodb create-table --endpoint-url "$url" --table-name lag-r --billing-mode PAY_PER_REQUEST \
  --attribute-definitions AttributeName=id,AttributeType=S --key-schema AttributeName=id,KeyType=HASH > /dev/null

mport=$(free_port)
# --fence deadline: with the lease table beside the replica, `auto` would fence every batch with
# TransactWriteItems, and moto's takes time in proportion to the table's size for each item
# (bench/RESULTS.md): a 600-record batch then times out. The lag wanted here is the stream's.
# shellcheck disable=SC2086
"$dynarep" replicate --primary "127.0.0.1:$port/lag-p" --replica "127.0.0.1:$port/lag-r" --table-stream \
  --fence deadline --metrics-port "$mport" --log-interval 5s ${WORKER_FLAGS:-} > "$work/worker.log" 2>&1 &
worker=$!
pids+=("$worker")
for _ in $(seq 300); do
  calls=$(curl -s "http://127.0.0.1:$mport/metrics" | sed -n 's/^dynarep_replicate_get_records_calls_total //p' || true)
  [[ -n "$calls" && "$calls" != 0 ]] && break
  kill -0 "$worker" 2> /dev/null || { echo "moto-lag: the worker exited:" >&2; cat "$work/worker.log" >&2; exit 3; }
  sleep 0.1
done
[[ -n "${calls:-}" && "$calls" != 0 ]] || { echo "moto-lag: the worker never read the stream:" >&2; cat "$work/worker.log" >&2; exit 3; }
echo "== dynarep replicate --table-stream ${WORKER_FLAGS:-} reading; writing $RATE items/s for $DURATION s"

python3 - "$url" "$RATE" "$DURATION" << 'PY'
import sys, threading, time, boto3
url, rate, duration = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
def client():
    return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="moto", aws_secret_access_key="moto")
pending, lags, lock = {}, [], threading.Lock()
done = threading.Event()
written = 0.0  # when the last write returned
def poll():
    c = client()
    while True:
        with lock:
            ids = list(pending)[:100]
        if not ids:
            if done.is_set():
                return
            time.sleep(0.01)
            continue
        got = c.batch_get_item(RequestItems={"lag-r": {"Keys": [{"id": {"S": i}} for i in ids],
                                                       "ConsistentRead": True}})
        now = time.monotonic()
        with lock:
            for it in got["Responses"].get("lag-r", []):
                t = pending.pop(it["id"]["S"], None)
                if t is not None:
                    lags.append((now - t) * 1000)
        if done.is_set() and time.monotonic() > written + 60:
            return  # what is still pending after a minute is reported as missing
        time.sleep(0.02)
poller = threading.Thread(target=poll)
poller.start()
# WRITERS threads share the schedule (write n at start + n / rate), so one slow answer from
# moto does not hold back the others; writes that start >100 ms late are counted.
writers, start = 4, time.monotonic()
end = start + duration
total = int(duration * rate)
counts = {"late": 0}
def write(w):
    c = client()
    for n in range(w, total, writers):
        wait = start + n / rate - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        elif wait < -0.1:
            with lock:
                counts["late"] += 1
        i = "m-%06d" % n
        c.put_item(TableName="lag-p", Item={"id": {"S": i}, "v": {"N": str(n)}, "pad": {"S": "x" * 200}})
        with lock:
            pending[i] = time.monotonic()
pool = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
for t in pool:
    t.start()
for t in pool:
    t.join()
n, late = total, counts["late"]
secs = time.monotonic() - start
written = time.monotonic()
done.set()
poller.join()
lags.sort()
q = lambda f: lags[min(len(lags) - 1, int(f * len(lags)))] if lags else -1
print("moto-lag: %d writes in %.1f s (%.0f/s achieved of %.0f/s offered, %d started >100 ms late); visible on the "
      "replica: %d; lag p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms (poll resolution ~20-40 ms)"
      % (n, secs, n / secs, rate, late, len(lags), q(0.5), q(0.9), q(0.99), lags[-1] if lags else -1))
print("RESULT lag_p50_ms %.0f\nRESULT lag_p99_ms %.0f\nRESULT lag_max_ms %.0f\nRESULT missing %d"
      % (q(0.5), q(0.99), lags[-1] if lags else -1, n - len(lags)))
sys.exit(0 if len(lags) == n else 3)
PY
echo "worker peak RSS: $(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$worker/status") MB"
