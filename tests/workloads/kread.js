// Reads a stream back independently of kinagg: @aws-sdk/client-kinesis for
// the calls, aws-kinesis-agg's protobuf model for aggregates (magic, MD5
// and protobuf checked as the KCL does). Writes each user record's data,
// shard by shard in ListShards order, each followed by the separator, so
// that one partition key's records come out exactly as they went in.
//   node kread.js --endpoint URL --stream NAME --out FILE [--sep nl|nul]
// Also a module: client, listShards, userRecords, readShard.
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const modules = path.join(__dirname, '..', 'node_modules');
const { KinesisClient, ListShardsCommand, GetShardIteratorCommand, GetRecordsCommand } =
  require(path.join(modules, '@aws-sdk/client-kinesis'));
const { NodeHttpHandler } = require(path.join(modules, '@smithy/node-http-handler'));
const common = require(path.join(modules, 'aws-kinesis-agg', 'lib', 'common'));

const MAGIC = Buffer.from('f3899ac2', 'hex');

function client(endpoint) {
  return new KinesisClient({
    endpoint, region: 'us-east-1', requestHandler: new NodeHttpHandler(),
    credentials: { accessKeyId: 'AKIDKINAGGTEST', secretAccessKey: 'kinagg/test/secret+KEY' },
  });
}

async function listShards(c, stream) {
  const shards = [];
  let token;
  do {
    const r = await c.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: stream }));
    shards.push(...r.Shards);
    token = r.NextToken;
  } while (token);
  return shards;
}

// The user records' data in one Kinesis record (itself when not an aggregate).
function userRecords(data) {
  data = Buffer.from(data);
  if (data.length <= 20 || !data.subarray(0, 4).equals(MAGIC)) return [data];
  const pb = data.subarray(4, data.length - 16);
  if (!crypto.createHash('md5').update(pb).digest().equals(data.subarray(data.length - 16))) return [data];
  try { return common.AggregatedRecord.decode(pb).records.map((r) => Buffer.from(r.data)); }
  catch (e) { return [data]; }
}

// Every user record of a shard, from its start to now.
async function readShard(c, stream, shardId, stats) {
  const out = [];
  let it = (await c.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId,
                                                         ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
  for (let empty = 0; it && empty < 2;) {
    const r = await c.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10000 }));
    it = r.NextShardIterator;
    if (!r.Records.length) { empty++; continue; }
    for (const rec of r.Records) {
      if (stats) stats.kinesis++;
      out.push(...userRecords(rec.Data));
    }
  }
  return out;
}

module.exports = { client, listShards, userRecords, readShard };

if (require.main === module) {
  const args = {};
  for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
  const sep = args.sep === 'nul' ? Buffer.from([0]) : Buffer.from('\n');
  (async () => {
    const c = client(args.endpoint);
    const stats = { kinesis: 0 };
    const parts = [];
    let n = 0;
    const shards = await listShards(c, args.stream);
    for (const s of shards) for (const d of await readShard(c, args.stream, s.ShardId, stats)) { parts.push(d, sep); n++; }
    fs.writeFileSync(args.out, Buffer.concat(parts));
    console.error(`kread: ${n} user records in ${stats.kinesis} Kinesis records, ${shards.length} shards`);
  })().catch((e) => { console.error(`kread: ${e.name || ''} ${e.message}`); process.exit(1); });
}
