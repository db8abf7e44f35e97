// npm aws-kinesis-agg aggregating the records of a bench.c record file.
//   node npm_agg.js FILE AGG_BYTES SECONDS   prints records per second
// Aggregates hold at most AGG_BYTES with the outer partition key "a", as
// kinagg's do: protobuf bytes + magic 4 + MD5 16 + 1 <= AGG_BYTES. The
// package has no size setting of its own (it stops at 1 MiB), so each record
// is sized first with calculateUserRecordSize, as a caller with a smaller
// limit must; at 1 MiB, its own limit, the record is just added and a full
// aggregate is caught as the exception addUserRecord throws. A first pass,
// untimed, warms up the JIT.
'use strict';
const fs = require('fs');
const path = require('path');
const agg = require(path.join(__dirname, '..', 'node_modules', 'aws-kinesis-agg'));

const [file, aggBytesArg, secondsArg] = process.argv.slice(2);
if (!file || !aggBytesArg || !secondsArg) {
  console.error('usage: node npm_agg.js FILE AGG_BYTES SECONDS');
  process.exit(2);
}
const aggBytes = Number(aggBytesArg), seconds = Number(secondsArg);
const limit = aggBytes - 4 - 16 - 1; // protobuf bytes allowed
const ownLimit = 1024 * 1024 - 16 - 4; // the package's KINESIS_MAX_PAYLOAD_BYTES

const raw = fs.readFileSync(file);
const records = [];
for (let pos = 0; pos < raw.length;) {
  const pkLen = raw.readUInt16LE(pos);
  const partitionKey = raw.toString('utf8', pos + 2, pos + 2 + pkLen);
  pos += 2 + pkLen;
  const dataLen = raw.readUInt32LE(pos);
  records.push({ partitionKey, data: raw.subarray(pos + 4, pos + 4 + dataLen) });
  pos += 4 + dataLen;
}

function pass() {
  const a = new agg.RecordAggregator();
  let aggregates = 0, bytes = 0;
  const emit = () => { const e = a.build(); aggregates++; bytes += e.data.length; };
  if (limit >= ownLimit) {
    for (const r of records) {
      try { a.addUserRecord(r); } catch (e) { emit(); a.addUserRecord(r); }
    }
  } else {
    for (const r of records) {
      if (a.totalBytes + a.calculateUserRecordSize(r) > limit) emit();
      a.addUserRecord(r);
    }
  }
  emit();
  return { aggregates, bytes };
}

const first = pass();
console.error(`aws-kinesis-agg: ${records.length} records in ${first.aggregates} aggregates, ${first.bytes} bytes`);
const t0 = process.hrtime.bigint();
let n = 0, t;
do {
  pass();
  n += records.length;
  t = Number(process.hrtime.bigint() - t0) / 1e9;
} while (t < seconds);
console.log(Math.round(n / t));
