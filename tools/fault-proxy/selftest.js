#!/usr/bin/env node
// Self-test of the fault proxy, no frameworks: starts dynalite in-process (and a small echo
// server, to see exactly what reaches the upstream), runs proxy.js as a child process the way
// tests do, and checks every fault kind with plain HTTP and raw TCP clients.
//   node tools/fault-proxy/selftest.js      -> "N passed, 0 failed", exit 0 on success
'use strict';
const assert = require('assert/strict');
const crypto = require('crypto');
const http = require('http');
const net = require('net');
const path = require('path');
const { spawn } = require('child_process');
const { crc32 } = require('./lib/aws');

const PROXY = path.join(__dirname, 'proxy.js');
const DDB = 'DynamoDB_20120810';

// ---- helpers ------------------------------------------------------------------------------

const children = [];

// Runs proxy.js and resolves with the JSON line it prints once listening, plus the child.
function startProxy(args, { stdin = 'ignore' } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PROXY, ...args], { stdio: [stdin, 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ ...JSON.parse(out.slice(0, nl)), child });
    });
    child.on('exit', (code) => reject(new Error(`proxy exited (${code}) before listening: ${err}`)));
  });
}

// One HTTP exchange; always resolves: {status, headers, rawHeaders, body, error, reused}.
// `error` is set when the connection failed, possibly after a partial body.
function request(port, { method = 'POST', path: p = '/', headers = {}, body = null, agent = false, chunks = null } = {}) {
  return new Promise((resolve) => {
    const out = { status: null, headers: null, rawHeaders: null, body: Buffer.alloc(0), error: null, reused: false };
    let settled = false;
    const done = (err) => {
      if (settled) return;
      settled = true;
      if (err) out.error = err.code || err.message;
      resolve(out);
    };
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers, agent }, (res) => {
      out.status = res.statusCode;
      out.headers = res.headers;
      out.rawHeaders = res.rawHeaders;
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => { out.body = Buffer.concat(parts); done(); });
      res.on('error', (e) => { out.body = Buffer.concat(parts); done(e); });
      res.on('aborted', () => { out.body = Buffer.concat(parts); done(new Error('aborted')); });
    });
    req.on('socket', () => { out.reused = req.reusedSocket; });
    req.on('error', done);
    if (chunks) {
      // Body in several writes without a Content-Length: sent chunked.
      let i = 0;
      const next = () => (i < chunks.length ? req.write(chunks[i++], next) : req.end());
      next();
    } else {
      req.end(body);
    }
  });
}

// A DynamoDB call with the headers dynalite insists on (it does not verify signatures).
function ddbHeaders(op, extra = {}) {
  return {
    'X-Amz-Target': `${DDB}.${op}`,
    'Content-Type': 'application/x-amz-json-1.0',
    'X-Amz-Date': '20240101T000000Z',
    Authorization: 'AWS4-HMAC-SHA256 Credential=AKIDTEST/20240101/us-east-1/dynamodb/aws4_request, ' +
      'SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000',
    ...extra,
  };
}
function ddb(port, op, payload, opts = {}) {
  return request(port, { headers: ddbHeaders(op), body: JSON.stringify(payload), ...opts });
}

// Raw TCP exchange, to see how the connection ended: {data, end: 'fin' | error code}.
function rawExchange(port, requestBytes) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const parts = [];
    let settled = false;
    const done = (end) => {
      if (settled) return;
      settled = true;
      sock.destroy();
      resolve({ data: Buffer.concat(parts), end });
    };
    sock.on('data', (d) => parts.push(d));
    sock.on('end', () => done('fin'));
    sock.on('error', (e) => done(e.code));
    sock.on('close', () => done('close'));
    sock.write(requestBytes);
  });
}
function rawDdbRequest(port, op, payload) {
  const body = Buffer.from(JSON.stringify(payload));
  const head = [`POST / HTTP/1.1`, `Host: 127.0.0.1:${port}`, `Content-Length: ${body.length}`];
  for (const [k, v] of Object.entries(ddbHeaders(op))) head.push(`${k}: ${v}`);
  return Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n'), body]);
}
// Splits a raw HTTP response into its head (lowercased header map) and body bytes.
function parseRaw(data) {
  const sep = data.indexOf('\r\n\r\n');
  assert.ok(sep > 0, `no complete response head in ${JSON.stringify(data.toString())}`);
  const lines = data.subarray(0, sep).toString().split('\r\n');
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(lines[0].split(' ')[1]), headers, body: data.subarray(sep + 4) };
}

