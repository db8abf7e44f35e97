// Reads the fault proxy's log and checks what the producer sent again:
// every user record of a failed entry or failed request is sent again
// later, and no record of an entry that was delivered is ever sent again.
// A request the proxy answered but whose client had gone ("lost": it timed
// out) counts as failed for the producer, which sends it again; the stream
// then holds those records twice (at-least-once).
//   node faults_check.js LOG STREAM
'use strict';
const fs = require('fs');
const lines = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
  .filter((r) => r.stream === process.argv[3]);
const delivered = new Set(), pending = new Map(); // id -> request that failed it
const outcomes = {};
let passed = 0, failed = 0, entriesFailed = 0;
const fail = (why) => { if (failed++ < 10) console.error(why); };
lines.sort((a, b) => a.n - b.n);
for (const r of lines) {
  outcomes[r.outcome] = (outcomes[r.outcome] || 0) + 1;
  for (const e of r.entries) {
    for (const id of e.ids) {
      if (delivered.has(id)) fail(`record ${id} sent again in request ${r.n} after it was delivered`);
      pending.delete(id); // a failed record came back
      if (r.outcome !== 'ok' || e.result !== 'ok') pending.set(id, r.n);
      else { delivered.add(id); passed++; }
    }
    if (r.outcome === 'ok' && e.result !== 'ok') entriesFailed++;
  }
}
for (const [id, n] of pending) fail(`record ${id} failed in request ${n} and was never sent again`);
console.error(`faults: ${lines.length} PutRecords requests: ${JSON.stringify(outcomes)}; ${entriesFailed} entries failed one by one`);
if (outcomes.lost) console.error(`faults: ${outcomes.lost} answers came after the producer's time limit: their records were sent again`);
if (!outcomes['503'] || !outcomes['500'] || !outcomes.reset || !outcomes.stall || !entriesFailed)
  fail('not every kind of fault happened: run more records');
console.log(`faults: ${passed} passed, ${failed} failed`);
process.exit(failed || !passed ? 1 : 0);
