// Writes test records straight to kinesalite with @aws-sdk/client-kinesis,
// aggregated by aws-kinesis-agg's protobuf model (not by kinagg):
//   node tail_put.js --endpoint URL --stream NAME --shards N lines FILE
//     each line of FILE a user record, in KPL aggregates of up to --agg-kib
//     (default 1000) KiB, in order; partition key "k"
//   node tail_put.js --endpoint URL --stream NAME --shards 1 binary EXPECTED
//     plain and aggregated records with binary and text data; writes what
//     kinagg-tail --output json must print for them to EXPECTED (JSON lines)
//   node tail_put.js --endpoint URL --stream NAME split SHARD-ID
//     splits the shard in the middle of its hash key range
//   node tail_put.js --endpoint URL --stream NAME hostile
//     three aggregates written by hand (valid protobuf, not as the KPL lays them
//     out) whose key lookups are slow without an index: twice 170,000 records
//     whose key indexes alternate 1, 0 with the key table after them, and
//     45,000 keys asked for in descending order; prints how many records
//   node tail_put.js check EXPECTED ACTUAL
//     compares kinagg-tail --output json with what binary expected
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const modules = path.join(__dirname, '..', 'node_modules');
const { KinesisClient, CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordsCommand, ListShardsCommand,
        SplitShardCommand } =
  require(path.join(modules, '@aws-sdk/client-kinesis'));
const { NodeHttpHandler } = require(path.join(modules, '@smithy/node-http-handler'));
const common = require(path.join(modules, 'aws-kinesis-agg', 'lib', 'common'));

const args = { 'agg-kib': '1000', shards: '1' };
const rest = [];
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i].startsWith('--')) args[process.argv[i].slice(2)] = process.argv[++i];
  else rest.push(process.argv[i]);
}
const client = new KinesisClient({
  endpoint: args.endpoint, region: 'us-east-1', requestHandler: new NodeHttpHandler(),
  credentials: { accessKeyId: 'AKIDKINAGGTEST', secretAccessKey: 'kinagg/test/secret+KEY' },
});
const MAGIC = Buffer.from('f3899ac2', 'hex');

function aggregate(records) { // [{ pk, ehk, data }]
  const pks = [], ehks = [];
  const index = (table, v) => { let i = table.indexOf(v); if (i < 0) { table.push(v); i = table.length - 1; } return i; };
  const msg = { partition_key_table: pks, explicit_hash_key_table: ehks, records: records.map((r) => {
    const o = { partition_key_index: index(pks, r.pk), data: r.data };
    if (r.ehk !== undefined) o.explicit_hash_key_index = index(ehks, r.ehk);
    return o;
  }) };
  const pb = Buffer.from(common.AggregatedRecord.encode(common.AggregatedRecord.create(msg)).finish());
  return Buffer.concat([MAGIC, pb, crypto.createHash('md5').update(pb).digest()]);
}

// raw protobuf pieces: a varint, a field key, a length-delimited field
const varint = (v) => { const b = []; do { let x = v % 128; v = Math.floor(v / 128); if (v) x |= 128; b.push(x); } while (v);
  return Buffer.from(b); };
const ld = (field, body) => { body = Buffer.from(body); return Buffer.concat([varint(field * 8 + 2), varint(body.length), body]); };
const vf = (field, v) => Buffer.concat([varint(field * 8), varint(v)]);
const wrapPb = (pb) => Buffer.concat([MAGIC, pb, crypto.createHash('md5').update(pb).digest()]);

async function hostile() {
  const a = [];
  for (let i = 0; i < 170000; i++) a.push(ld(3, Buffer.concat([vf(1, (i + 1) % 2), ld(3, '')])));
  a.push(ld(1, 'a'), ld(1, 'b'));
  const b = [];
  for (let i = 0; i < 45000; i++) b.push(ld(1, 'k' + i));
  for (let i = 44999; i >= 0; i--) b.push(ld(3, Buffer.concat([vf(1, i), ld(3, 'd' + i)])));
  await put([{ Data: wrapPb(Buffer.concat(a)), PartitionKey: 'h1' }]);
  await put([{ Data: wrapPb(Buffer.concat(b)), PartitionKey: 'h2' }]);
  await put([{ Data: wrapPb(Buffer.concat(a)), PartitionKey: 'h3' }]);
  console.log(2 * 170000 + 45000);
}