// Control API client.
async function control(port, method, p, body) {
  const r = await request(port, {
    method, path: p, body: body === undefined ? null : JSON.stringify(body),
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
  });
  assert.equal(r.error, null, `control ${method} ${p}: ${r.error}`);
  return { status: r.status, json: JSON.parse(r.body.toString()) };
}
async function setRules(port, rules, extra = {}) {
  const r = await control(port, 'POST', '/rules', { rules, ...extra });
  assert.equal(r.status, 200, JSON.stringify(r.json));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The upstream view: an echo server that records each request (raw headers and body) and
// answers with a body described by the request's x-echo-* headers.
function startEcho() {
  const seen = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      seen.push({ method: req.method, url: req.url, rawHeaders: req.rawHeaders, body });
      const size = Number(req.headers['x-echo-size'] || 0);
      const payload = size ? pattern(size) : Buffer.from(JSON.stringify({
        method: req.method, url: req.url, sha256: sha(body), length: body.length,
      }));
      if (req.headers['x-echo-chunked']) {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'X-Echo': 'yes' });
        for (let i = 0; i < payload.length; i += 65536) res.write(payload.subarray(i, i + 65536));
        res.end();
      } else {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': payload.length, 'X-Echo': 'yes' });
        res.end(payload);
      }
    });
  });
  server.on('connection', () => { connections++; });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    server, seen, port: server.address().port,
    get connections() { return connections; },
    resetConnections() { connections = 0; },
  })));
}
function pattern(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
  return b;
}
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

// ---- tests --------------------------------------------------------------------------------

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

let dyn; // dynalite port
let P; // proxy in front of dynalite: {port, control_port}
let E; // proxy in front of the echo server
let echo;
const TABLE = 'fault_proxy_selftest';
const key = (id) => ({ TableName: TABLE, Key: { id: { S: id } } });
const put = (id, extra = {}) => ({ TableName: TABLE, Item: { id: { S: id }, ...extra } });

test('setup: CreateTable through the proxy', async () => {
  const r = await ddb(P.port, 'CreateTable', {
    TableName: TABLE,
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  });
  assert.equal(r.status, 200, r.body.toString());
});

test('pass-through: DynamoDB responses are byte-identical to direct ones', async () => {
  const item = put('passthrough', { s: { S: 'héllo \u2603 "quoted" \\ \n' }, b: { B: crypto.randomBytes(300).toString('base64') } });
  assert.equal((await ddb(P.port, 'PutItem', item)).status, 200);
  const calls = [
    ['GetItem', key('passthrough')],
    ['DescribeTable', { TableName: TABLE }],
    ['DescribeTable', { TableName: 'no_such_table' }], // an error response
    ['Query', { TableName: TABLE, KeyConditionExpression: 'id = :v', ExpressionAttributeValues: { ':v': { S: 'passthrough' } } }],
  ];
  for (const [op, payload] of calls) {
    const direct = await ddb(dyn, op, payload);
    const proxied = await ddb(P.port, op, payload);
    assert.equal(proxied.error, null);
    assert.equal(proxied.status, direct.status, op);
    assert.ok(proxied.body.equals(direct.body), `${op}: body differs`);
    for (const h of ['x-amz-crc32', 'content-type', 'content-length']) {
      assert.equal(proxied.headers[h], direct.headers[h], `${op}: ${h}`);
    }
  }
});

