// The proxy itself: forwards requests to one upstream (keep-alive on both sides, bodies streamed)
// and injects the fault of the first rule that fires; plus the JSON control API.
'use strict';
const http = require('http');
const { pipeline } = require('stream');
const { compileRules, pickRule, RuleError, KIND_PARAMS } = require('./rules');
const aws = require('./aws');

// Hop-by-hop headers belong to one connection and are not forwarded (RFC 9110 7.6.1). Expect is
// dropped too: our server already answered "100 Continue" to the client, and the upstream would
// otherwise send a second one that nobody wants.
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'expect',
]);

// rawHeaders ([name, value, name, value, ...], original case and order) minus hop-by-hop ones,
// including any the Connection header names.
function endToEndHeaders(raw) {
  const drop = new Set(HOP_BY_HOP);
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].toLowerCase() === 'connection') {
      for (const n of raw[i + 1].split(',')) drop.add(n.trim().toLowerCase());
    }
  }
  const out = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!drop.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

function getHeader(raw, name) {
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === name) return raw[i + 1];
  return undefined;
}

// Replaces every occurrence of `name` (keeping the first one's spelling and position), or
// appends it; value undefined removes it.
function setHeader(raw, name, value) {
  const out = [];
  let placed = false;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].toLowerCase() !== name.toLowerCase()) {
      out.push(raw[i], raw[i + 1]);
    } else if (!placed && value !== undefined) {
      out.push(raw[i], String(value));
      placed = true;
    }
  }
  if (!placed && value !== undefined) out.push(name, String(value));
  return out;
}

// How long reset_mid_body waits between the partial body and the RST.
const RESET_PAUSE_MS = 20;

function readAll(stream, cb) {
  const chunks = [];
  stream.on('data', (c) => chunks.push(c));
  stream.on('end', () => cb(null, Buffer.concat(chunks)));
  stream.on('error', cb);
}

function emptyStats() {
  const faults = {};
  for (const k of Object.keys(KIND_PARAMS)) faults[k] = 0;
  return { total: 0, passed: 0, faulted: 0, upstream_errors: 0, faults, operations: {} };
}

class FaultProxy {
  // options: target (URL string), seed (integer or null), log (function(line) or null)
  constructor({ target, seed = null, log = null }) {
    const url = new URL(target);
    if (url.protocol !== 'http:') throw new Error(`--target must be an http:// URL, got ${target}`);
    this.upstream = { host: url.hostname, port: Number(url.port) || 80 };
    this.targetUrl = `http://${url.host}`;
    this.seed = seed;
    this.log = log;
    this.rules = [];
    this.counters = emptyStats();
    // Node's agent honours the upstream's "Keep-Alive: timeout=N" hint, so idle pooled sockets
    // are retired before dynalite/s3rver close them (avoiding reuse-after-close resets).
    this.agent = new http.Agent({ keepAlive: true });
    this.server = http.createServer((req, res) => this.handle(req, res));
    // Be more patient than the clients' pools, so an idle connection the client reuses is never
    // one we are closing at that very moment: that would be a failure we did not inject.
    this.server.keepAliveTimeout = 60_000;
    this.server.headersTimeout = 65_000;
    this.control = http.createServer((req, res) => this.handleControl(req, res));
  }

