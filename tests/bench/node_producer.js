// The peer of producer_bench.c: the same records, sent the way a Node
// program does it with the usual packages. aws-kinesis-agg aggregates
// (51,200-byte aggregates, as kinagg's and the KPL's default, one aggregator
// per shard so that an aggregate never mixes shards: the shards come from
// ListShards, a record's shard from the MD5 of its partition key), and
// @aws-sdk/client-kinesis sends them with PutRecords (up to 500 entries or
// 5 MiB per request, CONNECTIONS requests in flight), entries that fail sent
// again. Prints one line of name=value pairs as producer_bench does: CPU
// seconds (process.cpuUsage, user + system), wall seconds, peak RSS
// (process.resourceUsage().maxRSS), records per CPU-second; both measured
// from after the modules are loaded to the last answer.
//   node node_producer.js --port PORT --file FILE [--stream NAME] [--records N]
//                         [--connections N] [--tls CA_FILE]   (https://localhost:PORT)
// The SDK speaks JSON (its Kinesis protocol is awsJson1_1). Records are read
// from the file as they are sent, 1 MiB at a time. Exits 1 unless every
// record was delivered.
'use strict';
const fs = require('fs');
const http = require('http');
const https = require('https');
const crypto = require('crypto');
const path = require('path');
const modules = path.join(__dirname, '..', 'node_modules');
const { KinesisClient, PutRecordsCommand, ListShardsCommand } = require(path.join(modules, '@aws-sdk/client-kinesis'));
const { NodeHttpHandler } = require(path.join(modules, '@smithy/node-http-handler'));
const agg = require(path.join(modules, 'aws-kinesis-agg'));

const args = { stream: 'bench', connections: '2', records: String(Number.MAX_SAFE_INTEGER) };
for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
if (!args.port || !args.file) {
  console.error('usage: node node_producer.js --port PORT --file FILE [--stream NAME] [--records N] [--connections N] [--tls CA]');
  process.exit(2);
}
const AGG_LIMIT = 51200 - 4 - 16 - 1; // protobuf bytes: magic, MD5 and the outer key "a" make 51,200
const MAX_ENTRIES = 500, MAX_REQUEST = 5 * 1024 * 1024;
const conns = Number(args.connections), maxRecords = Number(args.records);

// The record file, read 1 MiB at a time: u16 key length, key, u32 data length, data.
const fd = fs.openSync(args.file, 'r');
let buf = Buffer.alloc(0), pos = 0, eof = false;
function need(n) {
  if (buf.length - pos >= n) return true;
  if (eof) return false;
  const chunk = Buffer.allocUnsafe(1 << 20);
  const got = fs.readSync(fd, chunk, 0, chunk.length, null);
  if (got === 0) eof = true;
  buf = Buffer.concat([buf.subarray(pos), chunk.subarray(0, got)]);
  pos = 0;
  return need(n);
}
function nextRecord() {
  if (!need(2)) return null;
  const kl = buf.readUInt16LE(pos);
  if (!need(2 + kl + 4)) return null;
  const partitionKey = buf.toString('utf8', pos + 2, pos + 2 + kl);
  const dl = buf.readUInt32LE(pos + 2 + kl);
  if (!need(2 + kl + 4 + dl)) return null;
  const data = buf.subarray(pos + 6 + kl, pos + 6 + kl + dl);
  pos += 6 + kl + dl;
  return { partitionKey, data };
}