test('pass-through: the upstream receives the request as sent (headers, body, query)', async () => {
  echo.seen.length = 0;
  const body = crypto.randomBytes(1 << 20);
  const r = await request(E.port, {
    method: 'PUT', path: '/bucket/some%20key?partNumber=1&uploadId=x%2By',
    headers: ['Host', `127.0.0.1:${E.port}`, 'X-Amz-Content-SHA256', sha(body), 'x-MiXeD-Case', 'v1', 'x-mixed-case', 'v2', 'Content-Length', String(body.length)],
    body,
  });
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body), { method: 'PUT', url: '/bucket/some%20key?partNumber=1&uploadId=x%2By', sha256: sha(body), length: body.length });
  const got = echo.seen[0];
  const pairs = (raw) => raw.reduce((a, v, i) => (i % 2 ? a : [...a, `${v}: ${raw[i + 1]}`]), []);
  const sent = pairs(got.rawHeaders);
  assert.ok(sent.includes('x-MiXeD-Case: v1') && sent.includes('x-mixed-case: v2'), sent.join('\n'));
  assert.ok(sent.includes(`Host: 127.0.0.1:${E.port}`), 'Host must be the one the client sent (SigV4)');
  assert.ok(sent.includes(`X-Amz-Content-SHA256: ${sha(body)}`));
});