  listen({ host = '127.0.0.1', port = 0, controlPort = 0 } = {}) {
    const one = (server, p) => new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, host, () => resolve(server.address().port));
    });
    return Promise.all([one(this.server, port), one(this.control, controlPort)])
      .then(([p, c]) => ({ port: p, control_port: c }));
  }

  close() {
    this.agent.destroy();
    this.server.closeAllConnections();
    this.control.closeAllConnections();
    return Promise.all([this.server, this.control].map((s) => new Promise((r) => s.close(() => r()))));
  }

  // ---- rules and stats ------------------------------------------------------------------

  setRules(body) {
    this.rules = compileRules(body, this.seed);
  }

  stats() {
    return {
      ...this.counters,
      rules: this.rules.map((r) => ({ index: r.index, name: r.name, fault: r.fault, ...r.stats })),
    };
  }

  // Zeroes what GET /stats reports. The rules' own after/count progress is left alone: it is
  // part of the rule, and only replacing the rules restarts it.
  resetStats() {
    this.counters = emptyStats();
    for (const r of this.rules) r.stats = { matched: 0, hits: 0 };
  }

  // ---- proxied traffic ------------------------------------------------------------------

  handle(req, res) {
    // A client going away mid-request is normal here (some faults cause it); never let the
    // resulting stream errors escape as unhandled 'error' events.
    req.on('error', () => {});
    res.on('error', () => {});
    const c = this.counters;
    c.total++;
    const op = req.headers['x-amz-target'] || req.method;
    c.operations[op] = (c.operations[op] || 0) + 1;

    const rule = pickRule(this.rules, req);
    if (!rule) {
      c.passed++;
      this.forward(req, res, (upRes) => this.relay(upRes, res));
      return;
    }
    c.faulted++;
    c.faults[rule.fault]++;
    if (this.log) {
      this.log(`rule ${rule.index}${rule.name ? ` (${rule.name})` : ''}: ${rule.fault} ` +
        `${req.method} ${req.url}${req.headers['x-amz-target'] ? ' ' + req.headers['x-amz-target'] : ''}`);
    }
    FAULTS[rule.fault].call(this, req, res, rule.params);
  }

  // Sends the request upstream, streaming its body; calls onResponse(upstreamResponse).
  // Upstream failures become a 502 if nothing has been sent to the client yet, else a
  // destroyed client connection (the same thing the client would see without the proxy).
  forward(req, res, onResponse) {
    const upReq = http.request({
      host: this.upstream.host,
      port: this.upstream.port,
      method: req.method,
      path: req.url,
      // The client's Host header goes through unchanged, so SigV4 signatures stay valid.
      headers: endToEndHeaders(req.rawHeaders),
      agent: this.agent,
    });
    let finished = false;
    upReq.on('response', (upRes) => {
      upRes.on('error', () => {});
      upRes.on('end', () => { finished = true; });
      onResponse(upRes);
    });
    upReq.on('error', (err) => {
      if (finished) return;
      this.counters.upstream_errors++;
      if (res.headersSent || res.destroyed) {
        req.socket.destroy();
        return;
      }
      const body = `fault-proxy: upstream ${this.targetUrl} failed: ${err.code || err.message}\n`;
      res.writeHead(502, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
    // The client went away before the exchange was over: abandon the upstream side too.
    res.on('close', () => {
      if (!finished) upReq.destroy();
    });
    req.pipe(upReq);
  }

  // Relays an upstream response unchanged (status, end-to-end headers, body bytes).
  relay(upRes, res, rawHeaders = endToEndHeaders(upRes.rawHeaders)) {
    res.writeHead(upRes.statusCode, upRes.statusMessage, rawHeaders);
    pipeline(upRes, res, () => {});
  }

  // Answers with a synthesized {status, headers, body}, after reading the request body so the
  // connection stays usable for keep-alive.
  respond(req, res, { status, headers, body }) {
    req.on('end', () => {
      res.writeHead(status, headers);
      res.end(body);
    });
    req.resume();
  }

  // Forwards, buffers the whole upstream response, then sends its status and headers with a
  // Content-Length of the full body but only part of the body; then() gets the socket once
  // those bytes are written.
  sendPartial(req, res, bytes, then) {
    this.forward(req, res, (upRes) => {
      readAll(upRes, (err, body) => {
        if (err) return req.socket.destroy();
        let headers = endToEndHeaders(upRes.rawHeaders);
        headers = setHeader(headers, 'transfer-encoding', undefined);
        if (getHeader(headers, 'content-length') === undefined) {
          headers = setHeader(headers, 'Content-Length', body.length);
        }
        // Default half the body; never all of it, or it would not be short.
        const n = Math.max(0, Math.min(bytes === undefined ? Math.floor(body.length / 2) : bytes, body.length - 1));
        const socket = res.socket;
        if (!socket || socket.destroyed) return; // the client already left
        res.writeHead(upRes.statusCode, upRes.statusMessage, headers);
        if (n > 0) {
          res.write(body.subarray(0, n), () => then(socket));
        } else {
          res.flushHeaders();
          // An empty write's callback runs once everything queued before it is written.
          socket.write(Buffer.alloc(0), () => then(socket));
        }
      });
    });
  }

  // ---- control API ----------------------------------------------------------------------

  handleControl(req, res) {
    const reply = (status, obj) => {
      const body = JSON.stringify(obj, null, 2) + '\n';
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    };
    const route = `${req.method} ${req.url.split('?')[0]}`;
    readAll(req, (err, raw) => {
      if (err) return;
      try {
        switch (route) {
          case 'POST /rules': {
            let body;
            try {
              body = JSON.parse(raw.toString('utf8'));
            } catch (e) {
              return reply(400, { error: `body is not JSON: ${e.message}` });
            }
            this.setRules(body);
            return reply(200, { ok: true, rules: this.rules.length });
          }
          case 'GET /rules':
            return reply(200, { rules: this.rules.map((r) => r.spec) });
          case 'DELETE /rules':
            this.rules = [];
            return reply(200, { ok: true, rules: 0 });
          case 'GET /stats':
            return reply(200, this.stats());
          case 'POST /reset-stats':
            this.resetStats();
            return reply(200, { ok: true });
          default:
            return reply(404, {
              error: `no such endpoint: ${route}`,
              endpoints: ['POST /rules', 'GET /rules', 'DELETE /rules', 'GET /stats', 'POST /reset-stats'],
            });
        }
      } catch (e) {
        if (e instanceof RuleError) return reply(400, { error: e.message });
        return reply(500, { error: String(e && e.stack || e) });
      }
    });
  }
}

// Fault handlers, called with `this` = the proxy. Each owns the exchange from here on.
const FAULTS = {
  // No response at all. With forward: true the request still reaches the upstream (and takes
  // effect there) first: the "did my write happen?" case.
  drop(req, res, p) {
    if (!p.forward) {
      req.socket.destroy();
      return;
    }
    this.forward(req, res, (upRes) => {
      upRes.on('end', () => req.socket.destroy());
      upRes.on('error', () => req.socket.destroy());
      upRes.resume();
    });
  },

  // Part of the real body, then an abortive close (TCP RST): the client sees ECONNRESET.
  reset_mid_body(req, res, p) {
    this.sendPartial(req, res, p.bytes, (socket) => {
      // Pause before the RST so the client reads the partial bytes first and then the reset.
      // Arriving together, some event loops (libuv: a hang-up after a partial read) report
      // them as a plain end of stream, and the RST could discard bytes not yet sent.
      setTimeout(() => {
        if (!socket.destroyed) socket.resetAndDestroy();
      }, RESET_PAUSE_MS);
    });
  },

  delay(req, res, p) {
    if (p.phase === 'request') {
      const timer = setTimeout(() => this.forward(req, res, (upRes) => this.relay(upRes, res)), p.ms);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    // phase "response": the upstream has already acted when the client is kept waiting.
    this.forward(req, res, (upRes) => {
      const timer = setTimeout(() => this.relay(upRes, res), p.ms);
      res.on('close', () => clearTimeout(timer));
    });
  },

  status(req, res, p) {
    this.respond(req, res, aws.serverErrorResponse(req, p.status, p.code, p.message));
  },

  throttle(req, res, p) {
    this.respond(req, res, aws.throttleResponse(req, p.code, p.message));
  },

  error(req, res, p) {
    this.respond(req, res, aws.errorResponse(req, p.status, p.code, p.message));
  },

  // Part of the real body under the full Content-Length, then an orderly close (FIN): the
  // client sees a premature end of the body.
  truncate(req, res, p) {
    this.sendPartial(req, res, p.bytes, (socket) => {
      socket.end();
      socket.once('finish', () => socket.destroy());
    });
  },

  // The real response with a wrong x-amz-crc32 (the real value + 1); if the upstream sent
  // none, the wrong value is computed from the body.
  corrupt_crc32(req, res) {
    this.forward(req, res, (upRes) => {
      const raw = endToEndHeaders(upRes.rawHeaders);
      const given = getHeader(raw, 'x-amz-crc32');
      if (given !== undefined && /^\d+$/.test(given)) {
        this.relay(upRes, res, setHeader(raw, 'x-amz-crc32', (Number(given) + 1) % 2 ** 32));
        return;
      }
      readAll(upRes, (err, body) => {
        if (err) return req.socket.destroy();
        let headers = setHeader(raw, 'x-amz-crc32', (aws.crc32(body) + 1) % 2 ** 32);
        headers = setHeader(headers, 'transfer-encoding', undefined);
        headers = setHeader(headers, 'content-length', body.length);
        res.writeHead(upRes.statusCode, upRes.statusMessage, headers);
        res.end(body);
      });
    });
  },
};

module.exports = { FaultProxy };
