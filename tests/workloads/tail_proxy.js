// A proxy between kinagg-tail and the verifying proxy (tests/net/server.js)
// that goes down and comes back on the same port, and fails calls on
// command. Requests pass unchanged (Host too, so signatures still verify).
//   node tail_proxy.js UPSTREAM_PORT LOG_FILE
// Prints {"port":N} when listening. Commands, one a line on stdin:
//   down MS            refuse connections (and drop open ones) for MS ms
//   fail OP KIND N     the next N calls of OP fail: 500, 503, pte
//                      (ProvisionedThroughputExceededException), expired
//                      (ExpiredIteratorException), 408 (empty, and the
//                      connection closed, as servers close idle ones), 429
//                      (TooManyRequestsException), throttling (400
//                      Throttling), expiredtoken (ExpiredNextTokenException),
//                      reset (connection dropped unanswered) or cut (the
//                      answer dropped halfway)
// Logs one JSON line per fault, outage and GetShardIterator call (its type,
// sequence number and Timestamp as decoded from JSON or CBOR, with CBOR's
// tag 1 shown as {"tag1": value}).
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const cbor = require(path.join(__dirname, '..', 'node_modules', 'cbor'));
// the whole document: cbor's encode and Encoder.encodeOne return only the
// first 16 KiB of a larger one
const cborEncode = (obj) => cbor.encodeOne(obj, { highWaterMark: 1 << 26 });

const upstream = +process.argv[2];
const log = fs.createWriteStream(process.argv[3], { flags: 'a' });
const note = (o) => log.write(JSON.stringify(Object.assign({ t: Date.now() }, o)) + '\n');
const faults = []; // { op, kind, left }
let port = 0, server = null;
const sockets = new Set();

function answer(res, status, type, ctype) {
  const isCbor = /cbor/.test(ctype || '');
  const obj = { __type: type, message: `${type} (injected)` };
  const body = isCbor ? cborEncode(obj) : Buffer.from(JSON.stringify(obj));
  res.writeHead(status, { 'Content-Type': ctype || 'application/x-amz-json-1.1', 'x-amzn-ErrorType': type,
                          'Content-Length': body.length });
  res.end(body);
}

async function handle(req, res) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks);
  const op = String(req.headers['x-amz-target'] || '').replace(/^.*\./, '');
  const ctype = req.headers['content-type'] || '';
  if (op === 'GetShardIterator') {
    try {
      // tag 1 (epoch time) kept as { tag1: value }: AWS's CBOR puts milliseconds there
      const d = /cbor/.test(ctype) ? cbor.decodeFirstSync(body, { tags: { 1: (v) => ({ tag1: v }) } })
        : JSON.parse(body.toString());
      note({ op, shard: d.ShardId, type: d.ShardIteratorType, seq: d.StartingSequenceNumber, timestamp: d.Timestamp });
    } catch (e) { note({ op, error: e.message }); }
  }
  const f = faults.find((x) => x.op === op && x.left > 0);
  if (f) {
    f.left--;
    note({ op, fault: f.kind });
    switch (f.kind) {
      case '500': return answer(res, 500, 'InternalFailure', ctype);
      case '503': return answer(res, 503, 'ServiceUnavailable', ctype);
      case 'pte': return answer(res, 400, 'ProvisionedThroughputExceededException', ctype);
      case 'expired': return answer(res, 400, 'ExpiredIteratorException', ctype);
      case '408': res.writeHead(408, { Connection: 'close', 'Content-Length': 0 }); return res.end();
      case '429': return answer(res, 429, 'TooManyRequestsException', ctype);
      case 'throttling': return answer(res, 400, 'Throttling', ctype);
      case 'expiredtoken': return answer(res, 400, 'ExpiredNextTokenException', ctype);
      case 'reset': return req.socket.destroy();
      default: break; // cut: below
    }
  }
  const up = http.request({ host: '127.0.0.1', port: upstream, method: req.method, path: req.url, headers: req.headers },
    (r) => {
      if (f && f.kind === 'cut') { // the head and half the body, then the connection drops
        const got = [];
        r.on('data', (d) => got.push(d));
        r.on('end', () => {
          const all = Buffer.concat(got);
          res.writeHead(r.statusCode, r.headers);
          res.write(all.subarray(0, all.length >> 1), () => setTimeout(() => req.socket.destroy(), 50));
        });
        return;
      }
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
  up.on('error', () => req.socket.destroy());
  up.end(body);
}

function listen(cb) {
  server = http.createServer((req, res) => { handle(req, res).catch(() => req.socket.destroy()); });
  server.keepAliveTimeout = 5000;
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  server.listen(port, '127.0.0.1', () => { port = server.address().port; if (cb) cb(); });
}

listen(() => process.stdout.write(JSON.stringify({ port }) + '\n'));

let pending = '';
process.stdin.on('data', (d) => {
  pending += d;
  let i;
  while ((i = pending.indexOf('\n')) >= 0) {
    const w = pending.slice(0, i).trim().split(/\s+/);
    pending = pending.slice(i + 1);
    if (w[0] === 'down') {
      note({ down: +w[1] });
      server.close();
      for (const s of sockets) s.destroy();
      setTimeout(() => listen(() => note({ up: port })), +w[1]);
    } else if (w[0] === 'fail') {
      faults.push({ op: w[1], kind: w[2], left: +w[3] });
    }
  }
});
process.stdin.on('end', () => process.exit(0));
