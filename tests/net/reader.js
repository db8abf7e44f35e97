// Independent reader: reads a stream back with @aws-sdk/client-kinesis,
// unpacks aggregates with aws-kinesis-agg's protobuf model, applies the
// KCL's rule (an aggregate holding any user record outside the shard's hash
// key range is dropped whole) and checks the manifest: every user record
// present exactly once, intact, on its shard, in order per partition key.
//   node reader.js --endpoint http://127.0.0.1:PORT --stream NAME --manifest FILE
//     [--unordered FILE]  manifest lines (numbered from 0) left out of the
//                         order check: records the producer's docs do not
//                         promise to keep in order (sent again after a
//                         partial failure or a resharding); they must be
//                         present all the same
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const modules = path.join(__dirname, '..', 'node_modules');
const { KinesisClient, ListShardsCommand, GetShardIteratorCommand, GetRecordsCommand } =
  require(path.join(modules, '@aws-sdk/client-kinesis'));
const { NodeHttpHandler } = require(path.join(modules, '@smithy/node-http-handler'));
const common = require(path.join(modules, 'aws-kinesis-agg', 'lib', 'common'));

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const MAGIC = Buffer.from('f3899ac2', 'hex');

const client = new KinesisClient({
  endpoint: args.endpoint, region: 'us-east-1', requestHandler: new NodeHttpHandler(),
  credentials: { accessKeyId: 'AKIDKINAGGTEST', secretAccessKey: 'kinagg/test/secret+KEY' },
});

const hashKey = (pk, ehk) => (ehk !== undefined ? BigInt(ehk)
  : BigInt('0x' + crypto.createHash('md5').update(Buffer.from(pk, 'utf8')).digest('hex')));

// User records of one Kinesis record, or null when the KCL would drop it.
function userRecords(data, shard, stats) {
  const plain = [{ pk: null, data }];
  if (data.length < 20 || !data.subarray(0, 4).equals(MAGIC)) return plain;
  const pb = data.subarray(4, data.length - 16);
  if (!crypto.createHash('md5').update(pb).digest().equals(data.subarray(data.length - 16))) return plain;
  let m;
  try { m = common.AggregatedRecord.decode(pb); } catch (e) { return plain; }
  const lo = BigInt(shard.HashKeyRange.StartingHashKey), hi = BigInt(shard.HashKeyRange.EndingHashKey);
  const out = [];
  for (const r of m.records) {
    const pk = m.partition_key_table[Number(r.partition_key_index)];
    const has = Object.prototype.hasOwnProperty.call(r, 'explicit_hash_key_index');
    const ehk = has ? m.explicit_hash_key_table[Number(r.explicit_hash_key_index)] : undefined;
    const h = hashKey(pk, ehk);
    if (h < lo || h > hi) { stats.dropped++; return null; }
    out.push({ pk, data: Buffer.from(r.data) });
  }
  stats.aggregates++;
  return out;
}

async function readShard(stream, shard, stats) {
  const out = [];
  let it = (await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId,
                                                              ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
  for (let empty = 0; it && empty < 2;) {
    const r = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10000 }));
    it = r.NextShardIterator;
    if (!r.Records.length) { empty++; continue; }
    for (const rec of r.Records) {
      stats.kinesis++;
      const users = userRecords(Buffer.from(rec.Data), shard, stats);
      if (!users) continue;
      for (const u of users) out.push({ pk: u.pk === null ? rec.PartitionKey : u.pk, data: u.data });
    }
  }
  return out;
}