async function main() {
  const cpu0 = process.cpuUsage(), t0 = process.hrtime.bigint();
  const tls = !!args.tls;
  const agent = tls
    ? new https.Agent({ keepAlive: true, maxSockets: conns, ca: fs.readFileSync(args.tls) })
    : new http.Agent({ keepAlive: true, maxSockets: conns });
  const client = new KinesisClient({
    region: 'us-east-1',
    endpoint: `${tls ? 'https' : 'http'}://${tls ? 'localhost' : '127.0.0.1'}:${args.port}`,
    credentials: { accessKeyId: 'AKIDKINAGGBENCH', secretAccessKey: 'kinagg/bench/secret' },
    requestHandler: new NodeHttpHandler(tls ? { httpsAgent: agent } : { httpAgent: agent }),
  });

  // The shards, and an aggregator for each.
  const shards = [];
  let token;
  do {
    const r = await client.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: args.stream }));
    for (const s of r.Shards) if (!s.SequenceNumberRange.EndingSequenceNumber) shards.push(s);
    token = r.NextToken;
  } while (token);
  shards.sort((a, b) => (BigInt(a.HashKeyRange.StartingHashKey) < BigInt(b.HashKeyRange.StartingHashKey) ? -1 : 1));
  const starts = shards.map((s) => BigInt(s.HashKeyRange.StartingHashKey));
  const aggs = shards.map(() => ({ a: new agg.RecordAggregator(), n: 0, ehk: null }));
  const shardOf = (hk) => { // the last shard starting at or below hk
    let lo = 0, hi = starts.length - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (starts[mid] <= hk) lo = mid; else hi = mid - 1; }
    return lo;
  };

  let delivered = 0, requests = 0, retried = 0, put = 0, failures = 0;
  let batch = [], batchBytes = 0;
  const inFlight = new Set();

  function send(entries) {
    requests++;
    const p = client.send(new PutRecordsCommand({ StreamName: args.stream, Records: entries.map((e) => e.entry) }))
      .then((r) => {
        const again = [];
        r.Records.forEach((res, i) => { if (res.ErrorCode) again.push(entries[i]); else delivered += entries[i].users; });
        if (again.length) { retried += again.length; return send(again); }
      }, (e) => {
        if (++failures > 20) { console.error('node_producer: PutRecords keeps failing:', e.message); process.exit(1); }
        retried += entries.length;
        return send(entries);
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  async function queue(entry, users) {
    const size = entry.Data.length + 1 + entry.ExplicitHashKey.length;
    if (batch.length === MAX_ENTRIES || batchBytes + size > MAX_REQUEST) {
      const b = batch;
      batch = [];
      batchBytes = 0;
      while (inFlight.size >= conns) await Promise.race(inFlight);
      send(b);
    }
    batch.push({ entry, users });
    batchBytes += size;
  }
  async function emit(s) {
    const e = s.a.build();
    const users = s.n;
    s.n = 0;
    await queue({ PartitionKey: 'a', ExplicitHashKey: s.ehk, Data: e.data }, users);
  }

  for (let r; put < maxRecords && (r = nextRecord()); put++) {
    const d = crypto.createHash('md5').update(r.partitionKey, 'utf8').digest();
    const hk = (d.readBigUInt64BE(0) << 64n) | d.readBigUInt64BE(8);
    const s = aggs[shardOf(hk)];
    if (s.n && s.a.totalBytes + s.a.calculateUserRecordSize(r) > AGG_LIMIT) await emit(s);
    if (!s.n) s.ehk = hk.toString();
    s.a.addUserRecord(r);
    s.n++;
  }
  for (const s of aggs) if (s.n) await emit(s);
  if (batch.length) { while (inFlight.size >= conns) await Promise.race(inFlight); send(batch); }
  while (inFlight.size) await Promise.race(inFlight);

  const c = process.cpuUsage(cpu0), cpu = (c.user + c.system) / 1e6;
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`records=${put} delivered=${delivered} cpu_s=${cpu.toFixed(3)} wall_s=${wall.toFixed(3)} ` +
              `rss_kb=${process.resourceUsage().maxRSS} rate=${Math.round(delivered / cpu)} requests=${requests} retried=${retried}`);
  agent.destroy();
  if (delivered !== put) { console.error(`node_producer: ${delivered} of ${put} delivered`); process.exit(1); }
}
main().catch((e) => { console.error('node_producer:', e); process.exit(2); });
