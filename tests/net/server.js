// Test servers, on 127.0.0.1 only: kinesalite, and in front of it a proxy
// that verifies every request's SigV4 signature with @smithy/signature-v4
// (an implementation independent of kinagg's) before forwarding it.
//   node server.js [--tls-cert F --tls-key F] [--log FILE]
// Prints one line of JSON with the ports when ready, then serves until
// stdin closes or it is killed.
'use strict';
const http = require('http');
const https = require('https');
const fs = require('fs');
const path = require('path');
const modules = path.join(__dirname, '..', 'node_modules');
const kinesalite = require(path.join(modules, 'kinesalite'));
const { SignatureV4 } = require(path.join(modules, '@smithy/signature-v4'));
const { Hash } = require(path.join(modules, '@smithy/hash-node'));

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];

// The credentials the tests use; anything else is rejected as AWS would.
const CREDENTIALS = {
  AKIDKINAGGTEST: { secretAccessKey: 'kinagg/test/secret+KEY', sessionToken: undefined },
  ASIAKINAGGTEST: { secretAccessKey: 'kinagg/session/secret', sessionToken: 'kinagg-session-token-123' },
};
const log = args.log ? fs.createWriteStream(args.log, { flags: 'a' }) : null;

const cbor = require(path.join(modules, 'cbor')); // kinesalite's own dependency

// An error as AWS sends it: in the protocol of the request.
function reject(res, status, type, message, contentType) {
  const isCbor = /cbor/.test(contentType || '');
  const body = isCbor ? cbor.encode({ __type: type, message }) : JSON.stringify({ __type: type, message });
  res.writeHead(status, { 'Content-Type': contentType || 'application/x-amz-json-1.1', 'x-amzn-ErrorType': type,
                          'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

async function verify(req, body) {
  const auth = req.headers.authorization || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return ['IncompleteSignatureException', 'Authorization header is missing or malformed'];
  const [, akid, day, region, service, signedHeaders, signature] = m;
  const cred = CREDENTIALS[akid];
  if (!cred) return ['UnrecognizedClientException', 'The security token included in the request is invalid.'];
  const amzDate = req.headers['x-amz-date'] || '';
  const t = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!t || t[1] + t[2] + t[3] !== day) return ['IncompleteSignatureException', 'X-Amz-Date missing or not matching the scope'];
  const when = Date.UTC(+t[1], +t[2] - 1, +t[3], +t[4], +t[5], +t[6]);
  if (Math.abs(when - Date.now()) > 15 * 60 * 1000)
    return ['InvalidSignatureException', `Signature expired: ${amzDate} is now earlier than the allowed window`];
  if (cred.sessionToken && req.headers['x-amz-security-token'] !== cred.sessionToken)
    return ['UnrecognizedClientException', 'The security token included in the request is invalid.'];
  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) return ['InvalidSignatureException', 'host and x-amz-date must be signed'];
  const headers = {};
  for (const n of names) {
    if (req.headers[n] === undefined) return ['InvalidSignatureException', `signed header ${n} is missing`];
    headers[n] = req.headers[n];
  }
  const q = req.url.indexOf('?');
  const query = {};
  if (q >= 0) for (const [k, v] of new URLSearchParams(req.url.slice(q + 1))) query[k] = v;
  const signer = new SignatureV4({ service, region, sha256: Hash.bind(null, 'sha256'), uriEscapePath: true, applyChecksum: false,
    credentials: { accessKeyId: akid, secretAccessKey: cred.secretAccessKey, sessionToken: cred.sessionToken } });
  const signed = await signer.sign({ method: req.method, protocol: 'http:', hostname: req.headers.host,
    path: q >= 0 ? req.url.slice(0, q) : req.url, query, headers, body },
    { signingDate: new Date(when), signableHeaders: new Set(names) });
  const got = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization)[1];
  const gotNames = /SignedHeaders=([^,]+)/.exec(signed.headers.authorization)[1];
  if (got !== signature || gotNames !== signedHeaders)
    return ['InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.'];
  return null;
}

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

const kserver = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
kserver.listen(0, '127.0.0.1', () => {
  const kport = kserver.address().port;
  const plain = http.createServer(proxy(kport));
  plain.keepAliveTimeout = 5000;
  plain.listen(0, '127.0.0.1', () => {
    const ports = { kinesalite: kport, proxy: plain.address().port };
    const finish = () => { process.stdout.write(JSON.stringify(ports) + '\n'); };
    // TLS listeners: a good certificate, and one that expired
    const tlsServers = [['tls', 'tls-cert', 'tls-key'], ['tls_expired', 'tls-expired-cert', 'tls-expired-key']]
      .filter(([, cert]) => args[cert]);
    let pending = tlsServers.length;
    if (!pending) return finish();
    for (const [name, cert, key] of tlsServers) {
      const tls = https.createServer({ cert: fs.readFileSync(args[cert]), key: fs.readFileSync(args[key]) }, proxy(kport));
      tls.keepAliveTimeout = 5000;
      tls.listen(0, '127.0.0.1', () => { ports[name] = tls.address().port; if (--pending === 0) finish(); });
    }
  });
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
