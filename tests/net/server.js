// Test servers, on 127.0.0.1 only: kinesalite, and in front of it a proxy
// that verifies every request's SigV4 signature with @smithy/signature-v4
// (an implementation independent of kinagg's) before forwarding it.
//   node server.js [--tls-cert F --tls-key F] [--log FILE]
// Prints one line of JSON with the ports when ready, then serves until
// stdin closes or it is killed. Required as a module, it starts nothing and
// gives its signature check (verify) and error answer (reject) to others.
'use strict';
const http = require('http');
const https = require('https');
const fs = require('fs');
const crypto = require('crypto');
const path = require('path');
const { guard } = require('./guard');
const modules = path.join(__dirname, '..', 'node_modules');
const kinesalite = require(path.join(modules, 'kinesalite'));

const main = require.main === module;
const args = {};
for (let i = 2; main && i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];

// The credentials the tests use; anything else is rejected as AWS would.
const CREDENTIALS = {
  AKIDKINAGGTEST: { secretAccessKey: 'kinagg/test/secret+KEY', sessionToken: undefined },
  ASIAKINAGGTEST: { secretAccessKey: 'kinagg/session/secret', sessionToken: 'kinagg-session-token-123' },
};
const log = args.log ? fs.createWriteStream(args.log, { flags: 'a' }) : null;

const cbor = require(path.join(modules, 'cbor')); // kinesalite's own dependency
// the whole document: cbor's encode and Encoder.encodeOne return only the
// first 16 KiB of a larger one
const cborEncode = (obj) => cbor.encodeOne(obj, { highWaterMark: 1 << 26 });

// An error as AWS sends it: in the protocol of the request.
function reject(res, status, type, message, contentType) {
  const isCbor = /cbor/.test(contentType || '');
  const body = isCbor ? cborEncode({ __type: type, message }) : JSON.stringify({ __type: type, message });
  res.writeHead(status, { 'Content-Type': contentType || 'application/x-amz-json-1.1', 'x-amzn-ErrorType': type,
                          'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

// The SigV4 check, shared with tests/creds/rotating_proxy.js.
const verifySigV4 = require(path.join(__dirname, 'sigv4_verify')).verify;
const verify = (req, body) => verifySigV4(req, body, (akid) => CREDENTIALS[akid]);

function proxy(kport) {
  return async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    let problem;
    try { problem = await verify(req, body); } catch (e) { problem = ['InvalidSignatureException', `verifier: ${e.message}`]; }
    const target = req.headers['x-amz-target'] || '';
    if (log) log.write(JSON.stringify({ t: Date.now(), target, bytes: body.length, problem: problem && problem[0] }) + '\n');
    if (problem) return reject(res, 400, problem[0], problem[1], req.headers['content-type']);
    const fwd = http.request({ host: '127.0.0.1', port: kport, method: req.method, path: req.url,
                               headers: Object.assign({}, req.headers, { host: `127.0.0.1:${kport}` }) }, (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    });
    fwd.on('error', (e) => reject(res, 500, 'InternalFailure', e.message));
    fwd.end(body);
  };
}

// ---- the variants proxy: the same checks; valid answers in other shapes ----
// What other Kinesis implementations send and the AWS SDKs accept: null for
// every absent member, members in reverse order, and members kinagg does
// not know, of every type. The data itself is kinesalite's, unchanged.
// The head has many lines and a length with leading zeros (below).
const MAYBE_NULL = ['ErrorCode', 'ErrorMessage', 'SequenceNumber', 'ShardId', 'EncryptionType', 'NextToken',
  'ParentShardId', 'AdjacentParentShardId', 'EndingSequenceNumber', 'ChildShards', 'KeyId', 'ConsumerCount'];
function variant(v, depth) {
  if (Array.isArray(v)) return v.map((x) => variant(x, depth + 1));
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v) || v instanceof Uint8Array || v instanceof Date) return v;
  const out = {};
  if (depth === 0) out.UnknownObject = { nested: [1, 2.5, -3e2, null, true, false, 'text', { deeper: [] }], empty: {} };
  for (const k of MAYBE_NULL) if (!(k in v)) out[k] = null;
  for (const k of Object.keys(v).reverse()) out[k] = variant(v[k], depth + 1);
  out.UnknownNumber = depth % 2 ? 1.5e3 : -0.25;
  out.UnknownNull = null;
  return out;
}
function variantsProxy(kport) {
  return async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    let problem;
    try { problem = await verify(req, body); } catch (e) { problem = ['InvalidSignatureException', e.message]; }
    const ctype = req.headers['content-type'] || '';
    if (problem) return reject(res, 400, problem[0], problem[1], ctype);
    const up = http.request({ host: '127.0.0.1', port: kport, method: req.method, path: req.url,
      headers: Object.assign({}, req.headers, { host: `127.0.0.1:${kport}` }) }, (r) => {
      const c = [];
      r.on('data', (d) => c.push(d));
      r.on('end', () => {
        let out = Buffer.concat(c);
        const isCbor = /cbor/.test(r.headers['content-type'] || ctype);
        if (out.length) {
          try {
            const doc = isCbor ? cbor.decodeFirstSync(out) : JSON.parse(out.toString());
            out = encode(isCbor, variant(doc, 0));
          } catch (e) { /* not a document: as it came */ }
        }
        // and the head as a proxy or load balancer may shape it: 40 lines
        // of its own first (more than kinagg keeps), then the answer's,
        // its length with leading zeros (1*DIGIT, RFC 9110 8.6)
        const raw = [];
        for (let i = 0; i < 40; i++) raw.push(i % 2 ? 'Set-Cookie' : `X-Proxy-Hop-${i}`, `lb=${i}; Path=/`);
        for (const [k, v] of Object.entries(r.headers)) {
          if (k === 'content-length' || k === 'transfer-encoding') continue;
          for (const x of Array.isArray(v) ? v : [v]) raw.push(k, x);
        }
        raw.push('Content-Length', String(out.length).padStart(24, '0'));
        res.writeHead(r.statusCode, raw);
        res.end(out);
      });
    });
    up.on('error', (e) => reject(res, 500, 'InternalFailure', e.message, ctype));
    up.end(body);
  };
}

