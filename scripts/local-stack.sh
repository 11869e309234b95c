#!/usr/bin/env bash
# The local AWS stack: dynalite (DynamoDB), kinesalite (Kinesis) and s3rver (S3) from npm, on
# free loopback ports.
#   scripts/local-stack.sh start DIR   start all three; write DIR/stack.env and DIR/pids
#   scripts/local-stack.sh stop DIR    stop them by PID (safe to repeat)
# DIR/stack.env holds `export` lines: AWS_ENDPOINT_URL_{DYNAMODB,KINESIS,S3}, credentials and
# region. The credentials are s3rver's built-in pair (S3RVER/S3RVER): s3rver checks SigV4
# signatures made with them, which makes every S3 test a signing test too; dynalite and
# kinesalite accept any. Source it to point dynarep (or the AWS CLI) at the stack.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-}
dir=${2:-}
[[ -n "$cmd" && -n "$dir" ]] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

stop() {
  [[ -f "$dir/pids" ]] || return 0
  while read -r pid; do
    [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  done < "$dir/pids"
  # Give them a moment, then make sure.
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    alive=0
    while read -r pid; do kill -0 "$pid" 2>/dev/null && alive=1; done < "$dir/pids"
    [[ $alive == 0 ]] && break
    sleep 0.1
  done
  while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done < "$dir/pids"
  rm -f "$dir/pids"
}

start_one() {  # kind, extra node flags...
  local kind=$1; shift
  local out="$dir/$kind.out"
  : > "$out"
  local data=""
  if [[ $kind == s3rver ]]; then data="$dir/s3-data"; rm -rf "$data"; mkdir -p "$data"; fi
  # s3rver: without the legacy provider, ListObjectsV2 continuation tokens fail (InternalError).
  node "$@" "$here/tools/local-stack/serve.js" "$kind" $data > "$out" 2> "$dir/$kind.err" &
  echo $! >> "$dir/pids"
}

wait_port() {  # kind -> prints port
  local kind=$1 port=""
  for _ in $(seq 1 300); do
    port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$dir/$kind.out" 2>/dev/null | head -n1)
    [[ -n "$port" ]] && { echo "$port"; return 0; }
    sleep 0.1
  done
  echo "local-stack: $kind did not start within 30 s; its stderr:" >&2
  cat "$dir/$kind.err" >&2
  return 1
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    stop
    [[ -d "$here/node_modules/dynalite" ]] || { echo "local-stack: node_modules missing: run scripts/setup.sh" >&2; exit 1; }
    start_one dynalite
    start_one kinesalite
    start_one s3rver --openssl-legacy-provider
    trap 'stop' ERR
    d=$(wait_port dynalite); k=$(wait_port kinesalite); s=$(wait_port s3rver)
    cat > "$dir/stack.env" <<ENV
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$d
export AWS_ENDPOINT_URL_KINESIS=http://127.0.0.1:$k
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$s
export AWS_ACCESS_KEY_ID=S3RVER
export AWS_SECRET_ACCESS_KEY=S3RVER
export AWS_REGION=us-east-1
ENV
    echo "local stack up: dynamodb :$d kinesis :$k s3 :$s (env in $dir/stack.env)"
    ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
