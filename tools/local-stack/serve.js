// Starts one local AWS stand-in on 127.0.0.1 and a free port, then prints one JSON line
// {"kind","port","pid"} once it is listening. Used by scripts/local-stack.sh and the tests.
//   node serve.js dynalite|kinesalite|s3rver [DATA_DIR]
// dynalite and kinesalite keep data in memory when no DATA_DIR is given; s3rver needs one.
'use strict';
const kind = process.argv[2];
const dir = process.argv[3];

function ready(port) {
  process.stdout.write(JSON.stringify({ kind, port, pid: process.pid }) + '\n');
}
function fail(err) {
  process.stderr.write(`local-stack: ${kind} failed to start: ${err && err.stack || err}\n`);
  process.exit(1);
}

// kinesalite never answers GetShardIterator AT_TIMESTAMP when no record in the shard is at or
// after the timestamp (its lazy stream's head() is never called), where Kinesis returns an
// iterator at the tip: every later record arrives after the timestamp. dynarep pins "latest" to
// the lease's creation time, so this case is routine. The action is wrapped before kinesalite
// loads it: with no such record, the request is answered as LATEST, which is what Kinesis does.
function patchKinesaliteAtTimestamp() {
  const path = require.resolve('kinesalite/actions/getShardIterator');
  const original = require(path);
  const kdb = require('kinesalite/db');
  require.cache[path].exports = function getShardIterator(store, data, cb) {
    if (data.ShardIteratorType !== 'AT_TIMESTAMP' || data.Timestamp == null || data.Timestamp * 1000 > Date.now()) {
      return original(store, data, cb);
    }
    let shardIx;
    try {
      shardIx = kdb.resolveShardId(data.ShardId).shardIx;
    } catch (e) {
      return original(store, data, cb);
    }
    let done = false;
    const finish = (req) => {
      if (done) return;
      done = true;
      original(store, req, cb);
    };
    let rs;
    try {
      rs = store.getStreamDb(data.StreamName).createReadStream({
        gt: kdb.shardIxToHex(shardIx), lt: kdb.shardIxToHex(shardIx + 1),
      });
    } catch (e) {
      return original(store, data, cb);
    }
    rs.on('data', (item) => {
      if (item.value.ApproximateArrivalTimestamp >= data.Timestamp) {
        finish(data);
        rs.destroy();
      }
    });
    rs.on('error', () => finish(data));
    rs.on('end', () => finish(Object.assign({}, data, { ShardIteratorType: 'LATEST', Timestamp: undefined })));
  };
}

// Latency knobs at 0: tables and streams are ACTIVE at once, as tests want.
if (kind === 'dynalite') {
  const server = require('dynalite')({
    createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, path: dir || undefined,
  });
  server.on('error', fail);
  server.listen(0, '127.0.0.1', () => ready(server.address().port));
} else if (kind === 'kinesalite') {
  patchKinesaliteAtTimestamp();
  // kinesalite's own CLI cannot bind a host, hence this launcher.
  const server = require('kinesalite')({
    createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 1000,
    path: dir || undefined,
  });
  server.on('error', fail);
  server.listen(0, '127.0.0.1', () => ready(server.address().port));
} else if (kind === 's3rver') {
  if (!dir) fail('s3rver needs a data directory');
  const S3rver = require('s3rver');
  // One bucket exists from the start, for the quickstart and scripts; tests make their own.
  const server = new S3rver({
    address: '127.0.0.1', port: 0, silent: true, directory: dir,
    configureBuckets: [{ name: 'dynarep-local' }],
  });
  server.run().then((addr) => ready(addr.port), fail);
} else {
  fail(`unknown server kind '${kind}' (dynalite, kinesalite or s3rver)`);
}
process.on('SIGTERM', () => process.exit(0));
