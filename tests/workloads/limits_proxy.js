// A proxy in front of kinesalite that checks every request's signature (the
// verifying proxy's own check, from tests/net/server.js) and, with --limits,
// enforces the per-shard write limits the way Kinesis does: each shard a
// token bucket of 1000 records/s and one of 1 MiB/s (data + partition key),
// holding one second's worth. A PutRecords entry goes to the shard that owns
// its hash key (its ExplicitHashKey, else the MD5 of its partition key; the
// shard map from ListShards); an entry its shard has no tokens for is
// refused with ProvisionedThroughputExceededException and Kinesis's message,
// the others are forwarded to kinesalite as one PutRecords, and the answers
// are merged in order. Without --limits it only checks and forwards: a
// relay that a test can stop and start again on the same port (an outage).
//   node limits_proxy.js --kinesalite PORT [--port P] [--limits 1] [--stats FILE]
// Prints {"port":P} when listening; serves until killed (SIGTERM writes the
// stats first).
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const modules = path.join(__dirname, '..', 'node_modules');
const cbor = require(path.join(modules, 'cbor'));
// the whole document: cbor's encode and Encoder.encodeOne return only the
// first 16 KiB of a larger one
const cborEncode = (obj) => cbor.encodeOne(obj, { highWaterMark: 1 << 26 });
const { verify, reject } = require('../net/server.js');
const { client, listShards } = require('./kread');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const kport = Number(args.kinesalite);
const limits = args.limits === '1';
const RECORDS_PER_S = 1000, BYTES_PER_S = 1024 * 1024;
const stats = { requests: 0, entries: 0, accepted: 0, throttled: 0, bytes: 0, first_ms: 0, last_ms: 0 };
const kin = client(`http://127.0.0.1:${kport}`);

// shard maps per stream, kept for a few seconds
const maps = new Map();
async function shardMap(stream) {
  const m = maps.get(stream);
  if (m && Date.now() - m.at < 5000) return m.shards;
  const shards = (await listShards(kin, stream)).filter((s) => !s.SequenceNumberRange.EndingSequenceNumber)
    .map((s) => ({ id: s.ShardId, lo: BigInt(s.HashKeyRange.StartingHashKey), hi: BigInt(s.HashKeyRange.EndingHashKey) }));
  maps.set(stream, { at: Date.now(), shards });
  return shards;
}

// token buckets per stream and shard, full at the start
const buckets = new Map();
function take(stream, shard, bytes) {
  const key = `${stream}/${shard}`, now = Date.now();
  let b = buckets.get(key);
  if (!b) buckets.set(key, b = { records: RECORDS_PER_S, bytes: BYTES_PER_S, t: now });
  const dt = (now - b.t) / 1000;
  b.records = Math.min(RECORDS_PER_S, b.records + dt * RECORDS_PER_S);
  b.bytes = Math.min(BYTES_PER_S, b.bytes + dt * BYTES_PER_S);
  b.t = now;
  if (b.records < 1 || b.bytes < bytes) return false;
  b.records -= 1;
  b.bytes -= bytes;
  return true;
}

function forward(req, body) {
  return new Promise((resolve, rejectP) => {
    const up = http.request({ host: '127.0.0.1', port: kport, method: req.method, path: req.url,
      headers: Object.assign({}, req.headers, { host: `127.0.0.1:${kport}`, 'content-length': body.length }) }, (r) => {
      const c = [];
      r.on('data', (d) => c.push(d));
      r.on('end', () => resolve({ status: r.statusCode, headers: r.headers, body: Buffer.concat(c) }));
    });
    up.on('error', rejectP);
    up.end(body);
  });
}

async function handle(req, res) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks);
  const ctype = req.headers['content-type'] || '';
  let problem;
  try { problem = await verify(req, body); } catch (e) { problem = ['InvalidSignatureException', `verifier: ${e.message}`]; }
  if (problem) return reject(res, 400, problem[0], problem[1], ctype);
  const send = (r) => { res.writeHead(r.status, r.headers); res.end(r.body); };
  if (!limits || req.headers['x-amz-target'] !== 'Kinesis_20131202.PutRecords') return send(await forward(req, body));

  const isCbor = /cbor/.test(ctype);
  const doc = isCbor ? cbor.decodeFirstSync(body) : JSON.parse(body.toString());
  const stream = doc.StreamName || String(doc.StreamARN || '').replace(/^.*:stream\//, '');
  let shards;
  try { shards = await shardMap(stream); } catch (e) { return send(await forward(req, body)); } // its own error
  const now = Date.now();
  stats.requests++;
  if (!stats.first_ms) stats.first_ms = now;
  stats.last_ms = now;
  const refused = doc.Records.map((e) => {
    const data = isCbor ? Buffer.from(e.Data) : Buffer.from(e.Data, 'base64');
    const h = e.ExplicitHashKey !== undefined && e.ExplicitHashKey !== null ? BigInt(e.ExplicitHashKey)
      : BigInt('0x' + crypto.createHash('md5').update(Buffer.from(e.PartitionKey, 'utf8')).digest('hex'));
    const shard = shards.find((s) => h >= s.lo && h <= s.hi);
    const bytes = data.length + Buffer.byteLength(e.PartitionKey, 'utf8');
    stats.entries++;
    if (!shard || take(stream, shard.id, bytes)) { stats.accepted++; stats.bytes += bytes; return null; }
    stats.throttled++;
    return { ErrorCode: 'ProvisionedThroughputExceededException',
             ErrorMessage: `Rate exceeded for shard ${shard.id} in stream ${stream} under account 000000000000.` };
  });
  const keep = doc.Records.filter((e, i) => !refused[i]);
  let results = [];
  if (keep.length) {
    const encoded = Object.assign({}, doc, { Records: keep });
    const r = await forward(req, isCbor ? cborEncode(encoded) : Buffer.from(JSON.stringify(encoded)));
    if (r.status !== 200) return send(r);
    results = (isCbor ? cbor.decodeFirstSync(r.body) : JSON.parse(r.body.toString())).Records;
  }
  const merged = refused.map((x) => x || results.shift());
  const failedCount = merged.filter((x) => x.ErrorCode).length;
  const out = isCbor ? cborEncode({ FailedRecordCount: failedCount, Records: merged })
    : Buffer.from(JSON.stringify({ FailedRecordCount: failedCount, Records: merged }));
  res.writeHead(200, { 'Content-Type': isCbor ? 'application/x-amz-cbor-1.1' : 'application/x-amz-json-1.1',
                       'Content-Length': out.length });
  res.end(out);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => reject(res, 500, 'InternalFailure', e.message, req.headers['content-type']));
});
server.keepAliveTimeout = 5000;
server.listen(Number(args.port || 0), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
const saveStats = () => { if (args.stats) fs.writeFileSync(args.stats, JSON.stringify(stats) + '\n'); };
setInterval(saveStats, 500).unref();
process.on('SIGTERM', () => { saveStats(); process.exit(0); });
