// Credentials that rotate, and a Kinesis that takes only the current ones.
//   node rotating_proxy.js --kinesalite PORT
// Two listeners on 127.0.0.1, printed as JSON when ready:
//   creds  a container credentials endpoint (GET /creds with the
//          Authorization "kinagg-rotation-token"); each answer holds the
//          current generation of credentials (key id, secret and session
//          token all new) with its Expiration;
//   proxy  a SigV4-verifying proxy in front of kinesalite that accepts only
//          the current generation: an older one gets 400
//          ExpiredTokenException, as Kinesis answers, anything else
//          UnrecognizedClientException or InvalidSignatureException.
// The schedule starts at the first credentials request, on a whole second:
// a new generation every 20 s, except that generation 2 is revoked at 50 s
// though its document says it lasts until 60 s (so a client must notice a
// refusal, not only the Expiration). GET /stats on the creds listener: the
// counters (fetches, generations, accepted and refused requests).
'use strict';
const http = require('http');
const crypto = require('crypto');
const path = require('path');
const { verify } = require(path.join(__dirname, '..', 'net', 'sigv4_verify'));
const { guard } = require(path.join(__dirname, '..', 'net', 'guard'));
const cbor = require(path.join(__dirname, '..', 'node_modules', 'cbor'));
// the whole document: cbor's encode and Encoder.encodeOne return only the
// first 16 KiB of a larger one
const cborEncode = (obj) => cbor.encodeOne(obj, { highWaterMark: 1 << 26 });

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const kport = Number(args.kinesalite);
const AUTH = 'kinagg-rotation-token';
const STARTS = [0, 20, 40, 50, 70, 90, 110, 130, 150, 170]; // seconds; generation g is valid in [STARTS[g], STARTS[g+1])
const CLAIMED = (g) => STARTS[g] + 20;                      // what its document says: generation 2 is cut short

let epoch = 0; // ms, set by the first credentials request
const gens = [];
const stats = { fetches: 0, refused: {}, accepted: 0, accepted_by_generation: {}, generations: 0 };

function generation(g) {
  while (gens.length <= g) {
    const n = gens.length;
    gens.push({ id: `ASIAROTATION${String(n).padStart(4, '0')}`, secret: crypto.randomBytes(30).toString('base64'),
                token: crypto.randomBytes(600).toString('base64') });
  }
  return gens[g];
}
function current() {
  const s = (Date.now() - epoch) / 1000;
  let g = 0;
  while (g + 1 < STARTS.length && s >= STARTS[g + 1]) g++;
  return g;
}

const credsServer = http.createServer((req, res) => {
  const send = (status, obj) => {
    const body = JSON.stringify(obj);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
  if (req.url === '/stats') return send(200, stats);
  if (req.url !== '/creds' || req.method !== 'GET') return send(404, { code: 'NotFound', message: 'no such path' });
  if (req.headers.authorization === undefined) return send(401, { code: 'Unauthorized', message: 'Authorization header missing' });
  if (req.headers.authorization !== AUTH) return send(403, { code: 'AccessDenied', message: 'Authorization token is not valid' });
  if (!epoch) epoch = Math.floor(Date.now() / 1000) * 1000; // a whole second: Expiration has no fraction
  stats.fetches++;
  const g = current(), c = generation(g);
  stats.generations = Math.max(stats.generations, g + 1);
  send(200, { AccessKeyId: c.id, SecretAccessKey: c.secret, Token: c.token,
              Expiration: new Date(epoch + CLAIMED(g) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') });
});

function reject(res, status, type, message, contentType) {
  const isCbor = /cbor/.test(contentType || '');
  const body = isCbor ? cborEncode({ __type: type, message }) : JSON.stringify({ __type: type, message });
  res.writeHead(status, { 'Content-Type': contentType || 'application/x-amz-json-1.1', 'x-amzn-ErrorType': type,
                          'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const lookup = (akid) => {
  const now = epoch ? current() : -1;
  const g = gens.findIndex((x) => x.id === akid);
  if (g < 0) return null;
  if (g !== now) return g < now ? { expired: true } : null;
  return { secretAccessKey: gens[g].secret, sessionToken: gens[g].token };
};

const proxy = http.createServer(guard(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks);
  let problem;
  try { problem = await verify(req, body, lookup); } catch (e) { problem = ['InvalidSignatureException', `verifier: ${e.message}`]; }
  if (problem) {
    stats.refused[problem[0]] = (stats.refused[problem[0]] || 0) + 1;
    return reject(res, 400, problem[0], problem[1], req.headers['content-type']);
  }
  stats.accepted++;
  const g = String(current());
  stats.accepted_by_generation[g] = (stats.accepted_by_generation[g] || 0) + 1;
  const fwd = http.request({ host: '127.0.0.1', port: kport, method: req.method, path: req.url,
                             headers: Object.assign({}, req.headers, { host: `127.0.0.1:${kport}` }) }, (up) => {
    res.writeHead(up.statusCode, up.headers);
    up.pipe(res);
  });
  fwd.on('error', (e) => reject(res, 500, 'InternalFailure', e.message));
  fwd.end(body);
}));
proxy.keepAliveTimeout = 5000;

credsServer.listen(0, '127.0.0.1', () => proxy.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ creds: credsServer.address().port, proxy: proxy.address().port }) + '\n');
}));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