async function createStream() {
  try { await client.send(new CreateStreamCommand({ StreamName: args.stream, ShardCount: +args.shards })); }
  catch (e) { if (e.name !== 'ResourceInUseException') throw e; }
  for (;;) {
    const d = await client.send(new DescribeStreamSummaryCommand({ StreamName: args.stream }));
    if (d.StreamDescriptionSummary.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function put(entries) { // [{ Data, PartitionKey, ExplicitHashKey }] -> results
  const r = await client.send(new PutRecordsCommand({ StreamName: args.stream, Records: entries }));
  if (r.FailedRecordCount) throw new Error(`${r.FailedRecordCount} records failed`);
  return r.Records;
}

async function lines(file) {
  const all = fs.readFileSync(file, 'utf8').split('\n');
  if (all[all.length - 1] === '') all.pop();
  const cap = +args['agg-kib'] * 1024;
  let batch = [], size = 0, aggregates = 0;
  const flush = async () => {
    if (!batch.length) return;
    await put([{ Data: aggregate(batch), PartitionKey: 'k' }]); // one at a time: in order
    aggregates++;
    batch = []; size = 0;
  };
  for (const l of all) {
    const data = Buffer.from(l, 'utf8');
    if (size + data.length + 16 > cap) await flush();
    batch.push({ pk: 'k', data });
    size += data.length + 16;
  }
  await flush();
  console.log(`tail_put: ${all.length} lines in ${aggregates} aggregates`);
}

async function binary(expectedFile) {
  const bin = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, 0x0a, 0x22, 0x5c, 0xc3, 0x28, 0x7f]);
  const text = 'text "quoted" \\ tab\there\nnew line é ü 日本 \u{1F600} \u0001';
  const ehk = '170141183460469231731687303715884105728';
  const agg = [
    { pk: 'agg-a', ehk, data: Buffer.from('first user record, text') },
    { pk: 'agg-b', data: Buffer.from([0xc0, 0xaf, 0x00, 0x41]) },     // overlong: not UTF-8
    { pk: 'agg-a', ehk, data: Buffer.from('\u00e9t\u00e9 \u2028', 'utf8') },
    { pk: 'agg-c', data: Buffer.from([0xed, 0xa0, 0x80]) },            // a surrogate: not UTF-8
  ];
  const entries = [
    { Data: bin, PartitionKey: 'bin-key' },
    { Data: Buffer.from(text, 'utf8'), PartitionKey: 'text-k\u00e9y "q"' },
    { Data: aggregate(agg), PartitionKey: 'a', ExplicitHashKey: ehk },
    { Data: Buffer.alloc(0x1000, 0xe9), PartitionKey: 'latin1' },
    // another writer's key that is not UTF-8 (c3 a9 is e acute, ff is no
    // character): the JSON key keeps the e acute and the A around U+FFFD
    { Data: wrapPb(Buffer.concat([ld(1, [0xc3, 0xa9, 0xff, 0x41]), ld(3, Buffer.concat([vf(1, 0), ld(3, 'bad key')]))])),
      PartitionKey: 'not-utf8' },
  ];
  const res = await put(entries);
  const utf8 = (b) => { const s = b.toString('utf8'); return Buffer.from(s, 'utf8').equals(b) ? s : null; };
  const out = [];
  const one = (seq, sub, aggregated, pk, ehkv, data) => {
    const s = utf8(data);
    out.push({ shard: 'shardId-000000000000', sequence_number: seq, subsequence: sub, aggregated, partition_key: pk,
               explicit_hash_key: ehkv, data: s !== null ? s : data.toString('base64'),
               data_encoding: s !== null ? 'utf-8' : 'base64' });
  };
  one(res[0].SequenceNumber, 0, false, 'bin-key', null, bin);
  one(res[1].SequenceNumber, 0, false, 'text-k\u00e9y "q"', null, Buffer.from(text, 'utf8'));
  agg.forEach((r, i) => one(res[2].SequenceNumber, i, true, r.pk, r.ehk === undefined ? null : r.ehk, r.data));
  one(res[3].SequenceNumber, 0, false, 'latin1', null, entries[3].Data);
  one(res[4].SequenceNumber, 0, true, '\u00e9\ufffdA', null, Buffer.from('bad key'));
  fs.writeFileSync(expectedFile, out.map((o) => JSON.stringify(o)).join('\n') + '\n');
  console.log(`tail_put: ${out.length} user records in ${entries.length} Kinesis records`);
}

// Each line of ACTUAL (kinagg-tail --output json) against EXPECTED.
function check(expectedFile, actualFile) {
  const rd = (f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l));
  const want = rd(expectedFile), got = rd(actualFile);
  let bad = 0;
  if (want.length !== got.length) { console.log(`${got.length} records, expected ${want.length}`); bad++; }
  want.forEach((w, i) => {
    const g = got[i] || {};
    for (const key of Object.keys(w))
      if (g[key] !== w[key]) { console.log(`record ${i}: ${key} ${JSON.stringify(g[key])}, expected ${JSON.stringify(w[key])}`); bad++; }
    const t = Date.parse(g.arrival_time);
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(g.arrival_time) || !(Math.abs(t - Date.now()) < 600000)) {
      console.log(`record ${i}: arrival_time ${g.arrival_time}`); bad++;
    }
  });
  console.log(`tail_put: ${got.length} json records checked, ${bad} differences`);
  process.exit(bad ? 1 : 0);
}

(async () => {
  if (rest[0] === 'check') return check(rest[1], rest[2]);
  await createStream();
  if (rest[0] === 'split') {
    const shards = (await client.send(new ListShardsCommand({ StreamName: args.stream }))).Shards;
    const sh = shards.find((x) => x.ShardId === rest[1]);
    const lo = BigInt(sh.HashKeyRange.StartingHashKey), hi = BigInt(sh.HashKeyRange.EndingHashKey);
    await client.send(new SplitShardCommand({ StreamName: args.stream, ShardToSplit: rest[1],
                                              NewStartingHashKey: String((lo + hi) / 2n) }));
    await createStream(); // ACTIVE again
    console.log(`tail_put: split ${rest[1]}`);
  } else if (rest[0] === 'lines') await lines(rest[1]);
  else if (rest[0] === 'binary') await binary(rest[1]);
  else if (rest[0] === 'hostile') await hostile();
})().catch((e) => { console.error('tail_put:', e.message); process.exit(1); });
