// A quiet log: writes --count lines into a FIFO at --rate lines/s and, at
// the same time, reads the stream (GetRecords every 200 ms on each shard)
// to see when each line arrives. The FIFO stays open (no end of input)
// until every line was seen or --wait-ms passed after the last. Prints each
// line's delay from its write to its being readable, and fails when any is
// over --max-ms or missing.
//   node trickle.js --fifo PATH --endpoint URL --stream NAME --count N --rate R --max-ms MS
'use strict';
const fs = require('fs');
const path = require('path');
const { client, listShards, userRecords } = require('./kread');
const { GetShardIteratorCommand, GetRecordsCommand } =
  require(path.join(__dirname, '..', 'node_modules', '@aws-sdk/client-kinesis'));

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const count = Number(args.count || 10), rate = Number(args.rate || 2), maxMs = Number(args['max-ms'] || 2000);
const waitMs = Number(args['wait-ms'] || 5000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

(async () => {
  const c = client(args.endpoint);
  // where each shard's reading starts: now, before anything is written
  const its = new Map();
  for (const s of await listShards(c, args.stream))
    its.set(s.ShardId, (await c.send(new GetShardIteratorCommand({ StreamName: args.stream, ShardId: s.ShardId,
                                                                   ShardIteratorType: 'LATEST' }))).ShardIterator);
  const fd = fs.openSync(args.fifo, 'w'); // kinagg-cat has it open for reading
  const written = new Map(), seen = new Map();
  let done = false, last = 0;
  const reader = (async () => {
    while (!done) {
      for (const [id, it] of its) {
        if (!it) continue;
        const r = await c.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10000 }));
        its.set(id, r.NextShardIterator);
        for (const rec of r.Records)
          for (const d of userRecords(rec.Data)) {
            const m = /^trickle (\d+) /.exec(d.toString('latin1'));
            if (m && !seen.has(Number(m[1]))) seen.set(Number(m[1]), Date.now());
          }
      }
      await sleep(200);
    }
  })();
  const start = Date.now();
  for (let i = 0; i < count; i++) {
    await sleep(Math.max(0, start + i * 1000 / rate - Date.now()));
    fs.writeSync(fd, `trickle ${i} ${'q'.repeat(40)}\n`);
    written.set(i, Date.now());
    last = Date.now();
  }
  while (seen.size < count && Date.now() - last < waitMs) await sleep(100);
  done = true;
  await reader;
  let fail = 0, worst = 0;
  for (let i = 0; i < count; i++) {
    const d = seen.has(i) ? seen.get(i) - written.get(i) : Infinity;
    worst = Math.max(worst, d);
    if (!(d <= maxMs)) { fail++; console.log(`line ${i}: ${seen.has(i) ? `${d} ms` : 'never seen'}`); }
  }
  console.log(`trickle: ${count} lines at ${rate}/s, ${seen.size} seen while the input stayed open, ` +
              `slowest ${worst} ms (limit ${maxMs} ms)`);
  fs.closeSync(fd); // now the end of input
  process.exit(fail ? 1 : 0);
})().catch((e) => { console.log(`trickle: ${e.name || ''} ${e.message}`); process.exit(1); });
