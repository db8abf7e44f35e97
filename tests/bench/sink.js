// A fast local Kinesis endpoint for the producer benchmarks: it answers
// ListShards, PutRecords, DescribeStreamSummary and CreateStream, in JSON
// (application/x-amz-json-1.1) or CBOR (application/x-amz-cbor-1.1), as the
// request's Content-Type says, and keeps nothing but counts.
//   node sink.js [--shards N] [--tls-cert F --tls-key F]
// Prints one line of JSON with its ports when ready; serves on 127.0.0.1
// until stdin closes or it is killed.
//
// Streams: any name. A name ending in .N (e.g. bench-json.64) has N shards,
// others --shards (default 4), with even hash key ranges, as CreateStream
// makes them. PutRecords answers every entry with a success: the ShardId of
// the shard whose range holds its ExplicitHashKey, or the MD5 of its
// PartitionKey, and a SequenceNumber. Signatures are NOT verified (the
// tests' server does that; here it would only add CPU the client competes
// with); any credentials are accepted.
//
// Counts, on a control port of their own (plain HTTP): GET /__stats answers
// {requests, putRecords, entries, userRecords, bytesIn, bytesOut} since the
// last GET /__reset (which answers the zeroes); userRecords counts the
// records inside KPL aggregates (the protobuf's records, not checked further)
// and 1 for a plain entry. bytesIn and bytesOut are what went over the
// sockets (TCP payload: TLS records when over TLS), headers included.
'use strict';
const http = require('http');
const https = require('https');
const fs = require('fs');
const crypto = require('crypto');
const path = require('path');
const cbor = require(path.join(__dirname, '..', 'node_modules', 'cbor')); // kinesalite's dependency
// the whole document: cbor's encode and Encoder.encodeOne return only the
// first 16 KiB of a larger one
const cborEncode = (obj) => cbor.encodeOne(obj, { highWaterMark: 1 << 26 });

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const defaultShards = Number(args.shards || 4);

const TOP = 1n << 128n;
const streams = new Map(); // name -> { n, starts: BigInt[], ids: string[], shards: object[] }
function stream(name) {
  let s = streams.get(name);
  if (s) return s;
  const m = /\.(\d+)$/.exec(name);
  const n = m ? Math.max(1, Math.min(1000, Number(m[1]))) : defaultShards;
  const step = TOP / BigInt(n);
  s = { n, step, ids: [], shards: [] };
  for (let i = 0; i < n; i++) {
    const id = 'shardId-' + String(i).padStart(12, '0');
    const start = step * BigInt(i), end = i === n - 1 ? TOP - 1n : step * BigInt(i + 1) - 1n;
    s.ids.push(id);
    s.shards.push({
      ShardId: id,
      HashKeyRange: { StartingHashKey: start.toString(), EndingHashKey: end.toString() },
      SequenceNumberRange: { StartingSequenceNumber: '49' + String(i).padStart(54, '0') },
    });
  }
  streams.set(name, s);
  return s;
}
function shardOf(s, hashKey) {
  const i = hashKey / s.step;
  return s.ids[i >= BigInt(s.n) ? s.n - 1 : Number(i)];
}
function md5Key(pk) {
  const d = crypto.createHash('md5').update(pk, 'utf8').digest();
  return (d.readBigUInt64BE(0) << 64n) | d.readBigUInt64BE(8);
}
function streamName(doc) {
  if (doc.StreamName) return doc.StreamName;
  if (doc.StreamARN) return String(doc.StreamARN).replace(/^.*:stream\//, '');
  return 'unnamed';
}

// Records in a KPL aggregate: magic, protobuf, MD5; field 3 is a record.
const MAGIC = Buffer.from([0xf3, 0x89, 0x9a, 0xc2]);
function userRecords(data) {
  if (data.length < 20 || data[0] !== 0xf3 || !data.subarray(0, 4).equals(MAGIC)) return 1;
  let n = 0, p = 4;
  const end = data.length - 16;
  const varint = () => {
    let v = 0, mul = 1, b;
    do { b = data[p++]; v += (b & 0x7f) * mul; mul *= 128; } while (b & 0x80 && p < end);
    return v;
  };
  while (p < end) {
    const tag = varint(), wire = tag & 7;
    if (wire === 2) { const len = varint(); p += len; if ((tag >>> 3) === 3) n++; }
    else if (wire === 0) varint();
    else return 1; // not a KPL aggregate
  }
  return n || 1;
}

let stats, seq = 0n;
function reset() { stats = { requests: 0, putRecords: 0, entries: 0, userRecords: 0, bytesIn: 0, bytesOut: 0 }; }
reset();

// Bytes over the sockets: live sockets are read at the time of asking.
const live = new Set();
let closedIn = 0, closedOut = 0, baseIn = 0, baseOut = 0;
function socketBytes() {
  let i = closedIn, o = closedOut;
  for (const s of live) { i += s.bytesRead; o += s.bytesWritten; }
  return [i, o];
}

function send(res, isCbor, status, obj, type) {
  const body = isCbor ? cborEncode(obj) : Buffer.from(JSON.stringify(obj));
  const h = { 'Content-Type': isCbor ? 'application/x-amz-cbor-1.1' : 'application/x-amz-json-1.1',
              'Content-Length': body.length, 'x-amzn-RequestId': 'bench' };
  if (type) h['x-amzn-ErrorType'] = type;
  res.writeHead(status, h);
  res.end(body);
}

// The control port (plain HTTP, its own, so that asking adds nothing to the counts).
function control(req, res) {
  if (req.url === '/__reset') { reset(); [baseIn, baseOut] = socketBytes(); }
  const [i, o] = socketBytes();
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(Object.assign({}, stats, { bytesIn: i - baseIn, bytesOut: o - baseOut })));
}

