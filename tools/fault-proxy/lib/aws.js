// AWS-shaped error responses: which protocol a request speaks, and the bodies and headers a
// real service would send for a server error, a throttle or an arbitrary error code.
'use strict';
const crypto = require('crypto');

// CRC-32 (IEEE), as DynamoDB puts in `x-amz-crc32`. Own table so that no particular Node
// version (zlib.crc32 arrived in 20.15) is needed.
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// A request is JSON-protocol (DynamoDB, DynamoDB Streams, Kinesis) when it names its operation
// in X-Amz-Target; anything else is treated as S3 (REST-XML).
function protocolOf(req) {
  const target = req.headers['x-amz-target'];
  if (!target) return { json: false, service: 's3', target: null };
  if (/^DynamoDB/.test(target)) return { json: true, service: 'dynamodb', target };
  if (/^Kinesis/.test(target)) return { json: true, service: 'kinesis', target };
  return { json: true, service: 'other', target };
}

// DynamoDB qualifies error types with a namespace (SDKs keep the part after '#'); Kinesis and
// kinesalite send bare names. A code that already has a '#' is used as given.
function qualifiedType(service, code) {
  if (code.includes('#')) return code;
  if (service !== 'dynamodb') return code;
  if (code === 'ThrottlingException') return 'com.amazon.coral.availability#ThrottlingException';
  return `com.amazonaws.dynamodb.v20120810#${code}`;
}

function xmlEscape(s) {
  return String(s).replace(/[<>&'"]/g, (c) => ({
    '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;',
  })[c]);
}

// Builds {status, headers, body} for an error with the given HTTP status and error code, in the
// request's protocol.
function errorResponse(req, status, code, message) {
  const proto = protocolOf(req);
  const requestId = crypto.randomBytes(16).toString('hex').toUpperCase();
  if (proto.json) {
    const body = Buffer.from(JSON.stringify({ __type: qualifiedType(proto.service, code), message }));
    // Answer in the JSON flavour the client used (DynamoDB 1.0, Kinesis 1.1).
    const ct = req.headers['content-type'];
    const headers = {
      'Content-Type': /^application\/x-amz-json-1\.[01]/.test(ct || '') ? ct : 'application/x-amz-json-1.0',
      'Content-Length': String(body.length),
      'x-amzn-RequestId': requestId,
    };
    // Real DynamoDB checksums every response, errors included; clients may verify it.
    if (proto.service === 'dynamodb') headers['x-amz-crc32'] = String(crc32(body));
    return { status, headers, body };
  }
  const body = Buffer.from(
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message>` +
    `<Resource>${xmlEscape(req.url.split('?')[0])}</Resource><RequestId>${requestId}</RequestId></Error>`);
  return {
    status,
    headers: {
      'Content-Type': 'application/xml',
      'Content-Length': String(body.length),
      'x-amz-request-id': requestId,
      'x-amz-id-2': crypto.randomBytes(24).toString('base64'),
    },
    body,
  };
}

// Defaults for the `status` fault: the code a service sends with a 500 or a 503.
function serverErrorCode(req, status) {
  const { service } = protocolOf(req);
  if (status === 503) return 'ServiceUnavailable';
  if (service === 'dynamodb') return 'InternalServerError';
  if (service === 's3') return 'InternalError';
  return 'InternalFailure';
}

function serverErrorMessage(json, status) {
  if (status === 503) return json ? 'Service unavailable (injected by fault-proxy)' : 'Service is unable to handle request.';
  return json ? 'Internal server error (injected by fault-proxy)' : 'We encountered an internal error. Please try again.';
}

const THROTTLE_MESSAGES = {
  ProvisionedThroughputExceededException:
    'The level of configured provisioned throughput for the table was exceeded. ' +
    'Consider increasing your provisioning level with the UpdateTable API.',
  ThrottlingException: 'Rate exceeded',
  LimitExceededException: 'Too many requests; the limit was exceeded (injected by fault-proxy)',
};

// The `throttle` fault: JSON services answer 400 + a throttling __type, S3 answers 503 SlowDown.
function throttleResponse(req, code, message) {
  if (!protocolOf(req).json) {
    return errorResponse(req, 503, 'SlowDown', message || 'Please reduce your request rate.');
  }
  const c = code || 'ProvisionedThroughputExceededException';
  const kinesis = protocolOf(req).service === 'kinesis';
  const fallback = kinesis && c === 'ProvisionedThroughputExceededException'
    ? 'Rate exceeded for shard (injected by fault-proxy)'
    : THROTTLE_MESSAGES[c] || 'Throttled (injected by fault-proxy)';
  return errorResponse(req, 400, c, message || fallback);
}

function serverErrorResponse(req, status, code, message) {
  return errorResponse(req, status, code || serverErrorCode(req, status),
    message || serverErrorMessage(protocolOf(req).json, status));
}

module.exports = { crc32, protocolOf, errorResponse, throttleResponse, serverErrorResponse };
