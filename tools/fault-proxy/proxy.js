#!/usr/bin/env node
// A fault-injecting HTTP proxy for dynarep's tests: forwards everything to one local AWS
// stand-in (dynalite, kinesalite, s3rver) except where a rule, set over a small JSON control
// API, says to drop, delay, fail, throttle, truncate or corrupt. See README.md.
//
//   node proxy.js --target http://127.0.0.1:PORT [--port 0] [--control-port 0] [--seed N]
//                 [--rules FILE] [--log] [--exit-on-stdin-eof]
//
// Once both ports listen it prints one JSON line: {"port":P,"control_port":C,"pid":N}.
'use strict';
const fs = require('fs');
const { FaultProxy } = require('./lib/fault-proxy');

const USAGE = `usage: node proxy.js --target http://127.0.0.1:PORT [options]
  --target URL          upstream to forward to (required; http only)
  --port N              proxy port (default 0: a free one)
  --control-port N      control API port (default 0: a free one)
  --seed N              repeatable probability decisions (integer)
  --rules FILE          initial rules, same JSON as POST /rules
  --log                 one stderr line per injected fault
  --exit-on-stdin-eof   exit when stdin closes (tie the proxy's life to its parent)
`;

function die(msg) {
  process.stderr.write(`fault-proxy: ${msg}\n${USAGE}`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { target: null, port: 0, controlPort: 0, seed: null, rules: null, log: false, stdinEof: false };
  const intArg = (name, v) => {
    if (v === undefined || !/^-?\d+$/.test(v)) die(`${name} needs an integer`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--target': o.target = argv[++i]; break;
      case '--port': o.port = intArg(a, argv[++i]); break;
      case '--control-port': o.controlPort = intArg(a, argv[++i]); break;
      case '--seed': o.seed = intArg(a, argv[++i]); break;
      case '--rules': o.rules = argv[++i]; break;
      case '--log': o.log = true; break;
      case '--exit-on-stdin-eof': o.stdinEof = true; break;
      case '-h': case '--help': process.stdout.write(USAGE); process.exit(0); break;
      default: die(`unknown argument '${a}'`);
    }
  }
  if (!o.target) die('--target is required');
  return o;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  let proxy;
  try {
    proxy = new FaultProxy({
      target: opts.target,
      seed: opts.seed,
      log: opts.log ? (line) => process.stderr.write(`fault-proxy: ${line}\n`) : null,
    });
    if (opts.rules) proxy.setRules(JSON.parse(fs.readFileSync(opts.rules, 'utf8')));
  } catch (e) {
    die(e.message);
  }

  proxy.listen({ port: opts.port, controlPort: opts.controlPort }).then(({ port, control_port }) => {
    process.stdout.write(JSON.stringify({ port, control_port, pid: process.pid }) + '\n');
  }, (e) => {
    process.stderr.write(`fault-proxy: cannot listen: ${e.message}\n`);
    process.exit(1);
  });

  // Nothing to flush or save: just go.
  const stop = () => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (opts.stdinEof) {
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }
  // A long test run should not lose its proxy to one connection's odd error; report it and
  // keep serving the others.
  process.on('uncaughtException', (e) => {
    process.stderr.write(`fault-proxy: unexpected error (continuing): ${e && e.stack || e}\n`);
  });
}

main();
