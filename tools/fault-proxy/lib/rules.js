// Fault rules: validation of the JSON the control API receives, matching against requests, and
// the after/count/probability decision of whether a matching rule fires.
'use strict';

const COMMON_FIELDS = ['name', 'match', 'fault', 'probability', 'count', 'after'];

// Each fault kind and the extra parameters it accepts. Unknown fields are rejected so that a
// typo in a test ("probabilty") fails loudly instead of silently injecting nothing.
const KIND_PARAMS = {
  drop: ['forward'],
  reset_mid_body: ['bytes'],
  delay: ['ms', 'phase'],
  status: ['status', 'code', 'message'],
  throttle: ['code', 'message'],
  truncate: ['bytes'],
  corrupt_crc32: [],
  error: ['status', 'code', 'message'],
};
const MATCH_FIELDS = ['target', 'method', 'path'];

class RuleError extends Error {}

function fail(where, msg) {
  throw new RuleError(`${where}: ${msg}`);
}

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function checkInt(where, name, v, min) {
  if (!Number.isInteger(v) || v < min) fail(where, `"${name}" must be an integer >= ${min}`);
}

function checkOptString(where, name, v) {
  if (v !== undefined && (typeof v !== 'string' || v === '')) fail(where, `"${name}" must be a non-empty string`);
}

// A string or a non-empty array of strings -> array of strings.
function stringList(where, name, v) {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || list.some((s) => typeof s !== 'string' || s === '')) {
    fail(where, `"match.${name}" must be a non-empty string or array of strings`);
  }
  return list;
}

// X-Amz-Target matching: "Svc.Op" matches exactly (so DescribeTable does not also catch
// DescribeTableReplicaAutoScaling); "Svc" or "Svc." matches every operation of the service;
// a trailing '*' is a plain prefix ("DynamoDB_20120810.Batch*").
function targetMatcher(pattern) {
  if (pattern.endsWith('*')) {
    const prefix = pattern.slice(0, -1);
    return (t) => t.startsWith(prefix);
  }
  if (pattern.endsWith('.')) return (t) => t.startsWith(pattern);
  return (t) => t === pattern || t.startsWith(pattern + '.');
}

function compileMatch(where, m) {
  if (m === undefined) return () => true;
  if (!isObject(m)) fail(where, '"match" must be an object');
  for (const k of Object.keys(m)) {
    if (!MATCH_FIELDS.includes(k)) fail(where, `unknown field "match.${k}" (allowed: ${MATCH_FIELDS.join(', ')})`);
  }
  const tests = [];
  if (m.target !== undefined) {
    const matchers = stringList(where, 'target', m.target).map(targetMatcher);
    tests.push((req) => {
      const t = req.headers['x-amz-target'];
      return typeof t === 'string' && matchers.some((f) => f(t));
    });
  }
  if (m.method !== undefined) {
    const methods = stringList(where, 'method', m.method).map((s) => s.toUpperCase());
    tests.push((req) => methods.includes(req.method));
  }
  if (m.path !== undefined) {
    if (typeof m.path !== 'string') fail(where, '"match.path" must be a regular expression string');
    let re;
    try {
      re = new RegExp(m.path);
    } catch (e) {
      fail(where, `"match.path" is not a valid regular expression: ${e.message}`);
    }
    tests.push((req) => re.test(req.url)); // path plus query string, as the client sent it
  }
  return (req) => tests.every((t) => t(req));
}