// ---- the fault proxy: the same checks, then failures of every kind --------
const common = require(path.join(modules, 'aws-kinesis-agg', 'lib', 'common'));
const faultLog = args['fault-log'] ? fs.createWriteStream(args['fault-log'], { flags: 'a' }) : null;
const MAGIC = Buffer.from('f3899ac2', 'hex');

// The ids ("rec-<n>-...") of the user records in one entry's data.
function userIds(data) {
  const id = (b) => { const m = /^rec-(\d+)-/.exec(b.toString('latin1', 0, 32)); return m ? m[1] : '?'; };
  if (data.length > 20 && data.subarray(0, 4).equals(MAGIC)) {
    try { return common.AggregatedRecord.decode(data.subarray(4, data.length - 16)).records.map((r) => id(Buffer.from(r.data))); }
    catch (e) { /* a plain record after all */ }
  }
  return [id(data)];
}

function encode(isCbor, obj) { return isCbor ? cborEncode(obj) : Buffer.from(JSON.stringify(obj)); }

function faultProxy(kport) {
  let n = 0;
  const forward = (req, body) => new Promise((resolve, reject) => {
    const up = http.request({ host: '127.0.0.1', port: kport, method: 'POST', path: '/',
      headers: Object.assign({}, req.headers, { host: `127.0.0.1:${kport}`, 'content-length': body.length }) }, (r) => {
      const c = [];
      r.on('data', (d) => c.push(d));
      r.on('end', () => resolve({ status: r.statusCode, headers: r.headers, body: Buffer.concat(c) }));
    });
    up.on('error', reject);
    up.end(body);
  });
  return async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    let problem;
    try { problem = await verify(req, body); } catch (e) { problem = ['InvalidSignatureException', e.message]; }
    const ctype = req.headers['content-type'] || '';
    if (problem) return reject(res, 400, problem[0], problem[1], ctype);
    if (req.headers['x-amz-target'] !== 'Kinesis_20131202.PutRecords') {
      const r = await forward(req, body);
      res.writeHead(r.status, r.headers);
      return res.end(r.body);
    }
    const isCbor = /cbor/.test(ctype);
    const doc = isCbor ? cbor.decodeFirstSync(body) : JSON.parse(body.toString());
    const datas = doc.Records.map((e) => (isCbor ? Buffer.from(e.Data) : Buffer.from(e.Data, 'base64')));
    const entries = datas.map((d) => ({ ids: userIds(d) }));
    const num = ++n;
    const logIt = (outcome) => { if (faultLog) faultLog.write(JSON.stringify({ n: num, stream: doc.StreamName, outcome, entries }) + '\n'); };
    const blackhole = String(doc.StreamName || '').startsWith('blackhole');
    // whole-request failures, none forwarded (so nothing is stored)
    if (!blackhole && num % 9 === 4) { logIt('503'); return reject(res, 503, 'ServiceUnavailable', 'injected', ctype); }
    if (!blackhole && num % 9 === 7) { logIt('500'); return reject(res, 500, 'InternalFailure', 'injected', ctype); }
    if (!blackhole && num % 13 === 5) { logIt('reset'); return req.socket.destroy(); }
    if (!blackhole && num % 15 === 11) { logIt('stall'); return setTimeout(() => req.socket.destroy(), 8000); }
    // per-entry failures: about one entry in five (all of them for a blackhole)
    const failIdx = new Set();
    datas.forEach((d, i) => {
      if (blackhole || crypto.createHash('md5').update(d).update(String(num)).digest()[0] % 5 === 0) failIdx.add(i);
    });
    const keep = doc.Records.filter((e, i) => !failIdx.has(i));
    let results = [];
    if (keep.length) {
      const r = await forward(req, encode(isCbor, Object.assign({}, doc, { Records: keep })));
      if (r.status !== 200) { res.writeHead(r.status, r.headers); return res.end(r.body); }
      results = (isCbor ? cbor.decodeFirstSync(r.body) : JSON.parse(r.body.toString())).Records;
    }
    const merged = doc.Records.map((e, i) => {
      if (failIdx.has(i)) {
        const pte = (i + num) % 2 === 0;
        entries[i].result = pte ? 'PTE' : 'InternalFailure';
        return pte ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded (injected)' }
                   : { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure (injected)' };
      }
      entries[i].result = 'ok';
      return results.shift();
    });
    const out = encode(isCbor, { FailedRecordCount: failIdx.size, Records: merged });
    // "ok" only once the producer has the answer; a client that gave up
    // first (its time limit) will rightly send those records again
    let logged = false;
    res.on('finish', () => { if (!logged) { logged = true; logIt('ok'); } });
    res.on('close', () => { if (!logged) { logged = true; logIt('lost'); } });
    res.writeHead(200, { 'Content-Type': isCbor ? 'application/x-amz-cbor-1.1' : 'application/x-amz-json-1.1',
                         'Content-Length': out.length });
    res.end(out);
  };
}