(async () => {
  const stats = { kinesis: 0, aggregates: 0, dropped: 0 };
  const shards = [];
  let token;
  do {
    const r = await client.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: args.stream }));
    shards.push(...r.Shards);
    token = r.NextToken;
  } while (token);
  const linesOf = (buf) => { // the non-empty lines of a buffer, as buffers
    const out = [];
    for (let at = 0; at < buf.length;) {
      let nl = buf.indexOf(10, at);
      if (nl < 0) nl = buf.length;
      if (nl > at) out.push(buf.subarray(at, nl));
      at = nl + 1;
    }
    return out;
  };
  const found = new Map(); // shard id -> user records in order
  for (const s of shards) found.set(s.ShardId, await readShard(args.stream, s, stats));

  // the manifest: "kind shard pk-hex data-hex" lines, or (--lines) the
  // KEY<TAB>DATA lines that were sent, on whichever shard owns the key
  const want = args.lines
    ? linesOf(fs.readFileSync(args.lines)).map((l) => { // bytes: the data may be any but the newline
      const tab = l.indexOf(9);
      return { kind: 'line', shard: '*', pk: l.subarray(0, tab).toString('utf8'), data: l.subarray(tab + 1).toString('hex') };
    })
    : fs.readFileSync(args.manifest, 'utf8').trim().split('\n').filter(Boolean).map((l) => {
      const [kind, shard, pk, data] = l.split(' ');
      return { kind, shard, pk: Buffer.from(pk, 'hex').toString('utf8'), data: data === '-' ? '' : data };
    });
  let passed = 0, failed = 0;
  const fail = (why) => { if (failed++ < 10) console.error(why); };
  // everything read, indexed by "pk data": where (shard order, position)
  const order = shards.map((s) => s.ShardId); // kinesalite lists parents before children
  const ranges = new Map(shards.map((s) => [s.ShardId, [BigInt(s.HashKeyRange.StartingHashKey), BigInt(s.HashKeyRange.EndingHashKey)]]));
  const seen = new Map();
  for (const [shard, recs] of found) recs.forEach((r, i) => {
    const key = `${r.pk} ${r.data.toString('hex')}`;
    if (!seen.has(key)) seen.set(key, []);
    seen.get(key).push({ shard, rank: order.indexOf(shard) * 1e9 + i });
  });
  // manifest lines (from 0) whose order is not promised: records sent again
  // (producer_test writes them)
  const unordered = new Set(args.unordered
    ? fs.readFileSync(args.unordered, 'utf8').split('\n').filter(Boolean).map(Number) : []);
  const last = new Map(); // per partition key: rank of its previous record
  let lineNo = -1;
  for (const w of want) {
    lineNo++;
    const key = `${w.pk} ${w.data}`;
    const at = seen.get(key) || [];
    const i = at.findIndex((x) => w.shard === '*' || x.shard === w.shard);
    if (i < 0) { fail(`missing${w.shard === '*' ? '' : ` on ${w.shard}`}: ${w.kind} record of key ${w.pk}`); continue; }
    const [hit] = at.splice(i, 1);
    if (w.shard === '*') { // it must sit on a shard that owns its hash key
      const [lo, hi] = ranges.get(hit.shard), h = hashKey(w.pk);
      if (h < lo || h > hi) { fail(`key ${w.pk} on ${hit.shard}, outside its range`); continue; }
    }
    if (unordered.has(lineNo)) { passed++; continue; }
    if (!args['no-order'] && last.has(w.pk) && last.get(w.pk) > hit.rank) { fail(`out of order for key ${w.pk}`); continue; }
    last.set(w.pk, hit.rank);
    passed++;
  }
  let extra = 0;
  for (const v of seen.values()) extra += v.length;
  if (extra && !args['allow-duplicates']) fail(`${extra} user records read that were not put (duplicates or strays)`);
  if (extra && args['allow-duplicates']) console.error(`reader: ${extra} duplicates (allowed: at-least-once)`);
  if (stats.dropped) console.error(`reader: ${stats.dropped} aggregates dropped by the KCL rule`);
  if (stats.dropped && !args['allow-dropped']) fail(`${stats.dropped} aggregates the KCL would drop`);
  if (args['expect-kinesis-records'] && Number(args['expect-kinesis-records']) !== stats.kinesis)
    fail(`${stats.kinesis} Kinesis records read, the writer counted ${args['expect-kinesis-records']}`);
  if (unordered.size) console.error(`reader: ${unordered.size} records left out of the order check (--unordered)`);
  console.error(`reader: ${want.length} user records expected, ${stats.kinesis} Kinesis records, ` +
                `${stats.aggregates} aggregates, ${shards.length} shards`);
  console.log(`reader: ${passed} passed, ${failed} failed`);
  process.exit(failed || !passed ? 1 : 0);
})().catch((e) => { console.error(e); console.log('reader: 0 passed, 1 failed'); process.exit(1); });
