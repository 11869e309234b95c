#!/usr/bin/env bash
# The whole dynarep story against a local stack, in about a minute:
#   1. a primary table, a replica table and a change stream;
#   2. a writer puts, updates and deletes items on the primary, publishing each change;
#   3. a replicator daemon consumes the stream and converges the replica;
#   4. diff-tables proves the replica equals the primary;
#   5. a full backup to S3, restored into a new table, proven equal too.
# Everything runs on loopback (dynalite, kinesalite, s3rver) and is stopped at the end.
#   scripts/quickstart.sh [ITEMS]      (default 2000 items)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
items=${1:-2000}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "building dynarep (release)"
export CCACHE_DIR=${CCACHE_DIR:-$here/.ccache}
cmake --preset release > /dev/null
cmake --build --preset release --target dynarep -j "${DYNAREP_JOBS:-2}" | tail -n 1
D=$here/build/release/src/app/dynarep

work=$(mktemp -d -t dynarep-quickstart-XXXXXX)
replicator_pid=""
cleanup() {
  [[ -n "$replicator_pid" ]] && kill "$replicator_pid" 2> /dev/null && wait "$replicator_pid" 2> /dev/null
  scripts/local-stack.sh stop "$work/stack" || true
  rm -rf "$work"
}
trap cleanup EXIT

say "starting the local stack"
scripts/local-stack.sh start "$work/stack"
# shellcheck disable=SC1091
source "$work/stack/stack.env"

primary=us-east-1/quickstart-primary
replica=us-east-1/quickstart-replica
restored=us-east-1/quickstart-restored
stream=quickstart-changes

say "creating $primary, $replica and stream $stream"
description() {
  printf '{"TableName":"%s","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],' "$1"
  printf '"KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingModeSummary":{"BillingMode":"PAY_PER_REQUEST"}}\n'
}
description quickstart-primary | "$D" import "$primary" --quiet
description quickstart-replica | "$D" import "$replica" --quiet
"$D" create-stream "$stream" --shards 2

say "starting the replicator (logs: $work/replicator.log)"
"$D" replicate --primary "$primary" --replica "$replica" --stream "$stream" \
  --lease-table quickstart-leases --dead-letter "$work/dead-letters" > "$work/replicator.log" 2>&1 &
replicator_pid=$!

say "writing $items items to the primary, publishing each change to $stream"
gen_items() {
  awk -v n="$1" -v tag="$2" 'BEGIN {
    for (i = 1; i <= n; i++)
      printf "{\"id\":{\"S\":\"item-%06d\"},\"version\":{\"N\":\"%s\"},\"price\":{\"N\":\"%d.%02d\"},\"tags\":{\"SS\":[\"a\",\"b%d\"]},\"note\":{\"S\":\"%s\"}}\n", i, tag, i, i % 100, i % 7, tag
  }'
}
gen_items "$items" 1 | "$D" put "$primary" --stream "$stream" --quiet
say "overwriting the first half and deleting every tenth item"
gen_items $((items / 2)) 2 | "$D" put "$primary" --stream "$stream" --quiet
for i in $(seq 10 10 100); do
  "$D" delete "$primary" "$(printf '{"id":"item-%06d"}' "$i")" --stream "$stream"
done

say "waiting for the replica to converge (diff-tables every 2 s)"
converged=0
for attempt in $(seq 1 30); do
  if "$D" diff-tables "$primary" "$replica" --quiet > "$work/diff.out" 2> "$work/diff.err"; then
    converged=1
    break
  fi
  sleep 2
done
cat "$work/diff.err"
if [[ $converged != 1 ]]; then
  echo "the replica did not converge within 60 s; replicator log:" >&2
  tail -n 30 "$work/replicator.log" >&2
  exit 1
fi
echo "diff-tables: 0 discrepancies between $primary and $replica"

say "backing up $primary to s3://dynarep-local/quickstart and restoring into $restored"
"$D" backup-table "$primary" s3://dynarep-local/quickstart --jobid demo
"$D" restore s3://dynarep-local/quickstart/demo "$restored" --create-table
"$D" diff-tables "$primary" "$restored" --quiet 2>&1 | tail -n 3

say "done"
cat <<EOF
What happened:
  - $items items were written to $primary (then half overwritten, 10 deleted); every
    confirmed write published a KEYS_ONLY change record on $stream;
  - 'dynarep replicate' read each change, re-read the item from the primary with a
    consistent read, and put or deleted it on $replica;
  - 'dynarep diff-tables' scanned both tables and found no difference;
  - 'dynarep backup-table' wrote gzipped lines and a manifest to S3, and 'dynarep restore'
    loaded them into $restored.
Go further: README.md (every command), docs/replication.md, docs/diff.md, docs/backup.md.
EOF
