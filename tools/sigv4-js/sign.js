#!/usr/bin/env node
// Reference signer for dynarep's SigV4 comparison test (tests/sigv4/sigv4_js_compare_test.cpp).
//
// Reads one JSON request per line on stdin and writes one JSON line per request on stdout:
//   {"authorization": "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..."}
// or {"error": "..."} if the SDK signer threw. Signing is done by the AWS SDK for JavaScript's
// own signer, @smithy/signature-v4 (pinned in package.json), with @aws-crypto/sha256-js.
//
// Input fields:
//   method, hostname, path      path as sent on the wire (already URI-encoded)
//   query                       decoded parameters: {name: value | [value, ...]}
//   headers                     {name: value}
//   body_b64                    the payload, base64 (absent: no body)
//   stream_body                 true: the body is a stream, so the SDK signs UNSIGNED-PAYLOAD
//   credentials                 {accessKeyId, secretAccessKey, sessionToken?}
//   region, service
//   uri_escape_path             SignatureV4's uriEscapePath (false for S3)
//   apply_checksum              SignatureV4's applyChecksum (send x-amz-content-sha256)
//   signing_date                seconds since the epoch
"use strict";

const readline = require("node:readline");
const { SignatureV4 } = require("@smithy/signature-v4");
const { HttpRequest } = require("@smithy/core/protocols");
const { Sha256 } = require("@aws-crypto/sha256-js");

async function signOne(input) {
  const signer = new SignatureV4({
    credentials: input.credentials,
    region: input.region,
    service: input.service,
    sha256: Sha256,
    uriEscapePath: input.uri_escape_path,
    applyChecksum: input.apply_checksum,
  });
  let body;
  if (input.stream_body) {
    body = { pipe() {} };  // neither string nor bytes: the signer treats it as an unsigned stream
  } else if (typeof input.body_b64 === "string") {
    body = Buffer.from(input.body_b64, "base64");
  }
  const request = new HttpRequest({
    method: input.method,
    protocol: "https:",
    hostname: input.hostname,
    path: input.path,
    query: input.query,
    headers: input.headers,
    body,
  });
  const signed = await signer.sign(request, { signingDate: new Date(input.signing_date * 1000) });
  return { authorization: signed.headers["authorization"] };
}

async function main() {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  const out = [];
  for await (const line of rl) {
    if (line.trim() === "") continue;
    try {
      out.push(JSON.stringify(await signOne(JSON.parse(line))));
    } catch (e) {
      out.push(JSON.stringify({ error: String(e && e.stack ? e.stack : e) }));
    }
  }
  process.stdout.write(out.join("\n") + (out.length ? "\n" : ""));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + "\n");
  process.exit(1);
});