module.exports = { verify, reject };
if (!main) return; // required as a module: nothing to start

// kinesalite throws from its request's 'error' listener when a client closes
// in the middle of a request (its index.js: req.on('error', function(err) {
// throw err })). That request is over; the server and its streams are not.
// Anything else still ends the process, with its stack on stderr.
process.on('uncaughtException', (e) => {
  if (e && (e.code === 'ECONNRESET' || e.message === 'aborted')) return;
  process.stderr.write(`${e && e.stack || e}\n`);
  process.exit(70);
});

const kserver = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 10000 });
kserver.listen(0, '127.0.0.1', () => {
  const kport = kserver.address().port;
  const plain = http.createServer(guard(proxy(kport)));
  plain.keepAliveTimeout = 5000;
  const faulty = http.createServer(guard(faultProxy(kport)));
  faulty.keepAliveTimeout = 5000;
  faulty.listen(0, '127.0.0.1');
  const variants = http.createServer(guard(variantsProxy(kport)));
  variants.keepAliveTimeout = 5000;
  variants.listen(0, '127.0.0.1');
  plain.listen(0, '127.0.0.1', () => {
    const ports = { kinesalite: kport, proxy: plain.address().port, faults: faulty.address().port,
                    variants: variants.address().port };
    const finish = () => { process.stdout.write(JSON.stringify(ports) + '\n'); };
    // TLS listeners: a good certificate, and one that expired
    const tlsServers = [['tls', 'tls-cert', 'tls-key'], ['tls_expired', 'tls-expired-cert', 'tls-expired-key']]
      .filter(([, cert]) => args[cert]);
    let pending = tlsServers.length;
    if (!pending) return finish();
    for (const [name, cert, key] of tlsServers) {
      const tls = https.createServer({ cert: fs.readFileSync(args[cert]), key: fs.readFileSync(args[key]) }, guard(proxy(kport)));
      tls.keepAliveTimeout = 5000;
      tls.listen(0, '127.0.0.1', () => { ports[name] = tls.address().port; if (--pending === 0) finish(); });
    }
  });
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