// Checks one rule's kind-specific parameters and fills in defaults; returns the parameters.
function compileParams(where, r) {
  const p = {};
  switch (r.fault) {
    case 'drop':
      if (r.forward !== undefined && typeof r.forward !== 'boolean') fail(where, '"forward" must be a boolean');
      p.forward = r.forward === true;
      break;
    case 'reset_mid_body':
    case 'truncate':
      if (r.bytes !== undefined) checkInt(where, 'bytes', r.bytes, 0);
      p.bytes = r.bytes; // undefined: half of the body
      break;
    case 'delay':
      checkInt(where, 'ms', r.ms, 0);
      if (r.phase !== undefined && r.phase !== 'request' && r.phase !== 'response') {
        fail(where, '"phase" must be "request" or "response"');
      }
      p.ms = r.ms;
      p.phase = r.phase || 'request';
      break;
    case 'status':
      if (r.status !== undefined) checkInt(where, 'status', r.status, 500);
      if (r.status !== undefined && r.status > 599) fail(where, '"status" must be a 5xx code');
      checkOptString(where, 'code', r.code);
      checkOptString(where, 'message', r.message);
      p.status = r.status || 500;
      p.code = r.code;
      p.message = r.message;
      break;
    case 'throttle':
      checkOptString(where, 'code', r.code);
      checkOptString(where, 'message', r.message);
      p.code = r.code;
      p.message = r.message;
      break;
    case 'corrupt_crc32':
      break;
    case 'error':
      checkInt(where, 'status', r.status, 400);
      if (r.status > 599) fail(where, '"status" must be a 4xx or 5xx code');
      if (typeof r.code !== 'string' || r.code === '') fail(where, '"code" is required (e.g. "ValidationException")');
      checkOptString(where, 'message', r.message);
      p.status = r.status;
      p.code = r.code;
      p.message = r.message || `${r.code} (injected by fault-proxy)`;
      break;
    default:
      fail(where, `unknown fault "${r.fault}" (one of: ${Object.keys(KIND_PARAMS).join(', ')})`);
  }
  return p;
}

// mulberry32: a tiny PRNG, good enough for coin flips, and repeatable for a given seed.
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Each rule draws from its own stream, derived from the seed and its position, so one rule's
// decisions depend only on the requests it matched, not on what other rules did.
function ruleRandom(seed, index) {
  if (seed === null || seed === undefined) return Math.random;
  return mulberry32((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
}

function compileRule(r, index, seed) {
  const where = `rules[${index}]`;
  if (!isObject(r)) fail(where, 'must be an object');
  if (typeof r.fault !== 'string') fail(where, '"fault" is required');
  const allowed = COMMON_FIELDS.concat(KIND_PARAMS[r.fault] || []);
  const params = compileParams(where, r);
  for (const k of Object.keys(r)) {
    if (!allowed.includes(k)) fail(where, `unknown field "${k}" for fault "${r.fault}" (allowed: ${allowed.join(', ')})`);
  }
  checkOptString(where, 'name', r.name);
  if (r.probability !== undefined &&
      (typeof r.probability !== 'number' || !(r.probability >= 0 && r.probability <= 1))) {
    fail(where, '"probability" must be a number in [0, 1]');
  }
  if (r.count !== undefined) checkInt(where, 'count', r.count, 0);
  if (r.after !== undefined) checkInt(where, 'after', r.after, 0);
  return {
    index,
    name: r.name || null,
    fault: r.fault,
    spec: r, // as given, for GET /rules
    matches: compileMatch(where, r.match),
    probability: r.probability === undefined ? 1 : r.probability,
    count: r.count === undefined ? Infinity : r.count,
    after: r.after || 0,
    params,
    random: ruleRandom(seed, index),
    seen: 0, // matching requests so far (drives "after")
    applied: 0, // times fired so far (drives "count")
    stats: { matched: 0, hits: 0 }, // reported by GET /stats; zeroed by POST /reset-stats
  };
}

// Parses a POST /rules body ({"rules": [...], "seed": N}) into compiled rules.
// Throws RuleError with a message naming the offending rule and field.
function compileRules(body, defaultSeed) {
  if (!isObject(body)) throw new RuleError('body must be a JSON object {"rules": [...]}');
  for (const k of Object.keys(body)) {
    if (k !== 'rules' && k !== 'seed') throw new RuleError(`unknown field "${k}" (allowed: rules, seed)`);
  }
  if (!Array.isArray(body.rules)) throw new RuleError('"rules" must be an array');
  if (body.seed !== undefined && !Number.isInteger(body.seed)) throw new RuleError('"seed" must be an integer');
  const seed = body.seed !== undefined ? body.seed : defaultSeed;
  return body.rules.map((r, i) => compileRule(r, i, seed));
}

// The first rule that matches the request and passes its after/count/probability gates, or
// null. Rules are tried in order; once one fires, later rules do not see the request at all.
function pickRule(rules, req) {
  for (const rule of rules) {
    if (!rule.matches(req)) continue;
    rule.seen++;
    rule.stats.matched++;
    if (rule.seen <= rule.after) continue;
    if (rule.applied >= rule.count) continue;
    if (rule.probability < 1 && !(rule.random() < rule.probability)) continue;
    rule.applied++;
    rule.stats.hits++;
    return rule;
  }
  return null;
}

module.exports = { compileRules, pickRule, RuleError, KIND_PARAMS };
