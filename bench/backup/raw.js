// The local stack's raw rates, measured with the AWS SDK for JavaScript v2 (the one
// @mapbox/dyno depends on), for comparison with dynarep's backup and restore:
//   node raw.js scan TABLE [SEGMENTS]        parallel Scan, every page, items/s
//   node raw.js create TABLE                 an on-demand table keyed by id (S)
//   node raw.js delete TABLE
//   node raw.js write TABLE N [PARALLEL]     BatchWriteItem of N ~200-byte items, 25 a call,
//                                            PARALLEL calls in flight, unprocessed retried
// Endpoint and credentials from the environment (AWS_ENDPOINT_URL_DYNAMODB, ...).
'use strict';
const path = require('path');
const AWS = require(path.join(__dirname, '../../node_modules/aws-sdk'));

const ddb = new AWS.DynamoDB({
  endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB,
  region: process.env.AWS_REGION || 'us-east-1',
  maxRetries: 10,
  httpOptions: { agent: new (require('http').Agent)({ keepAlive: true, maxSockets: 64 }) },
});

function item(i) {
  const hex = ((i * 2654435761) % 2 ** 32).toString(16).padStart(8, '0');
  return {
    id: { S: 'w' + String(i).padStart(9, '0') },
    n: { N: `${i * 7}.${String(i % 100).padStart(2, '0')}` },
    s: { S: hex.repeat(12) },
    tags: { SS: ['alpha', 'beta', 't' + (i % 17)] },
    m: { M: { count: { N: String(i % 1000) }, ok: { BOOL: i % 2 === 0 } } },
  };
}

async function scan(table, segments) {
  const t0 = process.hrtime.bigint();
  let items = 0;
  await Promise.all([...Array(segments).keys()].map(async (seg) => {
    let start;
    do {
      const r = await ddb.scan({ TableName: table, Segment: seg, TotalSegments: segments, ExclusiveStartKey: start }).promise();
      items += r.Items.length;
      start = r.LastEvaluatedKey;
    } while (start);
  }));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ mode: 'scan', items, seconds: secs, items_per_s: items / secs }));
}

async function write(table, n, parallel) {
  const t0 = process.hrtime.bigint();
  let next = 0;
  async function worker() {
    for (;;) {
      const first = next;
      if (first >= n) return;
      next = Math.min(n, first + 25);
      let reqs = [];
      for (let i = first; i < next; i++) reqs.push({ PutRequest: { Item: item(i) } });
      while (reqs.length) {
        const r = await ddb.batchWriteItem({ RequestItems: { [table]: reqs } }).promise();
        reqs = (r.UnprocessedItems && r.UnprocessedItems[table]) || [];
      }
    }
  }
  await Promise.all([...Array(parallel).keys()].map(worker));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ mode: 'write', items: n, seconds: secs, items_per_s: n / secs }));
}

async function create(table) {
  await ddb.createTable({
    TableName: table,
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    BillingMode: 'PAY_PER_REQUEST',
  }).promise();
  await ddb.waitFor('tableExists', { TableName: table }).promise();
}

async function drop(table) {
  await ddb.deleteTable({ TableName: table }).promise();
}

const [mode, table, a, b] = process.argv.slice(2);
const run = mode === 'scan' ? scan(table, Number(a || 4))
  : mode === 'create' ? create(table)
  : mode === 'delete' ? drop(table)
  : write(table, Number(a), Number(b || 16));
run.catch((e) => {
  console.error(e);
  process.exit(1);
});