test('pass-through: chunked request and response bodies are streamed intact', async () => {
  const parts = [crypto.randomBytes(70000), crypto.randomBytes(1), crypto.randomBytes(200000)];
  const r = await request(E.port, { method: 'POST', path: '/chunked', chunks: parts, headers: { 'x-echo-size': 3_000_001, 'x-echo-chunked': '1' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers['transfer-encoding'], 'chunked');
  assert.ok(r.body.equals(pattern(3_000_001)), 'response body differs');
  assert.equal(sha(echo.seen.at(-1).body), sha(Buffer.concat(parts)), 'request body differs');
  const h = await request(E.port, { method: 'HEAD', path: '/head', headers: { 'x-echo-size': 10 } });
  assert.equal(h.status, 200);
  assert.equal(h.headers['content-length'], '10');
  assert.equal(h.body.length, 0);
});

test('pass-through: keep-alive on both sides', async () => {
  await sleep(50); // let earlier connections settle into the pools
  echo.resetConnections();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const reused = [];
  for (let i = 0; i < 5; i++) {
    const r = await request(E.port, { method: 'GET', path: `/ka/${i}`, agent });
    assert.equal(r.status, 200);
    reused.push(r.reused);
  }
  agent.destroy();
  assert.deepEqual(reused, [false, true, true, true, true], 'client side did not reuse its connection');
  assert.ok(echo.connections <= 1, `upstream side opened ${echo.connections} connections for 5 sequential requests`);
});

test('drop: no response, and the request never reaches the upstream', async () => {
  await setRules(P.control_port, [{ match: { target: `${DDB}.PutItem` }, fault: 'drop' }]);
  const r = await ddb(P.port, 'PutItem', put('dropped'));
  assert.equal(r.status, null);
  assert.ok(r.error, 'expected a connection error');
  const raw = await rawExchange(P.port, rawDdbRequest(P.port, 'PutItem', put('dropped')));
  assert.equal(raw.data.length, 0, 'drop must send nothing');
  await setRules(P.control_port, []);
  const g = await ddb(dyn, 'GetItem', key('dropped'));
  assert.deepEqual(JSON.parse(g.body), {});
});

test('drop forward:true: the upstream acts, the client still sees no response', async () => {
  await setRules(P.control_port, [{ match: { target: `${DDB}.PutItem` }, fault: 'drop', forward: true }]);
  const r = await ddb(P.port, 'PutItem', put('dropped-after-write'));
  assert.equal(r.status, null);
  assert.ok(r.error);
  await setRules(P.control_port, []);
  const g = await ddb(dyn, 'GetItem', key('dropped-after-write'));
  assert.equal(JSON.parse(g.body).Item.id.S, 'dropped-after-write');
});

test('reset_mid_body: headers and the first bytes of the real body, then a TCP reset', async () => {
  await ddb(P.port, 'PutItem', put('big', { pad: { S: 'x'.repeat(2000) } }));
  const full = await ddb(dyn, 'GetItem', key('big'));
  await setRules(P.control_port, [{ match: { target: `${DDB}.GetItem` }, fault: 'reset_mid_body', bytes: 100 }]);
  const raw = await rawExchange(P.port, rawDdbRequest(P.port, 'GetItem', key('big')));
  assert.equal(raw.end, 'ECONNRESET');
  const resp = parseRaw(raw.data);
  assert.equal(resp.status, 200);
  assert.equal(resp.headers['content-length'], String(full.body.length), 'Content-Length must be the real one');
  assert.ok(resp.body.equals(full.body.subarray(0, 100)), `got ${resp.body.length} body bytes`);
  // And an HTTP client sees an error after a partial body.
  const r = await ddb(P.port, 'GetItem', key('big'));
  assert.equal(r.status, 200);
  assert.ok(r.error, 'expected an error');
  assert.ok(r.body.length < full.body.length);
  // Default: half the body.
  await setRules(P.control_port, [{ fault: 'reset_mid_body' }]);
  const half = parseRaw((await rawExchange(P.port, rawDdbRequest(P.port, 'GetItem', key('big')))).data);
  assert.equal(half.body.length, Math.floor(full.body.length / 2));
  await setRules(P.control_port, []);
});

test('truncate: short body under the original Content-Length, then an orderly close', async () => {
  const full = await ddb(dyn, 'GetItem', key('big'));
  await setRules(P.control_port, [{ match: { target: `${DDB}.GetItem` }, fault: 'truncate', bytes: 50 }]);
  const raw = await rawExchange(P.port, rawDdbRequest(P.port, 'GetItem', key('big')));
  assert.equal(raw.end, 'fin', 'truncate closes with FIN, not RST');
  const resp = parseRaw(raw.data);
  assert.equal(resp.status, 200);
  assert.equal(resp.headers['content-length'], String(full.body.length));
  assert.equal(resp.headers['x-amz-crc32'], full.headers['x-amz-crc32']);
  assert.ok(resp.body.equals(full.body.subarray(0, 50)));
  const r = await ddb(P.port, 'GetItem', key('big'));
  assert.ok(r.error, 'an HTTP client must notice the short body');
  // A chunked upstream response gets a Content-Length of its full size.
  await setRules(E.control_port, [{ fault: 'truncate' }]);
  const c = await request(E.port, { method: 'GET', path: '/t', headers: { 'x-echo-size': 1000, 'x-echo-chunked': '1' } });
  assert.equal(c.headers['content-length'], '1000');
  assert.equal(c.headers['transfer-encoding'], undefined);
  assert.ok(c.body.equals(pattern(1000).subarray(0, 500)));
  assert.ok(c.error);
  await setRules(E.control_port, []);
  await setRules(P.control_port, []);
});

test('delay: the response comes after `ms`, otherwise unchanged', async () => {
  await setRules(P.control_port, [{ match: { target: `${DDB}.GetItem` }, fault: 'delay', ms: 300 }]);
  const direct = await ddb(dyn, 'GetItem', key('big'));
  const t0 = Date.now();
  const r = await ddb(P.port, 'GetItem', key('big'));
  const took = Date.now() - t0;
  assert.ok(took >= 290, `took only ${took} ms`);
  assert.equal(r.status, 200);
  assert.ok(r.body.equals(direct.body));
  await setRules(P.control_port, []);
});

test('delay phase:"response": the upstream has acted while the client still waits', async () => {
  await setRules(P.control_port, [{ match: { target: `${DDB}.PutItem` }, fault: 'delay', ms: 400, phase: 'response' }]);
  const pending = ddb(P.port, 'PutItem', put('slow-ack'));
  await sleep(200);
  const g = await ddb(dyn, 'GetItem', key('slow-ack'));
  assert.equal(JSON.parse(g.body).Item.id.S, 'slow-ack', 'the write should already be done');
  const r = await pending;
  assert.equal(r.status, 200);
  await setRules(P.control_port, []);
});

test('status: 500/503 with an AWS JSON body (valid crc32), upstream untouched', async () => {
  await setRules(P.control_port, [{ match: { target: `${DDB}.PutItem` }, fault: 'status' }]);
  const r = await ddb(P.port, 'PutItem', put('never-written'));
  assert.equal(r.status, 500);
  assert.deepEqual(JSON.parse(r.body).__type, 'com.amazonaws.dynamodb.v20120810#InternalServerError');
  assert.equal(typeof JSON.parse(r.body).message, 'string');
  assert.equal(r.headers['content-type'], 'application/x-amz-json-1.0');
  assert.equal(r.headers['x-amz-crc32'], String(crc32(r.body)));
  await setRules(P.control_port, [{ match: { target: `${DDB}.PutItem` }, fault: 'status', status: 503 }]);
  const r2 = await ddb(P.port, 'PutItem', put('never-written'));
  assert.equal(r2.status, 503);
  assert.match(JSON.parse(r2.body).__type, /^com\.amazonaws\.dynamodb\.v20120810#/);
  await setRules(P.control_port, []);
  assert.deepEqual(JSON.parse((await ddb(dyn, 'GetItem', key('never-written'))).body), {});
});

test('status: S3-style XML for requests without X-Amz-Target', async () => {
  await setRules(E.control_port, [{ match: { method: 'PUT', path: '^/bucket/' }, fault: 'status' }]);
  const r = await request(E.port, { method: 'PUT', path: '/bucket/k', body: 'data' });
  assert.equal(r.status, 500);
  assert.equal(r.headers['content-type'], 'application/xml');
  assert.match(r.body.toString(), /^<\?xml[^>]*>\s*<Error><Code>InternalError<\/Code><Message>[^<]+<\/Message>/);
  assert.ok(r.headers['x-amz-request-id']);
  await setRules(E.control_port, [{ fault: 'status', status: 503 }]);
  const r2 = await request(E.port, { method: 'GET', path: '/bucket/k' });
  assert.equal(r2.status, 503);
  assert.match(r2.body.toString(), /<Code>ServiceUnavailable<\/Code>/);
  await setRules(E.control_port, []);
});

test('throttle: DynamoDB 400 with the chosen __type', async () => {
  const cases = [
    [undefined, 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException'],
    ['ThrottlingException', 'com.amazon.coral.availability#ThrottlingException'],
    ['LimitExceededException', 'com.amazonaws.dynamodb.v20120810#LimitExceededException'],
  ];
  for (const [code, type] of cases) {
    await setRules(P.control_port, [{ match: { target: `${DDB}.BatchWriteItem` }, fault: 'throttle', ...(code ? { code } : {}) }]);
    const r = await ddb(P.port, 'BatchWriteItem', { RequestItems: { [TABLE]: [{ PutRequest: { Item: put('t').Item } }] } });
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body).__type, type);
    assert.equal(r.headers['x-amz-crc32'], String(crc32(r.body)));
  }
  await setRules(P.control_port, []);
});

test('throttle: Kinesis bare __type in its JSON flavour; S3 503 SlowDown', async () => {
  await setRules(E.control_port, [{ match: { target: 'Kinesis_20131202' }, fault: 'throttle' }, { fault: 'throttle' }]);
  const k = await request(E.port, {
    headers: { 'X-Amz-Target': 'Kinesis_20131202.PutRecords', 'Content-Type': 'application/x-amz-json-1.1' }, body: '{}',
  });
  assert.equal(k.status, 400);
  assert.equal(JSON.parse(k.body).__type, 'ProvisionedThroughputExceededException');
  assert.equal(k.headers['content-type'], 'application/x-amz-json-1.1');
  const s = await request(E.port, { method: 'PUT', path: '/bucket/obj', body: 'x' });
  assert.equal(s.status, 503);
  assert.match(s.body.toString(), /<Code>SlowDown<\/Code>/);
  await setRules(E.control_port, []);
});

test('corrupt_crc32: the real response with a wrong x-amz-crc32', async () => {
  await setRules(P.control_port, [{ match: { target: `${DDB}.GetItem` }, fault: 'corrupt_crc32' }]);
  const direct = await ddb(dyn, 'GetItem', key('big'));
  const r = await ddb(P.port, 'GetItem', key('big'));
  assert.equal(r.status, 200);
  assert.ok(r.body.equals(direct.body));
  assert.equal(direct.headers['x-amz-crc32'], String(crc32(direct.body)));
  assert.notEqual(r.headers['x-amz-crc32'], String(crc32(r.body)));
  assert.match(r.headers['x-amz-crc32'], /^\d+$/);
  // Upstream without the header: one is added, and it is wrong too.
  await setRules(E.control_port, [{ fault: 'corrupt_crc32' }]);
  const e = await request(E.port, { method: 'GET', path: '/c', headers: { 'x-echo-size': 777, 'x-echo-chunked': '1' } });
  assert.ok(e.body.equals(pattern(777)));
  assert.match(e.headers['x-amz-crc32'], /^\d+$/);
  assert.notEqual(e.headers['x-amz-crc32'], String(crc32(e.body)));
  await setRules(E.control_port, []);
  await setRules(P.control_port, []);
});

test('error: any status + code + message', async () => {
  await setRules(P.control_port, [{ match: { target: `${DDB}.PutItem` }, fault: 'error', status: 400, code: 'ValidationException', message: 'One or more parameter values were invalid' }]);
  const r = await ddb(P.port, 'PutItem', put('v'));
  assert.equal(r.status, 400);
  assert.deepEqual(JSON.parse(r.body), { __type: 'com.amazonaws.dynamodb.v20120810#ValidationException', message: 'One or more parameter values were invalid' });
  await setRules(E.control_port, [{ fault: 'error', status: 403, code: 'AccessDenied', message: 'Access Denied' }]);
  const s = await request(E.port, { method: 'GET', path: '/bucket/x' });
  assert.equal(s.status, 403);
  assert.match(s.body.toString(), /<Code>AccessDenied<\/Code><Message>Access Denied<\/Message>/);
  await setRules(E.control_port, []);
  await setRules(P.control_port, []);
});

test('match: target exact / service / prefix*, method, path regex', async () => {
  const t = (target) => request(E.port, { headers: { 'X-Amz-Target': target }, body: '{}' });
  await setRules(E.control_port, [{ match: { target: `${DDB}.DescribeTable` }, fault: 'error', status: 400, code: 'Hit' }]);
  assert.equal((await t(`${DDB}.DescribeTable`)).status, 400);
  assert.equal((await t(`${DDB}.DescribeTableReplicaAutoScaling`)).status, 200, 'exact name must not act as a prefix');
  await setRules(E.control_port, [{ match: { target: DDB }, fault: 'error', status: 400, code: 'Hit' }]);
  assert.equal((await t(`${DDB}.Query`)).status, 400);
  assert.equal((await t('DynamoDBStreams_20120810.GetRecords')).status, 200);
  await setRules(E.control_port, [{ match: { target: `${DDB}.Batch*` }, fault: 'error', status: 400, code: 'Hit' }]);
  assert.equal((await t(`${DDB}.BatchGetItem`)).status, 400);
  assert.equal((await t(`${DDB}.GetItem`)).status, 200);
  assert.equal((await request(E.port, { method: 'GET', path: '/' })).status, 200, 'no X-Amz-Target: no target match');
  await setRules(E.control_port, [{ match: { method: ['put', 'DELETE'], path: '^/bucket/.*\\.json$' }, fault: 'error', status: 400, code: 'Hit' }]);
  assert.equal((await request(E.port, { method: 'PUT', path: '/bucket/a.json', body: '' })).status, 400);
  assert.equal((await request(E.port, { method: 'DELETE', path: '/bucket/b/c.json' })).status, 400);
  assert.equal((await request(E.port, { method: 'GET', path: '/bucket/a.json' })).status, 200);
  assert.equal((await request(E.port, { method: 'PUT', path: '/other/a.json', body: '' })).status, 200);
  await setRules(E.control_port, []);
});

test('after/count: skip the first N matches, fire at most M times; first firing rule wins', async () => {
  await setRules(E.control_port, [
    { name: 'window', match: { method: 'GET' }, fault: 'error', status: 418, code: 'Window', after: 2, count: 2 },
    { name: 'rest', match: { method: 'GET' }, fault: 'error', status: 419, code: 'Rest', count: 1 },
  ]);
  const got = [];
  for (let i = 0; i < 7; i++) got.push((await request(E.port, { method: 'GET', path: '/w' })).status);
  assert.deepEqual(got, [419, 200, 418, 418, 200, 200, 200]);
  const st = (await control(E.control_port, 'GET', '/stats')).json;
  assert.deepEqual(st.rules.map((r) => [r.name, r.matched, r.hits]), [['window', 7, 2], ['rest', 5, 1]]);
  await setRules(E.control_port, []);
});

test('probability: 0 never fires, and --seed makes decisions repeatable', async () => {
  await setRules(E.control_port, [{ fault: 'error', status: 400, code: 'X', probability: 0 }]);
  for (let i = 0; i < 10; i++) assert.equal((await request(E.port, { method: 'GET', path: '/p' })).status, 200);
  const rules = [{ fault: 'error', status: 400, code: 'X', probability: 0.5 }];
  const run = async (prox) => {
    await setRules(prox.control_port, rules);
    let s = '';
    for (let i = 0; i < 40; i++) s += (await request(prox.port, { method: 'GET', path: '/p' })).status === 400 ? 'X' : '.';
    return s;
  };
  const a = await startProxy(['--target', `http://127.0.0.1:${echo.port}`, '--seed', '1234']);
  const b = await startProxy(['--target', `http://127.0.0.1:${echo.port}`, '--seed', '1234']);
  const c = await startProxy(['--target', `http://127.0.0.1:${echo.port}`, '--seed', '99']);
  const pa = await run(a);
  assert.equal(await run(b), pa, 'same seed, different process: same decisions');
  assert.equal(await run(a), pa, 'replacing the rules restarts the sequence');
  assert.notEqual(await run(c), pa, 'another seed: other decisions');
  const hits = pa.split('X').length - 1;
  assert.ok(hits > 8 && hits < 32, `probability 0.5 fired ${hits}/40 times: ${pa}`);
  // A seed in the POST body overrides the command line's.
  await setRules(c.control_port, rules, { seed: 1234 });
  let pc = '';
  for (let i = 0; i < 40; i++) pc += (await request(c.port, { method: 'GET', path: '/p' })).status === 400 ? 'X' : '.';
  assert.equal(pc, pa);
  for (const p of [a, b, c]) p.child.kill();
  await setRules(E.control_port, []);
});

test('stats: totals, per-rule hits, per-fault and per-operation counts; reset-stats', async () => {
  await control(P.control_port, 'POST', '/reset-stats');
  await setRules(P.control_port, [{ name: 'throttle-writes', match: { target: `${DDB}.BatchWriteItem` }, fault: 'throttle', count: 2 }]);
  const bw = { RequestItems: { [TABLE]: [{ PutRequest: { Item: put('s').Item } }] } };
  for (let i = 0; i < 3; i++) await ddb(P.port, 'BatchWriteItem', bw);
  await ddb(P.port, 'GetItem', key('s'));
  const st = (await control(P.control_port, 'GET', '/stats')).json;
  assert.equal(st.total, 4);
  assert.equal(st.passed, 2);
  assert.equal(st.faulted, 2);
  assert.equal(st.faults.throttle, 2);
  assert.equal(st.faults.drop, 0);
  assert.deepEqual(st.operations, { [`${DDB}.BatchWriteItem`]: 3, [`${DDB}.GetItem`]: 1 });
  assert.deepEqual(st.rules, [{ index: 0, name: 'throttle-writes', fault: 'throttle', matched: 3, hits: 2 }]);
  await control(P.control_port, 'POST', '/reset-stats');
  const z = (await control(P.control_port, 'GET', '/stats')).json;
  assert.equal(z.total, 0);
  assert.deepEqual(z.operations, {});
  assert.deepEqual(z.rules[0], { index: 0, name: 'throttle-writes', fault: 'throttle', matched: 0, hits: 0 });
  // Requests without X-Amz-Target (S3) are counted by HTTP method.
  await control(E.control_port, 'POST', '/reset-stats');
  assert.equal((await request(E.port, { method: 'PUT', path: '/b/k', body: 'x' })).status, 200);
  assert.deepEqual((await control(E.control_port, 'GET', '/stats')).json.operations, { PUT: 1 });
  await setRules(P.control_port, []);
});

test('control API: GET/DELETE /rules and validation errors', async () => {
  const rules = [{ name: 'x', match: { target: `${DDB}.Scan` }, fault: 'delay', ms: 5 }];
  await setRules(P.control_port, rules);
  assert.deepEqual((await control(P.control_port, 'GET', '/rules')).json, { rules });
  const del = await control(P.control_port, 'DELETE', '/rules');
  assert.equal(del.status, 200);
  assert.deepEqual((await control(P.control_port, 'GET', '/rules')).json, { rules: [] });
  const bad = [
    [{ rules: [{ fault: 'explode' }] }, /unknown fault/],
    [{ rules: [{ fault: 'drop', probabilty: 0.5 }] }, /unknown field "probabilty"/],
    [{ rules: [{ fault: 'delay' }] }, /"ms"/],
    [{ rules: [{ fault: 'error', status: 400 }] }, /"code"/],
    [{ rules: [{ fault: 'status', status: 404 }] }, /"status"/],
    [{ rules: [{ fault: 'drop', probability: 2 }] }, /probability/],
    [{ rules: [{ fault: 'drop', match: { path: '(' } }] }, /regular expression/],
    [{ rules: [{ fault: 'drop', match: { host: 'x' } }] }, /match\.host/],
    [{ rule: [] }, /unknown field "rule"/],
  ];
  for (const [body, re] of bad) {
    const r = await control(P.control_port, 'POST', '/rules', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(r.json.error, re);
  }
  const notJson = await request(P.control_port, { method: 'POST', path: '/rules', body: '{nope' });
  assert.equal(notJson.status, 400);
  assert.equal((await request(P.control_port, { method: 'GET', path: '/nothing' })).status, 404);
  // A rejected POST leaves no rules in force.
  assert.equal((await ddb(P.port, 'GetItem', key('big'))).status, 200);
});

test('the proxy keeps serving after every kind of fault', async () => {
  const kinds = [
    { fault: 'drop' }, { fault: 'drop', forward: true }, { fault: 'reset_mid_body' }, { fault: 'truncate' },
    { fault: 'delay', ms: 1 }, { fault: 'status' }, { fault: 'throttle' }, { fault: 'corrupt_crc32' },
    { fault: 'error', status: 400, code: 'ValidationException' },
  ];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (const k of kinds) {
    await setRules(P.control_port, [{ ...k, count: 1 }]);
    await ddb(P.port, 'GetItem', key('big'), { agent });
    const r = await ddb(P.port, 'GetItem', key('big'), { agent });
    assert.equal(r.status, 200, `after ${k.fault}: ${r.error}`);
    assert.equal(r.error, null);
  }
  agent.destroy();
  await setRules(P.control_port, []);
});

test('upstream down: 502 from the proxy', async () => {
  const dead = net.createServer();
  await new Promise((r) => dead.listen(0, '127.0.0.1', r));
  const port = dead.address().port;
  await new Promise((r) => dead.close(r));
  const p = await startProxy(['--target', `http://127.0.0.1:${port}`]);
  const r = await request(p.port, { method: 'GET', path: '/' });
  assert.equal(r.status, 502);
  assert.match(r.body.toString(), /ECONNREFUSED/);
  assert.equal((await control(p.control_port, 'GET', '/stats')).json.upstream_errors, 1);
  p.child.kill();
});

test('--exit-on-stdin-eof: the proxy exits when its stdin closes', async () => {
  const p = await startProxy(['--target', `http://127.0.0.1:${echo.port}`, '--exit-on-stdin-eof'], { stdin: 'pipe' });
  const exited = new Promise((r) => p.child.once('exit', (code) => r(code)));
  p.child.stdin.end();
  const code = await Promise.race([exited, sleep(3000).then(() => 'timeout')]);
  assert.equal(code, 0);
});

test('command line: bad arguments exit 2 with usage', async () => {
  const child = spawn(process.execPath, [PROXY, '--target', 'https://example.com'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const code = await new Promise((r) => child.on('exit', r));
  assert.equal(code, 2);
  assert.match(err, /http:\/\//);
});

// ---- runner -------------------------------------------------------------------------------

async function main() {
  const dynalite = require('dynalite')({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise((r) => dynalite.listen(0, '127.0.0.1', r));
  dyn = dynalite.address().port;
  echo = await startEcho();
  let passed = 0;
  let failed = 0;
  try {
    P = await startProxy(['--target', `http://127.0.0.1:${dyn}`, '--seed', '7']);
    E = await startProxy(['--target', `http://127.0.0.1:${echo.port}`]);
    for (const t of tests) {
      try {
        await Promise.race([
          t.fn(),
          sleep(20000).then(() => { throw new Error('timed out after 20 s'); }),
        ]);
        passed++;
        console.log(`ok   ${t.name}`);
      } catch (e) {
        failed++;
        console.log(`FAIL ${t.name}\n     ${String(e && e.stack || e).split('\n').slice(0, 6).join('\n     ')}`);
      }
    }
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill();
    dynalite.close();
    echo.server.closeAllConnections();
    echo.server.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  for (const c of children) if (c.exitCode === null) c.kill();
  process.exit(1);
});
