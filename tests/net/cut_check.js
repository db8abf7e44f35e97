// The test servers outlive a client that closes in the middle of a request
// (a producer at its time limit, a tool stopped by a signal): on every port,
// requests are cut after their head, within their body and before their
// head ends, and then a whole request must still get its answer.
//   node cut_check.js PORT...        (plain HTTP ports)
//   node cut_check.js --tls PORT...  (the rest are TLS ports)
'use strict';
const net = require('net');
const tls = require('tls');
const http = require('http');
const https = require('https');

let tlsFrom = Infinity;
const ports = [];
for (const a of process.argv.slice(2)) {
  if (a === '--tls') tlsFrom = ports.length; else ports.push(Number(a));
}
const CUTS = [
  'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n',
  'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 1000\r\n\r\n{"Records":[',
  'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789',
  'POST / HTTP/1.1\r\nHost: x\r\nContent-Len',
];
let passed = 0, failed = 0;
const check = (ok, what) => { if (ok) passed++; else { failed++; console.error(`FAIL - ${what}`); } };

function cut(port, secure, text) {
  return new Promise((resolve) => {
    const opts = { host: '127.0.0.1', port, rejectUnauthorized: false };
    const s = secure ? tls.connect(opts) : net.connect(opts);
    s.on('error', () => resolve());
    s.on(secure ? 'secureConnect' : 'connect', () => {
      s.write(text);
      setTimeout(() => { s.destroy(); resolve(); }, 100);
    });
  });
}

// An unsigned PutRecords: every server answers it (an error document), so an
// answer of any status shows the server is still there.
function whole(port, secure) {
  return new Promise((resolve) => {
    const body = '{"StreamName":"cut-check","Records":[]}';
    const req = (secure ? https : http).request({ host: '127.0.0.1', port, method: 'POST', path: '/', rejectUnauthorized: false,
      agent: false, headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'Kinesis_20131202.PutRecords',
        'Content-Length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', (e) => resolve(e.code || e.message));
    req.setTimeout(5000, () => { req.destroy(); resolve('no answer in 5 s'); });
    req.end(body);
  });
}

(async () => {
  for (let i = 0; i < ports.length; i++) {
    const secure = i >= tlsFrom;
    for (const text of CUTS) await cut(ports[i], secure, text);
    await new Promise((r) => setTimeout(r, 200)); // the server sees the closes
    const status = await whole(ports[i], secure);
    check(typeof status === 'number', `port ${ports[i]}: after ${CUTS.length} cut requests, a whole one got ${status}`);
  }
  console.log(`cut requests: ${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
})();
