// A slow writer: lines "w <n> <ms since epoch> <padding>" to stdout at a
// steady rate, each logged to --log once write() took it (into the pipe),
// so a test knows what was written and when. Stops after --count lines
// (none: until killed or the reader goes away).
//   node writer.js --rate LINES_PER_S --log FILE [--count N] [--size BYTES]
'use strict';
const fs = require('fs');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const rate = Number(args.rate || 10), count = args.count ? Number(args.count) : Infinity;
const size = Number(args.size || 60);
const log = fs.openSync(args.log, 'w');
const start = Date.now();
let n = 0;

function next() {
  if (n >= count) return process.exit(0);
  const head = `w ${n} ${Date.now()} `;
  const line = head + 'x'.repeat(Math.max(0, size - head.length - 1)) + '\n';
  for (let buf = Buffer.from(line); buf.length;) {
    try {
      buf = buf.subarray(fs.writeSync(1, buf)); // blocks while the pipe is full: the reader's backpressure
    } catch (e) {
      if (e.code !== 'EAGAIN') process.exit(0); // EPIPE: the reader is gone
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
  fs.writeSync(log, `${n} ${Date.now()}\n`);
  n++;
  setTimeout(next, Math.max(0, start + n * 1000 / rate - Date.now()));
}
process.on('SIGTERM', () => process.exit(0));
next();
