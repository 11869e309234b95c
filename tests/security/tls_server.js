// An HTTPS server with the certificate it is given, for tests/security/tls_test.cpp:
//   node tls_server.js KEY CERT
// listens on 127.0.0.1 and a free port, prints {"port":N} on one line, answers every request
// with 200 and a DynamoDB ListTables body (so a client that skipped verification would
// "succeed" visibly), and exits when its stdin closes.
'use strict';
const fs = require('fs');
const https = require('https');

const [key, cert] = process.argv.slice(2);
const server = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.0' });
    res.end('{"TableNames":["tls-verification-was-skipped"]}');
  });
});
server.on('tlsClientError', () => {});  // the client hanging up on our certificate is the point
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
