#!/usr/bin/env node
// Reads line-format files with the original dyno's own deserializer (Dyno.deserialize from
// @mapbox/dyno 1.6.3, which goes through aws-sdk v2's converter) and compares what it gets.
//
//   node dyno_interop.js same-items FILE...   every file deserializes to the same items
//                                              (matched by their "id" attribute); prints
//                                              "ok N items" or the first difference, exit 1
//   node dyno_interop.js same-description A B the description lines (first lines) agree on
//                                              what a table's shape is
//
// Values are compared in a normal form: Buffers by their bytes, dyno's sets (DynamoDBSet) as
// sorted members, map attributes sorted by name, numbers as JavaScript numbers (which is what
// dyno gives its users: "12345678901234567890123" and "1.2345678901234568e+22" both become the
// same double; the C++ test checks the digits themselves).
'use strict';
const fs = require('fs');
const path = require('path');
const Dyno = require(path.join(__dirname, '..', '..', 'node_modules', '@mapbox', 'dyno'));

function normal(v) {
  if (Buffer.isBuffer(v)) return { $B: v.toString('hex') };
  if (v && typeof v === 'object' && v.wrapperName === 'Set') {
    const members = v.values.map(normal).map((m) => JSON.stringify(m)).sort();
    return { $set: v.type, members };
  }
  if (Array.isArray(v)) return v.map(normal);
  if (typeof v === 'number') return { $N: String(v) };
  if (v && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v).sort()) out[k] = normal(v[k]);
    return out;
  }
  return v;
}

function lines(file) {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
}

function items(file) {
  const byId = new Map();
  for (const line of lines(file)) {
    let item;
    try {
      item = Dyno.deserialize(line);
    } catch (err) {
      throw new Error(`${file}: dyno cannot deserialize ${line.slice(0, 200)}: ${err.message}`);
    }
    byId.set(JSON.stringify(normal(item.id)), JSON.stringify(normal(item)));
  }
  return byId;
}

function sameItems(files) {
  const [first, ...rest] = files.map((f) => ({ f, m: items(f) }));
  for (const { f, m } of rest) {
    if (m.size !== first.m.size) throw new Error(`${f} has ${m.size} items, ${first.f} has ${first.m.size}`);
    for (const [id, v] of first.m) {
      if (!m.has(id)) throw new Error(`${f} has no item ${id}`);
      if (m.get(id) !== v) throw new Error(`item ${id} differs:\n${first.f}: ${v}\n${f}: ${m.get(id)}`);
    }
  }
  console.log(`ok ${first.m.size} items`);
}

function sameDescription(a, b) {
  const shape = (file) => {
    const d = JSON.parse(lines(file)[0]);
    const billing = (d.BillingModeSummary && d.BillingModeSummary.BillingMode) || 'PROVISIONED';
    const pt = d.ProvisionedThroughput || {};
    return JSON.stringify(normal({
      TableName: d.TableName,
      KeySchema: d.KeySchema,
      AttributeDefinitions: d.AttributeDefinitions,
      billing,
      throughput: [pt.ReadCapacityUnits, pt.WriteCapacityUnits],
      indexes: (d.GlobalSecondaryIndexes || []).map((i) => i.IndexName).sort(),
      stateless: ['ItemCount', 'TableSizeBytes', 'TableStatus', 'CreationDateTime'].filter((k) => k in d),
    }));
  };
  const sa = shape(a), sb = shape(b);
  if (sa !== sb) throw new Error(`descriptions differ:\n${a}: ${sa}\n${b}: ${sb}`);
  console.log(`ok ${sa}`);
}

try {
  const [cmd, ...args] = process.argv.slice(2);
  if (cmd === 'same-items') sameItems(args);
  else if (cmd === 'same-description') sameDescription(args[0], args[1]);
  else throw new Error('usage: dyno_interop.js same-items FILE... | same-description A B');
} catch (err) {
  console.error(err.message);
  process.exit(1);
}
