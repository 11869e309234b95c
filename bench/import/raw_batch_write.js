#!/usr/bin/env node
// The raw BatchWriteItem ceiling of a DynamoDB endpoint: every BatchWriteItem request is built
// (parsed, grouped by 25) BEFORE the clock starts; then PARALLEL workers send them with
// aws-sdk v2 (installed as dyno's dependency), re-sending UnprocessedItems until written.
//   node raw_batch_write.js ENDPOINT TABLE FILE PARALLEL
// FILE: the line format, optionally with dyno export's description line first (skipped).
// Prints one JSON line: items, seconds, items_per_s, client CPU seconds.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const readline = require('readline');
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = '1';
const AWS = require(path.join(__dirname, '..', '..', 'node_modules', 'aws-sdk'));

const [endpoint, table, file, parallelArg] = process.argv.slice(2);
const parallel = Number(parallelArg || 8);

async function main() {
  const requests = [];
  let batch = [];
  let items = 0;
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line) continue;
    const obj = JSON.parse(line);
    if (obj.KeySchema && obj.AttributeDefinitions) continue;  // the description line
    batch.push({ PutRequest: { Item: obj } });
    ++items;
    if (batch.length === 25) {
      requests.push({ RequestItems: { [table]: batch } });
      batch = [];
    }
  }
  if (batch.length) requests.push({ RequestItems: { [table]: batch } });

  const ddb = new AWS.DynamoDB({
    endpoint, region: 'us-east-1', maxRetries: 10,
    httpOptions: { agent: new http.Agent({ keepAlive: true, maxSockets: parallel }), timeout: 120000 },
  });
  let next = 0;
  let retried = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  async function worker() {
    while (next < requests.length) {
      let params = requests[next++];
      for (let attempt = 0; ; ++attempt) {
        const r = await ddb.batchWriteItem(params).promise();
        const left = r.UnprocessedItems && r.UnprocessedItems[table];
        if (!left || left.length === 0) break;
        retried += left.length;
        params = { RequestItems: { [table]: left } };
        await new Promise((res) => setTimeout(res, Math.min(1000, 25 << attempt)));
      }
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({
    items, seconds, items_per_s: items / seconds, unprocessed_resent: retried,
    client_cpu_seconds: (cpu.user + cpu.system) / 1e6,
  }));
}
main().catch((err) => { console.error(err); process.exit(1); });