function handle(req, res, body) {
  stats.requests++;
  const ctype = req.headers['content-type'] || '';
  const isCbor = /cbor/.test(ctype);
  const target = String(req.headers['x-amz-target'] || '').replace(/^Kinesis_20131202\./, '');
  let doc;
  try { doc = body.length ? (isCbor ? cbor.decodeFirstSync(body) : JSON.parse(body.toString())) : {}; }
  catch (e) { return send(res, isCbor, 400, { __type: 'SerializationException', message: String(e.message) }, 'SerializationException'); }
  if (target === 'PutRecords') {
    const s = stream(streamName(doc));
    const out = new Array(doc.Records.length);
    for (let k = 0; k < doc.Records.length; k++) {
      const e = doc.Records[k];
      const hk = e.ExplicitHashKey != null ? BigInt(e.ExplicitHashKey) : md5Key(e.PartitionKey);
      const data = isCbor ? Buffer.from(e.Data) : Buffer.from(e.Data, 'base64');
      stats.userRecords += userRecords(data);
      seq++;
      out[k] = { SequenceNumber: '4963' + seq.toString().padStart(52, '0'), ShardId: shardOf(s, hk) };
    }
    stats.putRecords++;
    stats.entries += out.length;
    return send(res, isCbor, 200, { FailedRecordCount: 0, Records: out, EncryptionType: 'NONE' });
  }
  if (target === 'ListShards') {
    let name = streamName(doc), from = 0;
    if (doc.NextToken) [name, from] = Buffer.from(String(doc.NextToken), 'base64').toString().split('\n');
    const s = stream(name), max = Number(doc.MaxResults) || 1000;
    from = Number(from);
    const page = s.shards.slice(from, from + max);
    const next = from + max < s.n ? Buffer.from(name + '\n' + (from + max)).toString('base64') : null;
    return send(res, isCbor, 200, next ? { Shards: page, NextToken: next } : { Shards: page });
  }
  if (target === 'DescribeStreamSummary') {
    const s = stream(streamName(doc));
    return send(res, isCbor, 200, { StreamDescriptionSummary: {
      StreamName: streamName(doc), StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/' + streamName(doc),
      StreamStatus: 'ACTIVE', OpenShardCount: s.n, RetentionPeriodHours: 24, StreamCreationTimestamp: 1.7e9,
      EnhancedMonitoring: [], EncryptionType: 'NONE', ConsumerCount: 0 } });
  }
  if (target === 'CreateStream') { stream(streamName(doc)); return send(res, isCbor, 200, {}); }
  return send(res, isCbor, 400, { __type: 'UnknownOperationException', message: target }, 'UnknownOperationException');
}

function onRequest(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => handle(req, res, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
}

const tls = args['tls-cert'] && args['tls-key'];
const server = tls
  ? https.createServer({ cert: fs.readFileSync(args['tls-cert']), key: fs.readFileSync(args['tls-key']) }, onRequest)
  : http.createServer(onRequest);
server.keepAliveTimeout = 60000;
server.on('connection', (sock) => { // the TCP socket, under TLS too
  live.add(sock);
  sock.on('close', () => { live.delete(sock); closedIn += sock.bytesRead; closedOut += sock.bytesWritten; });
});
const ctl = http.createServer(control);
server.listen(0, '127.0.0.1', () => ctl.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: server.address().port, control: ctl.address().port, tls: !!tls }));
}));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
